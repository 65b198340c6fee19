"""Full-text search over conversation titles and message contents, for `_search`.

SQLite: FTS5 tables `message_search` and `title_search` (unicode61, diacritics removed, prefix
indexes 1-3), keyed by (user id << 32 | row id) so a search reads only its user's range, kept in
step by triggers on messages and conversations. PostgreSQL: generated tsvector columns
`search_vector` (simple configuration over unaccent, punctuation as spaces), matched within the
caller's rows (no GIN over everyone's: see openregister/models/search_index.py); needs
the `unaccent` extension (trusted: the database owner may create it; else a superuser, once).
Existing rows are indexed here. The SQL is a frozen copy of openregister/models/search_index.py,
except the statements that index existing rows, shared with `flask seed` (one place for that SQL).

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-02 04:00:00
"""
from alembic import op

from openregister.models.search_index import sqlite_index_rows_statements

# revision identifiers, used by Alembic.
revision = '0005'
down_revision = "0004"
branch_labels = None
depends_on = None

FTS = "fts5(body, tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3')"
OLD_MESSAGE_KEY = "(SELECT (c.user_id << 32) | OLD.id FROM conversations c WHERE c.id = OLD.conversation_id)"

SQLITE = [
    f"CREATE VIRTUAL TABLE message_search USING {FTS}",
    f"CREATE VIRTUAL TABLE title_search USING {FTS}",
    """CREATE TRIGGER messages_search_insert AFTER INSERT ON messages BEGIN
        INSERT INTO message_search (rowid, body)
        SELECT (c.user_id << 32) | NEW.id, NEW.content FROM conversations c WHERE c.id = NEW.conversation_id;
    END""",
    f"""CREATE TRIGGER messages_search_update AFTER UPDATE OF content, conversation_id ON messages BEGIN
        DELETE FROM message_search WHERE rowid = {OLD_MESSAGE_KEY};
        INSERT INTO message_search (rowid, body)
        SELECT (c.user_id << 32) | NEW.id, NEW.content FROM conversations c WHERE c.id = NEW.conversation_id;
    END""",
    f"""CREATE TRIGGER messages_search_delete AFTER DELETE ON messages BEGIN
        DELETE FROM message_search WHERE rowid = {OLD_MESSAGE_KEY};
    END""",
    """CREATE TRIGGER conversations_search_insert AFTER INSERT ON conversations BEGIN
        INSERT INTO title_search (rowid, body) VALUES ((NEW.user_id << 32) | NEW.id, NEW.title);
    END""",
    """CREATE TRIGGER conversations_search_update AFTER UPDATE OF title, user_id ON conversations BEGIN
        DELETE FROM title_search WHERE rowid = (OLD.user_id << 32) | OLD.id;
        INSERT INTO title_search (rowid, body) VALUES ((NEW.user_id << 32) | NEW.id, NEW.title);
        DELETE FROM message_search WHERE OLD.user_id <> NEW.user_id
            AND rowid IN (SELECT (OLD.user_id << 32) | m.id FROM messages m WHERE m.conversation_id = OLD.id);
        INSERT INTO message_search (rowid, body)
        SELECT (NEW.user_id << 32) | m.id, m.content FROM messages m
        WHERE m.conversation_id = NEW.id AND OLD.user_id <> NEW.user_id;
    END""",
    """CREATE TRIGGER conversations_search_delete BEFORE DELETE ON conversations BEGIN
        DELETE FROM title_search WHERE rowid = (OLD.user_id << 32) | OLD.id;
        DELETE FROM message_search
        WHERE rowid IN (SELECT (OLD.user_id << 32) | m.id FROM messages m WHERE m.conversation_id = OLD.id);
    END""",
    # The rows that exist: the same statements `flask seed` uses after a bulk load.
    *sqlite_index_rows_statements(),
]
SQLITE_TRIGGERS = [f"{table}_search_{verb}" for table in ("messages", "conversations")
                   for verb in ("insert", "update", "delete")]


def postgresql(schema):
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


def current_schema():
    return op.get_bind().exec_driver_sql("SELECT current_schema()").scalar()


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        statements = SQLITE
    else:
        statements = postgresql(current_schema())
    for statement in statements:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        statements = [f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS]
        statements += ["DROP TABLE IF EXISTS message_search", "DROP TABLE IF EXISTS title_search"]
    else:
        schema = current_schema()
        # The extension stays: other schemas of the database may use it.
        statements = [
            "ALTER TABLE conversations DROP COLUMN IF EXISTS search_vector",
            "ALTER TABLE messages DROP COLUMN IF EXISTS search_vector",
            f'DROP FUNCTION IF EXISTS "{schema}".openregister_search_vector(text)',
            f'DROP FUNCTION IF EXISTS "{schema}".openregister_unaccent(text)',
        ]
    for statement in statements:
        op.execute(statement)
