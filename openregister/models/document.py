"""An organisation's documents, cut into passages that chat retrieves by keyword or embedding."""

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import DDL, ForeignKey, Index, LargeBinary, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Model, TimestampMixin, new_uuid, utcnow

if TYPE_CHECKING:
    from .user import User

STATUSES = ("indexed", "failed")


class Document(TimestampMixin, Model):
    __tablename__ = "documents"
    __table_args__ = (Index("ix_documents_listing", "organisation_id", "created", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    name: Mapped[str] = mapped_column(String(255))
    mime_type: Mapped[str] = mapped_column(String(128))
    size: Mapped[int]
    # The original bytes, loaded only by the download route.
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="indexed")
    error: Mapped[str | None] = mapped_column(Text)
    chunks: Mapped[int] = mapped_column(default=0)

    owner: Mapped["User | None"] = relationship()


class Passage(Model):
    """A few hundred words of a document; organisation_id is the document's, so retrieval filters on one column."""

    __tablename__ = "passages"
    __table_args__ = (Index("ix_passages_document", "document_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    # float32 little-endian bytes, and the model that made them; None when no embedding provider answered.
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    embedding_model: Mapped[str | None] = mapped_column(String(255))
    created: Mapped[datetime] = mapped_column(default=utcnow)

    document: Mapped[Document] = relationship()


# The full-text index over passages is the database's own, outside the ORM's metadata: an FTS5
# table on SQLite, a tsvector table on PostgreSQL, kept in step by triggers. Migration 0008 creates
# it; these statements create it with the tables for a database built by create_all (the tests).
SEARCH_INDEX_NAMES = ("passages_fts",)

SQLITE_SEARCH_INDEX = (
    "CREATE VIRTUAL TABLE passages_fts USING fts5(text, content='passages', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER passages_fts_insert AFTER INSERT ON passages BEGIN "
    "INSERT INTO passages_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER passages_fts_delete AFTER DELETE ON passages BEGIN "
    "INSERT INTO passages_fts(passages_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER passages_fts_update AFTER UPDATE OF text ON passages BEGIN "
    "INSERT INTO passages_fts(passages_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO passages_fts(rowid, text) VALUES (new.id, new.text); END",
)
SQLITE_DROP_SEARCH_INDEX = (
    "DROP TRIGGER IF EXISTS passages_fts_update",
    "DROP TRIGGER IF EXISTS passages_fts_delete",
    "DROP TRIGGER IF EXISTS passages_fts_insert",
    "DROP TABLE IF EXISTS passages_fts",
)
POSTGRESQL_SEARCH_INDEX = (
    "CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public",
    "CREATE TABLE passages_fts (passage_id integer PRIMARY KEY REFERENCES passages(id) ON DELETE CASCADE, "
    "organisation_id integer NOT NULL, vector tsvector NOT NULL)",
    "CREATE INDEX passages_fts_vector ON passages_fts USING gin (vector)",
    "CREATE INDEX passages_fts_organisation ON passages_fts (organisation_id)",
    "CREATE FUNCTION passages_fts_sync() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "INSERT INTO passages_fts (passage_id, organisation_id, vector) "
    "VALUES (NEW.id, NEW.organisation_id, to_tsvector('simple', public.unaccent(NEW.text))) "
    "ON CONFLICT (passage_id) DO UPDATE SET organisation_id = EXCLUDED.organisation_id, vector = EXCLUDED.vector; "
    "RETURN NULL; END $$",
    "CREATE TRIGGER passages_fts_sync AFTER INSERT OR UPDATE OF text, organisation_id ON passages "
    "FOR EACH ROW EXECUTE FUNCTION passages_fts_sync()",
)
POSTGRESQL_DROP_SEARCH_INDEX = (
    "DROP TRIGGER IF EXISTS passages_fts_sync ON passages",
    "DROP FUNCTION IF EXISTS passages_fts_sync()",
    "DROP TABLE IF EXISTS passages_fts",
)


def is_search_index(name: str) -> bool:
    """Whether a database object belongs to a full-text index (FTS5's shadow tables included)."""
    return any(name == index or name.startswith(index + "_") for index in SEARCH_INDEX_NAMES)


def _listen(event_name: str, dialect: str, statements: Iterable[str]) -> None:
    for statement in statements:
        ddl = DDL(statement)  # type: ignore[no-untyped-call]  # SQLAlchemy leaves DDL.__init__ unannotated
        event.listen(Passage.__table__, event_name, ddl.execute_if(dialect=dialect))


_listen("after_create", "sqlite", SQLITE_SEARCH_INDEX)
_listen("after_create", "postgresql", POSTGRESQL_SEARCH_INDEX)
_listen("before_drop", "sqlite", SQLITE_DROP_SEARCH_INDEX)
_listen("before_drop", "postgresql", POSTGRESQL_DROP_SEARCH_INDEX)
