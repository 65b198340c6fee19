"""`_search`: the database's full-text index finds the candidates, the word rules decide.

Every query starts from the caller: on SQLite it reads only the caller's rowid range of the FTS5
tables, on PostgreSQL it joins from the caller's conversations (the listing index) to their
messages and tests their stored tsvector. Nobody else's rows are read, counted or ranked; the
order is the list's own, never a relevance score.
"""

from collections.abc import Callable

from sqlalchemy import ColumnElement, Select, literal_column, select, text

from ..extensions import db
from ..models import Conversation, Message
from ..models.search_index import ID_BITS
from ..pagination import Window
from .search_text import Query, snippet

# The SQLite FTS5 query reads the last word's first letters from the prefix index (1 to 3 characters).
PREFIX_INDEX_LENGTH = 3


def _fts5_query(query: Query) -> str:
    terms = [f'"{word}"' for word in query.exact]
    return " AND ".join(terms + [f'"{query.prefix[:PREFIX_INDEX_LENGTH]}"*'])


def _tsquery(query: Query) -> str:
    return " & ".join(list(query.exact) + [f"{query.prefix}:*"])


def _matching(kind: str, row_id, user_id: int, query: Query) -> ColumnElement:
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
    user_id: int, scope: list[ColumnElement], order: Callable, page: Window, query: Query
) -> dict:
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
    found: dict[int, dict] = {}
    for row in messages:
        if not query.matches(row.content):
            continue
        entry = found.setdefault(row.conversation_id, {"key": order(row.conversation_id, row.updated, row.deleted_at)})
        if "message" not in entry or (row.created, row.id) > (entry["message"].created, entry["message"].id):
            entry["message"] = row
    for row in titles:
        if query.matches(row.title):
            found.setdefault(row.id, {"key": order(row.id, row.updated, row.deleted_at)})["title"] = row.title
    ranked = sorted(found, key=lambda conversation_id: found[conversation_id]["key"], reverse=True)
    page_ids = ranked[page.offset:page.offset + page.limit]
    results = _load(Conversation, page_ids)
    for conversation in results:
        entry = found[conversation.id]
        message = entry.get("message")
        shown = snippet(message.content if message else entry["title"], query)
        conversation.match = {"message_id": message.id if message else None, **shown}
    return {"results": results, "total": len(ranked), "limit": page.limit, "offset": page.offset}


def search_messages(conversation: Conversation, page: Window, *, newest_first: bool, query: Query) -> dict:
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


def _load(model, ids: list[int]) -> list:
    """The rows with these ids, in this order, in one statement (none when there are no ids)."""
    if not ids:
        return []
    stmt: Select = select(model).where(model.id.in_(ids))
    rows = {row.id: row for row in db.session.scalars(stmt)}
    return [rows[row_id] for row_id in ids]
