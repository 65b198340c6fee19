"""Export and import of conversations: our document format, NDJSON of it, and ChatGPT's export.

A document: {"format": "openregister.conversation", "version": 1, "exported", "conversation": {...},
"messages": [...]}, with the exporting user's own feedback on each message.
"""

import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypedDict
from urllib.parse import quote

from marshmallow import ValidationError
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from ..errors import ApiError, BadRequest
from ..extensions import db
from ..models import Caller, Conversation, Feedback, Message
from ..models.base import utcnow
from ..pagination import count
from ..schemas.base import isoformat
from ..schemas.transfer import DocumentSchema, ImportedConversation
from . import chatgpt
from .import_errors import InvalidDocument
from .agents import find_usable_agent
from .lookup import equals_or_null
from .organisations import active_organisation_id

FORMAT = "openregister.conversation"
VERSION = 1
EXPORT_BATCH_SIZE = 100
NDJSON = "application/x-ndjson"
UNSAFE_FILE_NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]")
# Line breaks to Python's str.splitlines() and to JavaScript's older parsers that JSON leaves unescaped:
# escaped in NDJSON so that a line is a line to every reader.
LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


class ExportedFeedback(TypedDict):
    type: str
    comment: str | None


class ExportedMessage(TypedDict):
    role: str
    content: str
    sources: list[dict[str, Any]]
    created: str
    feedback: ExportedFeedback | None


class ExportedAgent(TypedDict):
    uuid: str
    name: str


# camelCase keys, as on the wire
ExportedConversation = TypedDict("ExportedConversation", {
    "uuid": str, "title": str, "metadata": dict[str, Any], "created": str, "updated": str, "deletedAt": str | None,
    "agent": ExportedAgent | None,
})


class ExportDocument(TypedDict):
    format: str
    version: int
    exported: str
    conversation: ExportedConversation
    messages: list[ExportedMessage]


def _exportable(actor: Caller) -> Select[Conversation]:
    """The actor's conversations in the active organisation, archived ones included."""
    return select(Conversation).where(
        Conversation.user_id == actor.id,
        equals_or_null(Conversation.organisation_id, active_organisation_id(actor)),
    )


def count_exportable(actor: Caller) -> int:
    return count(_exportable(actor))


def _documents(actor: Caller, conversations: Sequence[Conversation], exported: str) -> list[ExportDocument]:
    """The export documents of a batch of conversations: two queries, whatever the batch's size."""
    ids = [conversation.id for conversation in conversations]
    messages = db.session.execute(
        select(Message.id, Message.conversation_id, Message.role, Message.content, Message.sources, Message.created)
        .where(Message.conversation_id.in_(ids))
        .order_by(Message.conversation_id, Message.created, Message.id)
    ).all()
    feedback: dict[int, ExportedFeedback] = {
        row.message_id: {"type": row.type, "comment": row.comment}
        for row in db.session.execute(
            select(Feedback.message_id, Feedback.type, Feedback.comment).where(
                Feedback.conversation_id.in_(ids), Feedback.user_id == actor.id
            )
        )
    }
    by_conversation: defaultdict[int, list[ExportedMessage]] = defaultdict(list)
    for message in messages:
        by_conversation[message.conversation_id].append({
            "role": message.role,
            "content": message.content,
            "sources": message.sources or [],
            "created": isoformat(message.created),
            "feedback": feedback.get(message.id),
        })
    return [
        {
            "format": FORMAT,
            "version": VERSION,
            "exported": exported,
            "conversation": {
                "uuid": conversation.uuid,
                "title": conversation.title,
                "metadata": conversation.metadata_ or {},
                "created": isoformat(conversation.created),
                "updated": isoformat(conversation.updated),
                "deletedAt": isoformat(conversation.deleted_at) if conversation.deleted_at else None,
                "agent": {"uuid": conversation.agent.uuid, "name": conversation.agent.name} if conversation.agent else None,
            },
            "messages": by_conversation[conversation.id],
        }
        for conversation in conversations
    ]


def export_document(actor: Caller, conversation: Conversation) -> ExportDocument:
    """One conversation (that the caller may read) as an export document."""
    return _documents(actor, [conversation], isoformat(utcnow()))[0]


def export_lines(actor: Caller, *, batch_size: int = EXPORT_BATCH_SIZE) -> Iterator[str]:
    """Every exportable conversation as one NDJSON line, read batch by batch (keyset on the id), so that
    memory stays flat however many there are."""
    exported = isoformat(utcnow())
    last_id = 0
    while True:
        batch = db.session.scalars(
            _exportable(actor).where(Conversation.id > last_id).options(joinedload(Conversation.agent))
            .order_by(Conversation.id).limit(batch_size)
        ).all()
        if not batch:
            return
        for document in _documents(actor, batch, exported):
            yield json.dumps(document, ensure_ascii=False, separators=(",", ":")).translate(LINE_BREAKS) + "\n"
        last_id = batch[-1].id
        # Nothing in the session refers to the batch any more, so it can go.
        for conversation in batch:
            db.session.expunge(conversation)
        del batch


def markdown(document: ExportDocument) -> str:
    """The title as a heading, then each message as a section with its role and time, content unchanged."""
    conversation = document["conversation"]
    parts = [f"# {conversation['title']}\n"]
    for message in document["messages"]:
        parts.append(f"\n## {message['role'].capitalize()} · {message['created']}\n\n{message['content']}\n")
    return "".join(parts)


def content_disposition(title: str, extension: str, *, fallback: str = "conversation") -> str:
    """attachment; with the title as a safe ASCII file name, and the title itself in filename*."""
    safe = UNSAFE_FILE_NAME_CHARACTERS.sub("-", title)[:100] or fallback
    original = (title or fallback) + extension
    return f"attachment; filename=\"{safe}{extension}\"; filename*=UTF-8''{quote(original, safe='')}"


def _first_problem(messages: object, path: tuple[str, ...] = ()) -> tuple[str, str]:
    """The dotted path and the text of the first problem in marshmallow's nested error messages."""
    if isinstance(messages, dict):
        key, value = next(iter(messages.items()))
        if key == "_schema":
            return _first_problem(value, path)
        return _first_problem(value, (*path, str(key)))
    if isinstance(messages, list) and messages:
        return _first_problem(messages[0], path) if not isinstance(messages[0], str) else (".".join(path), messages[0])
    return ".".join(path), str(messages)


def _ours(position: int, document: object) -> ImportedConversation:
    if not isinstance(document, dict):
        raise InvalidDocument(position, "", "A document must be a JSON object.")
    try:
        loaded: ImportedConversation = DocumentSchema().load(document)
        return loaded
    except ValidationError as error:
        raise InvalidDocument(position, *_first_problem(error.messages)) from None


def _parse(position: int, text: bytes, loads: Callable[[bytes], Any]) -> Any:
    try:
        return loads(text)
    except ApiError as error:  # the strict JSON reader's 400, with the position added
        raise InvalidDocument(position, "", error.message) from None


def read_import(body: bytes, media_type: str, loads: Callable[[bytes], Any]) -> list[ImportedConversation]:
    """Parse and check every document of an import body, before anything is written.

    `loads` is the app's strict JSON reader. JSON: one document of ours (an object) or ChatGPT's
    conversations.json (an array); NDJSON: one document of ours a non-blank line. Raises
    InvalidDocument (400) naming the first bad document's position and field.
    """
    if not body.strip():
        raise BadRequest("Invalid import", "The body is empty: send an export document, NDJSON or ChatGPT's "
                         "conversations.json.", code="invalid_import")
    if media_type == NDJSON:
        lines = [line for line in body.split(b"\n") if line.strip()]
        return [_ours(position, _parse(position, line, loads)) for position, line in enumerate(lines)]
    data = _parse(0, body, loads)
    if isinstance(data, list):
        now = utcnow()
        return [
            _ours(position, item) if isinstance(item, dict) and "format" in item and "mapping" not in item
            else chatgpt.read_conversation(position, item, now=now)
            for position, item in enumerate(data)
        ]
    return [_ours(0, data)]


def import_conversations(actor: Caller, documents: Iterable[ImportedConversation]) -> list[Conversation]:
    """Create the documents' conversations for the actor in the active organisation; flushes, never commits."""
    organisation_id = active_organisation_id(actor)
    now = utcnow()
    created = []
    for document in documents:
        agent = None
        agent_uuid = document.get("agent_uuid")
        if agent_uuid and not agent_uuid.isdigit():
            agent = find_usable_agent(actor, agent_uuid)
        conversation = Conversation(
            title=document["title"], user_id=actor.id, organisation_id=organisation_id,
            agent_id=agent.id if agent else None, metadata_=document.get("metadata") or {},
            created=document.get("created") or now, updated=document.get("updated") or document.get("created") or now,
            deleted_at=document.get("deleted_at"),
        )
        db.session.add(conversation)
        db.session.flush()
        messages = [
            Message(conversation_id=conversation.id, role=item["role"], content=item["content"],
                    sources=item.get("sources") or [], created=item.get("created") or now)
            for item in document["messages"]
        ]
        db.session.add_all(messages)
        db.session.flush()
        for message, item in zip(messages, document["messages"]):
            feedback = item.get("feedback")
            if feedback:
                db.session.add(Feedback(
                    message_id=message.id, conversation_id=conversation.id, agent_id=conversation.agent_id,
                    user_id=actor.id, organisation_id=organisation_id, type=feedback["type"],
                    comment=feedback.get("comment"),
                ))
        db.session.flush()
        created.append(conversation)
    return created
