"""The full-text index behind `_search`: SQL owned by the database, not by the models.

SQLite: two FTS5 tables, `message_search` (message contents) and `title_search` (conversation
titles), tokenised by `unicode61 remove_diacritics 2` (case and accent folding, no stemming), with
prefix indexes for 1 to 3 characters. The rowid is the owner's user id in the high 32 bits and the
row's own id in the low 32, so a search reads one user's range of the index and never anyone
else's postings (`MATCH ... AND rowid BETWEEN user << 32 AND ...`). Triggers keep both tables in
step in the writer's own transaction, whoever the writer is.

PostgreSQL: a generated `search_vector` tsvector column on `messages` and `conversations`
(`simple` configuration over `unaccent`ed text, punctuation turned into spaces), matched within
the caller's own rows, which the listing index (user, organisation) and the message paging index
find. Deliberately no GIN index over everyone's vectors: the planner prefers it for words it
thinks rare, and then reads every user's matches (1,954 rows for user1's 12 at 20,000
conversations, growing with the table). The `unaccent` extension is created in the `public`
schema (trusted since PostgreSQL 13, so the database owner may create it; otherwise a superuser
must, once).

Both are created by migration 0005 (which keeps its own copy of this SQL, except the statements
indexing the rows that exist, which it shares with `flask seed`) and, for databases
built with `create_all` (the tests), by the metadata hooks at the bottom. Migrations and
autogenerate ignore these objects through `is_search_object`.

SQLite batch migrations that rebuild `messages` or `conversations` drop their triggers: a later
migration doing that must create them again (`sqlite_statements()`).
"""

from collections.abc import Callable

from alembic.runtime.environment import NameFilterParentNames, NameFilterType
from sqlalchemy import Connection, MetaData, event
from sqlalchemy.schema import SchemaItem

from .document import is_search_index as is_passage_index

SEARCH_TABLES = ("message_search", "title_search")
SEARCH_COLUMN = "search_vector"
# Room for 2**32 rows of each kind per user in the SQLite rowid.
ID_BITS = 32

_FTS = "fts5(body, tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3')"
_MESSAGE_KEY = "(SELECT (c.user_id << 32) | {row}.id FROM conversations c WHERE c.id = {row}.conversation_id)"


def sqlite_trigger_statements() -> dict[str, str]:
    """The triggers that keep both tables in step, by name."""
    old_message = _MESSAGE_KEY.format(row="OLD")
    return {
        "messages_search_insert": """CREATE TRIGGER messages_search_insert AFTER INSERT ON messages BEGIN
            INSERT INTO message_search (rowid, body)
            SELECT (c.user_id << 32) | NEW.id, NEW.content FROM conversations c WHERE c.id = NEW.conversation_id;
        END""",
        "messages_search_update": f"""CREATE TRIGGER messages_search_update AFTER UPDATE OF content, conversation_id
        ON messages BEGIN
            DELETE FROM message_search WHERE rowid = {old_message};
            INSERT INTO message_search (rowid, body)
            SELECT (c.user_id << 32) | NEW.id, NEW.content FROM conversations c WHERE c.id = NEW.conversation_id;
        END""",
        # When the conversation itself goes, its BEFORE DELETE trigger has already done this.
        "messages_search_delete": f"""CREATE TRIGGER messages_search_delete AFTER DELETE ON messages BEGIN
            DELETE FROM message_search WHERE rowid = {old_message};
        END""",
        "conversations_search_insert": """CREATE TRIGGER conversations_search_insert AFTER INSERT ON conversations BEGIN
            INSERT INTO title_search (rowid, body) VALUES ((NEW.user_id << 32) | NEW.id, NEW.title);
        END""",
        "conversations_search_update": """CREATE TRIGGER conversations_search_update AFTER UPDATE OF title, user_id
        ON conversations BEGIN
            DELETE FROM title_search WHERE rowid = (OLD.user_id << 32) | OLD.id;
            INSERT INTO title_search (rowid, body) VALUES ((NEW.user_id << 32) | NEW.id, NEW.title);
            DELETE FROM message_search WHERE OLD.user_id <> NEW.user_id
                AND rowid IN (SELECT (OLD.user_id << 32) | m.id FROM messages m WHERE m.conversation_id = OLD.id);
            INSERT INTO message_search (rowid, body)
            SELECT (NEW.user_id << 32) | m.id, m.content FROM messages m
            WHERE m.conversation_id = NEW.id AND OLD.user_id <> NEW.user_id;
        END""",
        # BEFORE: the messages are still there to name their index rows (the cascade removes them after).
        "conversations_search_delete": """CREATE TRIGGER conversations_search_delete BEFORE DELETE ON conversations BEGIN
            DELETE FROM title_search WHERE rowid = (OLD.user_id << 32) | OLD.id;
            DELETE FROM message_search
            WHERE rowid IN (SELECT (OLD.user_id << 32) | m.id FROM messages m WHERE m.conversation_id = OLD.id);
        END""",
    }


# SQLite integers are 64-bit: every id is in this range.
ALL_IDS = (0, 2**63 - 1)


def sqlite_index_rows_statements(conversations: tuple[int, int] = ALL_IDS,
                                 messages: tuple[int, int] = ALL_IDS) -> list[str]:
    """Index the conversations and the messages whose ids are in these ranges (first, last; by
    default all): what the insert triggers would have written. Migration 0005 runs them for the rows
    that exist before the index does, `flask seed` for the rows it loads with the triggers set aside.

    In rowid order: FTS5 writes its pending postings out as a new segment whenever a rowid is not
    above the last one, so a bulk load in any other order leaves thousands of small segments."""
    (first_conversation, last_conversation), (first_message, last_message) = (
        (int(first), int(last)) for first, last in (conversations, messages))
    return [
        f"""INSERT INTO title_search (rowid, body)
           SELECT (user_id << 32) | id, title FROM conversations
           WHERE id BETWEEN {first_conversation} AND {last_conversation} ORDER BY 1""",
        f"""INSERT INTO message_search (rowid, body)
           SELECT (c.user_id << 32) | m.id, m.content FROM messages m JOIN conversations c ON c.id = m.conversation_id
           WHERE m.id BETWEEN {first_message} AND {last_message} ORDER BY 1""",
    ]


def sqlite_statements() -> list[str]:
    """The index tables, their triggers, and the rows that exist already, indexed."""
    return [
        f"CREATE VIRTUAL TABLE message_search USING {_FTS}",
        f"CREATE VIRTUAL TABLE title_search USING {_FTS}",
        *sqlite_trigger_statements().values(),
        *sqlite_index_rows_statements(),
    ]


def sqlite_drop_statements() -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {name}" for name in sqlite_trigger_statements()] + [
        f"DROP TABLE IF EXISTS {table}" for table in SEARCH_TABLES
    ]


def postgresql_statements(schema: str) -> list[str]:
    """`schema` is where our functions live (the current schema), so that the generated columns
    never depend on a search_path."""
    return [
        "CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public",
        f"""CREATE OR REPLACE FUNCTION "{schema}".openregister_unaccent(text) RETURNS text
            LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
            AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$""",
        f"""CREATE OR REPLACE FUNCTION "{schema}".openregister_search_vector(text) RETURNS tsvector
            LANGUAGE sql IMMUTABLE PARALLEL SAFE
            AS $$ SELECT to_tsvector('pg_catalog.simple'::regconfig,
                  regexp_replace("{schema}".openregister_unaccent(coalesce($1, '')), '[^[:alnum:]]+', ' ', 'g')) $$""",
        f"""ALTER TABLE messages ADD COLUMN search_vector tsvector
            GENERATED ALWAYS AS ("{schema}".openregister_search_vector(content)) STORED""",
        f"""ALTER TABLE conversations ADD COLUMN search_vector tsvector
            GENERATED ALWAYS AS ("{schema}".openregister_search_vector(title)) STORED""",
    ]


def postgresql_drop_statements(schema: str) -> list[str]:
    # The extension stays: other schemas of the database may use it.
    return [
        "ALTER TABLE IF EXISTS conversations DROP COLUMN IF EXISTS search_vector",
        "ALTER TABLE IF EXISTS messages DROP COLUMN IF EXISTS search_vector",
        f'DROP FUNCTION IF EXISTS "{schema}".openregister_search_vector(text)',
        f'DROP FUNCTION IF EXISTS "{schema}".openregister_unaccent(text)',
    ]


def _execute(connection: Connection, sqlite: Callable[[], list[str]], postgresql: Callable[[str], list[str]]) -> None:
    """Run the dialect's statements; PostgreSQL's are made for the current schema."""
    if connection.dialect.name == "sqlite":
        statements = sqlite()
    else:
        statements = postgresql(connection.exec_driver_sql("SELECT current_schema()").scalar_one())
    for statement in statements:
        connection.exec_driver_sql(statement)


def create_search_index(connection: Connection) -> None:
    _execute(connection, sqlite_statements, postgresql_statements)


def drop_search_index(connection: Connection) -> None:
    _execute(connection, sqlite_drop_statements, postgresql_drop_statements)


def _is_search_name(name: str | None, type_: NameFilterType) -> bool:
    if type_ == "table":
        return name is not None and (any(name == table or name.startswith(table + "_") for table in SEARCH_TABLES)
                                     or is_passage_index(name))
    if type_ == "column":
        return name == SEARCH_COLUMN
    return False


def is_search_object(obj: SchemaItem, name: str | None, type_: NameFilterType, reflected: bool,
                     compare_to: SchemaItem | None) -> bool:
    """Alembic's include_object: False for the full-text indexes' objects (conversations' and documents'),
    which no model declares."""
    return not _is_search_name(name, type_)


def include_name(name: str | None, type_: NameFilterType, parent_names: NameFilterParentNames) -> bool:
    """Alembic's include_name: skip reflecting the FTS5 tables at all."""
    return not (type_ == "table" and _is_search_name(name, type_))


def register(metadata: MetaData) -> None:
    event.listen(metadata, "after_create", lambda target, connection, **kw: create_search_index(connection))
    event.listen(metadata, "before_drop", lambda target, connection, **kw: drop_search_index(connection))
