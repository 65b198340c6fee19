"""The bulk load behind `flask seed`: rows straight through the database driver, with the insert
triggers of the search index and the counters set aside and their work done once for the load.

Everything happens in the caller's one transaction, which the caller commits at the end. The
triggers are set aside inside it (SQLite drops and recreates them, DDL being transactional there;
PostgreSQL disables and enables them), so a seed that fails or is interrupted rolls back to the
database as it was, triggers included: no commit can see the tables without them. For the same
reason no other writer can slip rows past the missing triggers: SQLite holds its write lock from
the first statement (BEGIN IMMEDIATE), PostgreSQL locks the tables as migration 0007 does.

SQLite: `executemany` with plain tuples (their times already text) on the sqlite3 connection, then each batch's titles and
messages indexed with the statements migration 0005 uses for existing rows, while the batch is in
the page cache, and the indexes merged into one segment each at the end. PostgreSQL: COPY through
psycopg; its search vectors are generated columns, computed by COPY itself. Both: the counters
refilled by the migration's `recount`.
"""

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection

from ..models.counters import recount, sqlite_trigger_statement
from ..models.search_index import SEARCH_TABLES, sqlite_index_rows_statements, sqlite_trigger_statements

# (id, uuid, slug, title, user_id, organisation_id, deleted_at, created, updated); agent_id is
# NULL and metadata empty.
ConversationRow = tuple[int, str, str, str, int, int, datetime | None, datetime, datetime]
# (id, uuid, conversation_id, role, content, created); sources are empty.
MessageRow = tuple[int, str, int, str, str, datetime]
# What write() takes: the rows as prepare_rows() gives them for the load's database (in the process
# that makes them). PostgreSQL: ConversationRow and MessageRow. SQLite: the same with the times as
# text, as SQLAlchemy stores them, ready for executemany.
Row = tuple[Any, ...]

CONVERSATION_COLUMNS = "id, uuid, slug, title, user_id, organisation_id, deleted_at, created, updated, agent_id, metadata"
MESSAGE_COLUMNS = "id, uuid, conversation_id, role, content, created, sources"
# The triggers fired by inserting conversations and messages; the others (updates, deletes) stay.
SEARCH_INSERT_TRIGGERS = ("conversations_search_insert", "messages_search_insert")
COUNTER_INSERT_TRIGGERS = {"counters_conversation_insert": "conversations", "counters_message_insert": "messages"}
# SQLite's page cache for the load (negative: KiB), so the unique indexes stay in memory; the
# connection's default is restored afterwards.
SQLITE_CACHE_KIB = 1024 * 1024
# FTS5 writes a new segment of its index whenever this much is pending (its default, 1 MiB), and
# merges segments as they pile up: at ten million messages, most of the cost of indexing. A bigger
# buffer for the load (per index, while the load runs) makes far fewer segments and merges.
FTS_DEFAULT_PENDING_BYTES = 1024 * 1024
FTS_PENDING_BYTES = 64 * 1024 * 1024
# How SQLAlchemy stores a DateTime on SQLite: datetime.isoformat's arguments (microseconds always written).
TIME_FORMAT = (" ", "microseconds")


class BulkLoad(Protocol):
    # The database, for prepare_rows().
    dialect: str

    def begin(self) -> None:
        """Take the locks the load needs (before anything else in the transaction)."""

    def first_ids(self) -> tuple[int, int]:
        """The ids the load's first conversation and first message get."""

    def set_aside_triggers(self) -> None: ...

    def write(self, conversations: Sequence[Row], messages: Sequence[Row]) -> None: ...

    def finish(self, last_conversation_id: int, last_message_id: int) -> None:
        """Bring what the triggers keep up to date and put the triggers back."""

    def settle(self) -> None:
        """Once the transaction has ended, committed or rolled back: the connection as it was."""


def prepare_rows(dialect: str, conversations: list[ConversationRow],
                 messages: list[MessageRow]) -> tuple[list[Row], list[Row]]:
    """The rows as the load for `dialect` writes them."""
    if dialect == "postgresql":
        return list(conversations), list(messages)
    return ([(*row[:6], _sqlite_time(row[6]), row[7].isoformat(*TIME_FORMAT), row[8].isoformat(*TIME_FORMAT))
             for row in conversations],
            [(*row[:5], row[5].isoformat(*TIME_FORMAT)) for row in messages])


def bulk_load(connection: Connection) -> BulkLoad:
    if connection.dialect.name == "postgresql":
        return PostgresqlLoad(connection)
    return SqliteLoad(connection)


class SqliteLoad:
    dialect = "sqlite"

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.driver: Any = connection.connection.driver_connection
        self.cache_size: int = 0
        self.journal_mode = ""
        self.synchronous = 1

    def begin(self) -> None:
        if not self.driver.in_transaction:
            self._leave_wal()
            # sqlite3 opens a transaction only before INSERT/UPDATE/DELETE: the DROP TRIGGERs below
            # must not run in autocommit mode, so the transaction (and the write lock) starts here.
            self.driver.execute("BEGIN IMMEDIATE")
        self.cache_size = self.driver.execute("PRAGMA cache_size").fetchone()[0]
        self.driver.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")

    def first_ids(self) -> tuple[int, int]:
        # What SQLite itself gives the next row of a table without AUTOINCREMENT.
        conversation, message = (
            self.driver.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()[0]
            for table in ("conversations", "messages"))
        return conversation, message

    def set_aside_triggers(self) -> None:
        if not self.driver.in_transaction:
            raise RuntimeError("The triggers are only set aside inside the load's transaction.")
        for name in (*SEARCH_INSERT_TRIGGERS, *COUNTER_INSERT_TRIGGERS):
            self.driver.execute(f"DROP TRIGGER {name}")
        self._set_fts_pending_size(FTS_PENDING_BYTES)

    def write(self, conversations: Sequence[Row], messages: Sequence[Row]) -> None:
        cursor = self.driver.cursor()
        cursor.executemany(
            f"INSERT INTO conversations ({CONVERSATION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, '{{}}')",
            conversations)
        cursor.executemany(f"INSERT INTO messages ({MESSAGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, '[]')", messages)
        if conversations:
            conversation_ids = (conversations[0][0], conversations[-1][0])
            message_ids = (messages[0][0], messages[-1][0]) if messages else (1, 0)
            for statement in sqlite_index_rows_statements(conversation_ids, message_ids):
                cursor.execute(statement)
        cursor.close()

    def finish(self, last_conversation_id: int, last_message_id: int) -> None:
        recount(self.connection)
        # The load leaves each index in segments that FTS5 merges bit by bit on later writes: at ten
        # million messages every message the app stored afterwards paid some 12 ms for it (0.1 ms at
        # ten thousand). Merged into one segment now, at the cost of rewriting the index once.
        for table in SEARCH_TABLES:
            self.driver.execute(f"INSERT INTO {table} ({table}) VALUES ('optimize')")
        statements = sqlite_trigger_statements()
        for name in SEARCH_INSERT_TRIGGERS:
            self.driver.execute(statements[name])
        for name in COUNTER_INSERT_TRIGGERS:
            self.driver.execute(sqlite_trigger_statement(name))
        self._set_fts_pending_size(FTS_DEFAULT_PENDING_BYTES)
        self.driver.execute(f"PRAGMA cache_size={int(self.cache_size)}")

    def _set_fts_pending_size(self, size: int) -> None:
        """How much FTS5 gathers in memory before writing a segment ("hashsize": a key of FTS5's
        configuration in SQLite's source, fts5_config.c, though not in its documentation). Kept in
        the index's config table, in this transaction; a SQLite without it just loads slower."""
        for table in SEARCH_TABLES:
            try:
                self.driver.execute(f"INSERT INTO {table} ({table}, rank) VALUES ('hashsize', ?)", (size,))
            except sqlite3.OperationalError:
                return

    def _leave_wal(self) -> None:
        """A rollback journal for the load, when no one else has the database open.

        In WAL mode every page of a load written in one transaction goes to the log first and is
        copied into the database afterwards: twice the writing, and a log the size of the load. With
        a rollback journal the new pages go straight into the file (only pages that existed are
        journaled), and the transaction is as atomic. Leaving WAL needs the database to ourselves;
        when another connection has it open, the load stays in WAL. If the process dies before
        settle(), the next connection of the app turns WAL on again (database.py)."""
        self.journal_mode = self.driver.execute("PRAGMA journal_mode").fetchone()[0]
        if self.journal_mode != "wal":
            return
        self.synchronous = self.driver.execute("PRAGMA synchronous").fetchone()[0]
        try:
            self.driver.execute("PRAGMA journal_mode=DELETE")
        except sqlite3.OperationalError:
            return
        # NORMAL is safe in WAL mode but not quite with a rollback journal.
        self.driver.execute("PRAGMA synchronous=FULL")

    def settle(self) -> None:
        if self.journal_mode == "wal" and not self.driver.in_transaction:
            self.driver.execute("PRAGMA journal_mode=WAL")
            self.driver.execute(f"PRAGMA synchronous={int(self.synchronous)}")


def _sqlite_time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(*TIME_FORMAT)


class PostgresqlLoad:
    dialect = "postgresql"

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.driver: Any = connection.connection.driver_connection

    def begin(self) -> None:
        # As migration 0007: no writer may change these tables between the load and the recount.
        self.connection.exec_driver_sql(
            "LOCK TABLE organisations, users, agents, conversations, messages IN SHARE ROW EXCLUSIVE MODE")

    def first_ids(self) -> tuple[int, int]:
        # Taken from the sequences; the lock keeps every other writer from taking the ones after.
        conversation, message = (
            self.connection.exec_driver_sql(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id'))").scalar_one()
            for table in ("conversations", "messages"))
        return conversation, message

    def set_aside_triggers(self) -> None:
        for name, table in COUNTER_INSERT_TRIGGERS.items():
            self.connection.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER {name}")

    def write(self, conversations: Sequence[Row], messages: Sequence[Row]) -> None:
        with self.driver.cursor() as cursor:
            with cursor.copy(f"COPY conversations ({CONVERSATION_COLUMNS}) FROM STDIN") as copy:
                for row in conversations:
                    copy.write_row((*row, None, "{}"))
            with cursor.copy(f"COPY messages ({MESSAGE_COLUMNS}) FROM STDIN") as copy:
                for message in messages:
                    copy.write_row((*message, "[]"))

    def finish(self, last_conversation_id: int, last_message_id: int) -> None:
        recount(self.connection)
        for table, last in (("conversations", last_conversation_id), ("messages", last_message_id)):
            # The next row written by anyone gets the id after the load's last (or after the one
            # first_ids took, when nothing was loaded).
            self.connection.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"greatest({int(last)}, (SELECT last_value FROM {self._sequence(table)})))")
        for name, table in COUNTER_INSERT_TRIGGERS.items():
            self.connection.exec_driver_sql(f"ALTER TABLE {table} ENABLE TRIGGER {name}")

    def settle(self) -> None:
        pass

    def _sequence(self, table: str) -> str:
        name: str = self.connection.exec_driver_sql(
            f"SELECT pg_get_serial_sequence('{table}', 'id')").scalar_one()
        return name
