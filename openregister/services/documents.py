"""Documents: upload into the active organisation, extract, cut into passages, index; list, read, delete."""

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from sqlalchemy import delete, select, update

from ..errors import BadRequest, Forbidden, NotFound
from ..extensions import db
from ..models import Caller, Document, Organisation, Passage
from ..pagination import Window, paginate
from ..providers.embeddings import EmbeddingError, OpenAICompatibleEmbeddings, Vectors, to_bytes
from .extraction import ExtractionFailed, detect_type, extract_text, split_passages
from .lookup import Ref, find_by_ref
from .organisations import active_organisation_id, is_member

log = logging.getLogger(__name__)

NAME_LENGTH = 255


def document_name(name: str | None, filename: str | None) -> str:
    """The name given, else the file's name without any folders, cut to fit."""
    name = " ".join((name or "").split()) or PurePath((filename or "").replace("\\", "/")).name.strip()
    return (name or "document")[:NAME_LENGTH]


@dataclass(frozen=True)
class PreparedDocument:
    """A document read, cut and embedded, before any row is written: the slow part, outside any transaction."""

    data: bytes
    name: str
    mime_type: str
    passages: list[str] = field(default_factory=list)
    embeddings: Vectors | None = None
    embedding_model: str | None = None
    error: str | None = None


def prepare_document(
    *, data: bytes, filename: str | None, name: str | None, declared_type: str | None,
    embedder: OpenAICompatibleEmbeddings | None,
) -> PreparedDocument:
    """Recognise, extract, cut and embed a document; touches no database.

    A document of an accepted type without readable text is prepared with the reason in `error`.
    An embedding server that fails leaves the passages without embeddings (keyword retrieval needs
    none), and is logged. Raises UnsupportedMediaType for another type.
    """
    mime_type = detect_type(data, filename or name or "", declared_type)
    name = document_name(name, filename)
    try:
        texts = split_passages(extract_text(data, mime_type))
    except ExtractionFailed as error:
        return PreparedDocument(data, name, mime_type, error=str(error))
    embeddings = embed_or_log(embedder, texts, f"document {name!r}")
    model = embedder.model if embedder is not None and embeddings is not None else None
    return PreparedDocument(data, name, mime_type, texts, embeddings, model)


def upload_document(actor: Caller, prepared: PreparedDocument) -> Document:
    """Store a prepared document in the actor's active organisation, with its passages.

    Raises BadRequest when the actor has no active organisation.
    """
    organisation_id = active_organisation_id(actor)
    if organisation_id is None:
        raise BadRequest(
            "No active organisation", "Join or create an organisation and make it active before you upload documents.",
            code="no_active_organisation",
        )
    return store_document(organisation_id, actor.id, prepared)


def store_document(organisation_id: int, owner_id: int | None, prepared: PreparedDocument) -> Document:
    """A prepared document and its passages in an organisation (the operator's import names it)."""
    document = Document(
        name=prepared.name, mime_type=prepared.mime_type, size=len(prepared.data), content=prepared.data,
        organisation_id=organisation_id, owner_id=owner_id, status="failed" if prepared.error else "indexed",
        error=prepared.error, chunks=len(prepared.passages),
    )
    db.session.add(document)
    db.session.flush()
    for position, text in enumerate(prepared.passages):
        embedding = None if prepared.embeddings is None else to_bytes(prepared.embeddings[position])
        db.session.add(Passage(
            document_id=document.id, organisation_id=organisation_id, position=position, text=text,
            embedding=embedding, embedding_model=prepared.embedding_model,
        ))
    db.session.flush()
    return document


def embed_or_log(embedder: OpenAICompatibleEmbeddings | None, texts: Sequence[str], what: str) -> Vectors | None:
    if embedder is None or not texts:
        return None
    try:
        return embedder.embed(texts)
    except EmbeddingError as error:
        log.warning("Embeddings of %s skipped, it is indexed for keyword retrieval only: %s", what, error)
        return None


def get_document_for(actor: Caller, ref: Ref) -> Document:
    """The document `ref` names if the actor is a member of its organisation; else NotFound."""
    document = find_by_ref(Document, ref)
    if document is None or not is_member(actor, document.organisation_id):
        raise NotFound("Document not found", f"No document {ref}.", code="document_not_found")
    return document


def list_documents(actor: Caller, page: Window, *, search: str | None = None) -> dict[str, Any]:
    """The active organisation's documents, newest first; none without an active organisation."""
    organisation_id = active_organisation_id(actor)
    stmt = select(Document).where(Document.organisation_id == organisation_id)
    if search and search.strip():
        pattern = "%" + search.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(db.func.lower(Document.name).like(pattern, escape="\\"))
    return paginate(stmt.order_by(Document.created.desc(), Document.id.desc()), page)


def delete_document(actor: Caller, document: Document) -> None:
    """Remove a document and its passages; only its uploader or the organisation's owner may.

    Raises Forbidden for other members.
    """
    owner_id = db.session.scalar(select(Organisation.owner_id).where(Organisation.id == document.organisation_id))
    if actor.id not in (document.owner_id, owner_id):
        raise Forbidden(
            "Access denied", "Only the uploader or the organisation's owner may delete a document.", code="access_denied"
        )
    db.session.execute(delete(Passage).where(Passage.document_id == document.id))
    db.session.delete(document)
    db.session.flush()


def reindex_passages(organisation_id: int | None, embedder: OpenAICompatibleEmbeddings, *,
                     progress: Callable[[int], object] | None = None) -> int:
    """Recompute every passage's embedding (of one organisation, or all); returns how many were embedded.

    Raises EmbeddingError when the server fails; the caller commits batch by batch.
    """
    stmt = select(Passage.id, Passage.text).order_by(Passage.id)
    if organisation_id is not None:
        stmt = stmt.where(Passage.organisation_id == organisation_id)
    rows = db.session.execute(stmt).all()
    done = 0
    for start in range(0, len(rows), 64):
        batch = rows[start:start + 64]
        vectors = embedder.embed([text for _, text in batch])
        for (passage_id, _), vector in zip(batch, vectors):
            db.session.execute(update(Passage).where(Passage.id == passage_id).values(
                embedding=to_bytes(vector), embedding_model=embedder.model))
        db.session.flush()
        done += len(batch)
        if progress:
            progress(len(batch))
    return done
