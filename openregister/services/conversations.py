import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, Integer, Row, Select, Table, bindparam, insert, select

from ..database import read
from ..errors import BadRequest, Forbidden, NotFound
from ..extensions import db
from ..models import Agent, Caller, Conversation, Message
from ..models.base import utcnow
from ..models.message import MESSAGE_COUNT, OWNER_NAME
from ..pagination import Listing, Window, paginate
from .agents import find_usable_agent
from .lookup import Ref, equals_or_null, find_by_ref, find_row_by_ref
from .organisations import active_organisation_id, is_member
from .search import SortKey, search_conversations, search_messages
from .search_text import Query, query_words

DEFAULT_TITLE = "New Conversation"


# Rows as inserted, with the values the wire shows: the write paths answer from these, loading no ORM objects.
@dataclass(frozen=True, slots=True)
class InsertedConversation:
    id: int
    uuid: str
    slug: str
    title: str
    user_id: int
    owner_name: str
    organisation_id: int | None
    agent_id: int | None
    metadata_: dict[str, Any]
    deleted_at: None
    created: datetime
    updated: datetime
    message_count: int


@dataclass(frozen=True, slots=True)
class InsertedMessage:
    id: int
    uuid: str
    conversation_id: int
    role: str
    content: str
    sources: list[dict[str, Any]]
    created: datetime


def get_conversation_for(actor: Caller, ref: Ref, *, write: bool = False) -> Conversation:
    """The conversation `ref` names, if the actor may read it (or, with write=True, change it).

    Raises NotFound for an unknown one, or one in an organisation the actor is not in;
    Forbidden for one the actor may know of but not touch.
    """
    return _accessible(actor, ref, find_by_ref(Conversation, ref), write=write)


def get_conversation_row_for(actor: Caller, ref: Ref, *, write: bool = False, stmt: Select[Any] | None = None) -> Row[Any]:
    """As get_conversation_for, as a row of `stmt`: a select from the conversations built once, with their
    user_id and organisation_id; by default the conversation as the wire shows it (CONVERSATION_ROW)."""
    found = find_row_by_ref(CONVERSATION_ROW if stmt is None else stmt, _conversations, ref)
    return _accessible(actor, ref, found, write=write)


C = TypeVar("C", Conversation, Row[Any])


def _accessible(actor: Caller, ref: Ref, conversation: C | None, *, write: bool) -> C:
    if conversation is None:
        raise NotFound("Conversation not found", f"No conversation {ref}.", code="conversation_not_found")
    if conversation.user_id == actor.id:
        if write or conversation.organisation_id == active_organisation_id(actor):
            return conversation
        if is_member(actor, conversation.organisation_id):
            raise Forbidden(
                "Access denied", "This conversation belongs to an organisation that is not your active one.",
                code="access_denied",
            )
        # Your own, but in an organisation you have left: as for any organisation you are not in.
        raise NotFound("Conversation not found", f"No conversation {ref}.", code="conversation_not_found")
    if is_member(actor, conversation.organisation_id):
        raise Forbidden("Access denied", "This conversation belongs to another user.", code="access_denied")
    raise NotFound("Conversation not found", f"No conversation {ref}.", code="conversation_not_found")


_conversations, _messages = Conversation.__table__, Message.__table__

# What the wire shows of a conversation, as rows: the read paths load no ORM objects.
CONVERSATION_ROW = select(
    *(_conversations.c[name] for name in ("id", "uuid", "slug", "title", "user_id", "organisation_id", "agent_id")),
    _conversations.c.metadata.label("metadata_"),
    _conversations.c.deleted_at,
    _conversations.c.created,
    _conversations.c.updated,
    OWNER_NAME.label("owner_name"),
    MESSAGE_COUNT.label("message_count"),
)
# What paging a conversation's messages needs of it: who may read them, and how many there are.
_CONVERSATION_TO_PAGE = select(
    *(_conversations.c[name] for name in ("id", "user_id", "organisation_id")), MESSAGE_COUNT.label("message_count")
)
MESSAGE_ROW = select(
    *(_messages.c[name] for name in ("id", "uuid", "conversation_id", "role", "content", "sources", "created"))
)


_INSERT_CONVERSATION = insert(cast(Table, _conversations)).returning(
    *(_conversations.c[name] for name in ("id", "uuid", "slug", "created", "updated"))
)
_INSERT_MESSAGE = insert(cast(Table, _messages)).returning(*(_messages.c[name] for name in ("id", "uuid", "created")))


def _scope(user_id: Any, organisation_id: Any, archived: bool | None) -> list[ColumnElement[bool]]:
    c = _conversations.c
    scope = [c.user_id == user_id, equals_or_null(c.organisation_id, organisation_id)]
    if archived is not None:
        scope.append(c.deleted_at.is_not(None) if archived else c.deleted_at.is_(None))
    return scope


@cache
def _conversation_listing(archived: bool | None, in_organisation: bool) -> Listing:
    # Built once for each kind of list (a statement built per request costs more than running it).
    organisation = bindparam("organisation_id", type_=Integer) if in_organisation else None
    newest = _conversations.c.deleted_at if archived else _conversations.c.updated
    return Listing.of(
        CONVERSATION_ROW.where(*_scope(bindparam("user_id", type_=Integer), organisation, archived))
        .order_by(newest.desc(), _conversations.c.id.desc()),
        entities=False,
    )


@cache
def _message_listing(newest_first: bool) -> Listing:
    order = (_messages.c.created.desc(), _messages.c.id.desc()) if newest_first else (_messages.c.created, _messages.c.id)
    return Listing.of(
        MESSAGE_ROW.where(_messages.c.conversation_id == bindparam("conversation_id", type_=Integer)).order_by(*order),
        entities=False,
    )


def list_conversations(
    actor: Caller, page: Window, *, archived: bool | None = False, search: str | None = None
) -> dict[str, Any]:
    """The actor's conversations in the active organisation: archived=False active ones, True the archive, None both.

    A `search` with words keeps those whose title, or one of whose messages, has them all (see services.search).
    """
    organisation_id = active_organisation_id(actor)
    words = query_words(search)
    if words:
        def order(conversation_id: int, updated: datetime, deleted_at: datetime | None) -> SortKey:
            return (deleted_at, conversation_id) if archived else (updated, conversation_id)

        scope = _scope(actor.id, organisation_id, archived)
        return search_conversations(actor.id, scope, order, page, Query(tuple(words)))
    listing = _conversation_listing(archived, organisation_id is not None)
    return paginate(listing, page, {"user_id": actor.id, "organisation_id": organisation_id})


def unique_title(actor: Caller, agent_id: int | None, base: str) -> str:
    """`base`, or `base (N)` with the smallest free N, among the actor's active conversations with this agent."""
    taken = set(
        db.session.scalars(
            select(Conversation.title).where(
                Conversation.user_id == actor.id,
                Conversation.deleted_at.is_(None),
                equals_or_null(Conversation.agent_id, agent_id),
                Conversation.title.startswith(base, autoescape=True),
            )
        )
    )
    if base not in taken:
        return base
    number = 2
    while f"{base} ({number})" in taken:
        number += 1
    return f"{base} ({number})"


def is_default_title(title: str) -> bool:
    return re.fullmatch(re.escape(DEFAULT_TITLE) + r"( \(\d+\))?", title) is not None


def resolve_agent(actor: Caller, *, agent_uuid: str | None = None, agent_id: int | None = None) -> Agent | None:
    ref = agent_uuid if agent_uuid not in (None, "") else agent_id
    if ref is None:
        return None
    agent = find_usable_agent(actor, ref)
    if agent is None:
        raise BadRequest("Agent not found", f"No agent {ref} that you may use.", code="agent_not_found")
    return agent


def create_conversation(actor: Caller, *, title: str | None = None, metadata: dict[str, Any] | None = None,
                        agent: Agent | None = None) -> Conversation:
    """A conversation in the actor's active organisation, for services that go on to change it."""
    return db.session.get_one(Conversation, insert_conversation(actor, title=title, metadata=metadata, agent=agent).id)


def insert_conversation(actor: Caller, *, title: str | None = None, metadata: dict[str, Any] | None = None,
                        agent: Agent | None = None) -> InsertedConversation:
    """A conversation in the actor's active organisation, as the wire shows it; no title means a unique
    default one. One INSERT ... RETURNING of what the database and the columns' defaults chose, no
    unit of work (the counters and the search index follow by trigger)."""
    agent_id = agent.id if agent else None
    title = title.strip() if title and title.strip() else unique_title(actor, agent_id, DEFAULT_TITLE)
    organisation_id = active_organisation_id(actor)
    metadata = metadata or {}
    chosen = db.session.execute(_INSERT_CONVERSATION, {
        "title": title, "user_id": actor.id, "organisation_id": organisation_id, "agent_id": agent_id,
        "metadata": metadata,
    }).one()
    # The rest is known without reading it back: the metadata as given (PostgreSQL's JSONB would
    # return its keys reordered), not archived, no messages, the actor's name.
    return InsertedConversation(
        id=chosen.id, uuid=chosen.uuid, slug=chosen.slug, title=title, user_id=actor.id, owner_name=actor.username,
        organisation_id=organisation_id, agent_id=agent_id, metadata_=metadata, deleted_at=None,
        created=chosen.created, updated=chosen.updated, message_count=0,
    )


def update_conversation(conversation: Conversation, *, title: str | None = None,
                        metadata: dict[str, Any] | None = None) -> Conversation:
    if title is not None:
        conversation.title = title.strip()
    if metadata is not None:
        conversation.metadata_ = metadata
    conversation.updated = utcnow()
    db.session.flush()
    return conversation


def archive_conversation(conversation: Conversation) -> Conversation:
    conversation.archive(at=utcnow())
    db.session.flush()
    return conversation


def restore_conversation(conversation: Conversation) -> Conversation:
    conversation.restore()
    db.session.flush()
    return conversation


def destroy_conversation(conversation: Conversation) -> None:
    """Delete for good; the database cascades to its messages and their feedback."""
    db.session.delete(conversation)
    db.session.flush()


def delete_conversation(conversation: Conversation) -> bool:
    """The two-stage delete the UI relies on: archive an active conversation, destroy an archived one.

    Returns whether it was archived (True) or destroyed (False).
    """
    if conversation.is_archived:
        destroy_conversation(conversation)
        return False
    archive_conversation(conversation)
    return True


def add_message(conversation_id: int, role: str, content: str,
                sources: list[dict[str, Any]] | None = None) -> InsertedMessage:
    """A new message in the conversation: one INSERT ... RETURNING of what the columns' defaults chose,
    no unit of work (the counters and the search index follow by trigger)."""
    sources = sources or []
    chosen = db.session.execute(_INSERT_MESSAGE, {
        "conversation_id": conversation_id, "role": role, "content": content, "sources": sources,
    }).one()
    # The sources as given: PostgreSQL's JSONB would return their keys reordered.
    return InsertedMessage(id=chosen.id, uuid=chosen.uuid, conversation_id=conversation_id, role=role, content=content,
                           sources=sources, created=chosen.created)


def latest_messages(conversation_id: int, limit: int) -> list[Row[Any]]:
    """The newest `limit` messages (rows) of a conversation, in chronological order."""
    newest_first = read(_message_listing(True).rows, {"conversation_id": conversation_id, "limit": limit, "offset": 0})
    return list(reversed(newest_first))


def page_messages_for(actor: Caller, ref: Ref, page: Window, *, order: str = "latest",
                      search: str | None = None) -> dict[str, Any]:
    """A page of the messages of the conversation `ref` names, if the actor may read it (see page_messages)."""
    conversation = get_conversation_row_for(actor, ref, stmt=_CONVERSATION_TO_PAGE)
    return page_messages(conversation, page, order=order, search=search)


def page_messages(
    conversation: Conversation | Row[Any], page: Window, *, order: str = "latest", search: str | None = None
) -> dict[str, Any]:
    """A page of messages, always chronological; with order="latest" the offset counts back from the newest.

    A `search` with words keeps only the messages that have them all.
    """
    words = query_words(search)
    if words:
        result = search_messages(conversation, page, newest_first=order == "latest", query=Query(tuple(words)))
    else:
        # The conversation was read with its message count: the page needs no count of its own.
        result = paginate(_message_listing(order == "latest"), page, {"conversation_id": conversation.id},
                          total=conversation.message_count)
    if order == "latest":
        result["results"] = list(reversed(result["results"]))
    result["has_more"] = page.offset + len(result["results"]) < result["total"]
    return result
