"""Documents: upload into the active organisation, extract, cut into passages, index; list, read, delete."""

import logging
from pathlib import PurePath

from sqlalchemy import delete, select, update

from ..errors import BadRequest, Forbidden, NotFound
from ..extensions import db
from ..models import Document, Organisation, Passage, User
from ..pagination import Window, paginate
from ..providers.embeddings import EmbeddingError, OpenAICompatibleEmbeddings, to_bytes
from .extraction import ExtractionFailed, detect_type, extract_text, split_passages
from .lookup import find_by_ref
from .organisations import active_organisation_id, is_member

log = logging.getLogger(__name__)

NAME_LENGTH = 255


def document_name(name: str | None, filename: str | None) -> str:
    """The name given, else the file's name without any folders, cut to fit."""
    name = " ".join((name or "").split()) or PurePath((filename or "").replace("\\", "/")).name.strip()
    return (name or "document")[:NAME_LENGTH]


def upload_document(
    actor: User, *, data: bytes, filename: str | None, name: str | None, declared_type: str | None,
    embedder: OpenAICompatibleEmbeddings | None,
) -> Document:
    """Store a document in the actor's active organisation and index its passages.

    A document of an accepted type whose text cannot be read is stored with status "failed" and the
    reason in `error`. Raises BadRequest (no active organisation), UnsupportedMediaType (another type).
    """
    organisation_id = active_organisation_id(actor)
    if organisation_id is None:
        raise BadRequest(
            "No active organisation", "Join or create an organisation and make it active before you upload documents.",
            code="no_active_organisation",
        )
    return store_document(organisation_id, actor, data=data, filename=filename, name=name,
                          declared_type=declared_type, embedder=embedder)


def store_document(
    organisation_id: int, owner: User | None, *, data: bytes, filename: str | None, name: str | None,
    declared_type: str | None, embedder: OpenAICompatibleEmbeddings | None,
) -> Document:
    """upload_document without the actor's organisation: for the operator's import. Raises UnsupportedMediaType."""
    mime_type = detect_type(data, filename or name or "", declared_type)
    document = Document(
        name=document_name(name, filename), mime_type=mime_type, size=len(data), content=data,
        organisation_id=organisation_id, owner=owner, status="indexed", chunks=0,
    )
    db.session.add(document)
    db.session.flush()
    try:
        texts = split_passages(extract_text(data, mime_type))
    except ExtractionFailed as error:
        document.status, document.error = "failed", str(error)
        db.session.flush()
        return document
    add_passages(document, texts, embedder)
    return document


def add_passages(document: Document, texts: list[str], embedder: OpenAICompatibleEmbeddings | None) -> None:
    """The passages, with embeddings when the embedding server answers (keyword retrieval needs none)."""
    embeddings = embed_or_log(embedder, texts, f"document {document.uuid}")
    for position, text in enumerate(texts):
        db.session.add(Passage(
            document_id=document.id, organisation_id=document.organisation_id, position=position, text=text,
            embedding=None if embeddings is None else to_bytes(embeddings[position]),
            embedding_model=None if embeddings is None else embedder.model,
        ))
    document.chunks = len(texts)
    db.session.flush()


def embed_or_log(embedder, texts: list[str], what: str):
    if embedder is None or not texts:
        return None
    try:
        return embedder.embed(texts)
    except EmbeddingError as error:
        log.warning("Embeddings of %s skipped, it is indexed for keyword retrieval only: %s", what, error)
        return None


def get_document_for(actor: User, ref) -> Document:
    """The document `ref` names if the actor is a member of its organisation; else NotFound."""
    document = find_by_ref(Document, ref)
    if document is None or not is_member(actor, document.organisation_id):
        raise NotFound("Document not found", f"No document {ref}.", code="document_not_found")
    return document


def list_documents(actor: User, page: Window, *, search: str | None = None) -> dict:
    """The active organisation's documents, newest first; none without an active organisation."""
    organisation_id = active_organisation_id(actor)
    stmt = select(Document).where(Document.organisation_id == organisation_id)
    if search and search.strip():
        pattern = "%" + search.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(db.func.lower(Document.name).like(pattern, escape="\\"))
    return paginate(stmt.order_by(Document.created.desc(), Document.id.desc()), page)


def delete_document(actor: User, document: Document) -> None:
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


def reindex_passages(organisation_id: int | None, embedder: OpenAICompatibleEmbeddings, *, progress=None) -> int:
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
