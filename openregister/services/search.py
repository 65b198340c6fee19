"""`_search`: the database's full-text index finds the candidates, the word rules decide.

Every query starts from the caller: on SQLite it reads only the caller's rowid range of the FTS5
tables, on PostgreSQL it joins from the caller's conversations (the listing index) to their
messages and tests their stored tsvector. Nobody else's rows are read, counted or ranked; the
order is the list's own, never a relevance score.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import ColumnElement, Row, TextClause, inspect, literal_column, select, text
from sqlalchemy.orm import QueryableAttribute

from ..extensions import db
from ..models import Conversation, Message
from ..models.search_index import ID_BITS
from ..pagination import Window
from ..schemas.dumping import WithValues
from .search_text import Query, snippet

# The SQLite FTS5 query reads the last word's first letters from the prefix index (1 to 3 characters).
PREFIX_INDEX_LENGTH = 3

# A conversation's place in its list, from (id, updated, deleted_at): larger is newer.
SortKey = tuple[datetime | None, int]
ConversationOrder = Callable[[int, datetime, datetime | None], SortKey]
# A match: the newest matching message of a conversation, from the query in search_conversations.
MatchRow = Row[int, int, str, datetime, datetime, datetime | None]


class HasId(Protocol):
    id: int


R = TypeVar("R", bound=HasId)


@dataclass
class _Found:
    """A conversation that matches: its sort key, its newest matching message, its title when that matches."""

    key: SortKey
    message: MatchRow | None = None
    title: str | None = None


def _fts5_query(query: Query) -> str:
    terms = [f'"{word}"' for word in query.exact]
    return " AND ".join(terms + [f'"{query.prefix[:PREFIX_INDEX_LENGTH]}"*'])


def _tsquery(query: Query) -> str:
    return " & ".join(list(query.exact) + [f"{query.prefix}:*"])


def _matching(kind: str, row_id: QueryableAttribute[int], user_id: int, query: Query) -> ColumnElement[bool] | TextClause:
    """The condition that the index has the row: kind "message" (Message.id) or "title" (Conversation.id)."""
    if db.session.get_bind().dialect.name == "sqlite":
        table = f"{kind}_search"
        low = user_id << ID_BITS
        ids = text(
            f"SELECT rowid & {(1 << ID_BITS) - 1} FROM {table} "
            f"WHERE {table} MATCH :fts AND rowid BETWEEN :low AND :high"
        ).bindparams(fts=_fts5_query(query), low=low, high=low + (1 << ID_BITS) - 1)
        return row_id.in_(ids.columns(literal_column("id")))
    vector = "messages.search_vector" if kind == "message" else "conversations.search_vector"
    return text(f"{vector} @@ to_tsquery('pg_catalog.simple', openregister_unaccent(:tsquery_{kind}))").bindparams(
        **{f"tsquery_{kind}": _tsquery(query)}
    )


def search_conversations(
    user_id: int, scope: Sequence[ColumnElement[bool]], order: ConversationOrder, page: Window, query: Query
) -> dict[str, Any]:
    """The page of the conversations within `scope` whose title, or one of whose messages, has every word.

    `order` is the list's sort key for rows with (id, updated, deleted_at), newest first.
    Each result gets `match`: the newest matching message, else the title, with a snippet.
    """
    messages = db.session.execute(
        select(Message.id, Message.conversation_id, Message.content, Message.created,
               Conversation.updated, Conversation.deleted_at)
        .join(Conversation, Message.conversation_id == Conversation.id)
        .where(*scope, _matching("message", Message.id, user_id, query))
    ).all()
    titles = db.session.execute(
        select(Conversation.id, Conversation.title, Conversation.updated, Conversation.deleted_at)
        .where(*scope, _matching("title", Conversation.id, user_id, query))
    ).all()
    found: dict[int, _Found] = {}
    for row in messages:
        if not query.matches(row.content):
            continue
        entry = found.setdefault(row.conversation_id, _Found(order(row.conversation_id, row.updated, row.deleted_at)))
        if entry.message is None or (row.created, row.id) > (entry.message.created, entry.message.id):
            entry.message = row
    for title in titles:
        if query.matches(title.title):
            found.setdefault(title.id, _Found(order(title.id, title.updated, title.deleted_at))).title = title.title
    ranked = sorted(found, key=lambda conversation_id: found[conversation_id].key, reverse=True)
    page_ids = ranked[page.offset:page.offset + page.limit]
    results = []
    for conversation in _load(Conversation, page_ids):
        entry = found[conversation.id]
        message = entry.message
        shown = snippet(message.content if message else entry.title or "", query)
        results.append(WithValues(conversation, match={"message_id": message.id if message else None, **shown}))
    return {"results": results, "total": len(ranked), "limit": page.limit, "offset": page.offset}


def search_messages(conversation: Conversation | Row[Any], page: Window, *, newest_first: bool, query: Query) -> dict[str, Any]:
    """The page of the conversation's messages that have every word, ordered as `page_messages` orders."""
    rows = db.session.execute(
        select(Message.id, Message.content, Message.created).where(
            Message.conversation_id == conversation.id,
            _matching("message", Message.id, conversation.user_id, query),
        )
    ).all()
    ranked = sorted(
        (row for row in rows if query.matches(row.content)), key=lambda row: (row.created, row.id), reverse=newest_first
    )
    page_ids = [row.id for row in ranked[page.offset:page.offset + page.limit]]
    return {"results": _load(Message, page_ids), "total": len(ranked), "limit": page.limit, "offset": page.offset}


def _load(model: type[R], ids: list[int]) -> list[R]:
    """The rows with these ids, in this order, in one statement (none when there are no ids)."""
    if not ids:
        return []
    stmt = select(model).where(inspect(model).columns["id"].in_(ids))
    rows = {row.id: row for row in db.session.scalars(stmt)}
    return [rows[row_id] for row_id in ids]
