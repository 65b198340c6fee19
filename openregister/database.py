"""The database: per-connection settings, the one owner of a request's transaction, and `read` for
the hot read paths' statements.

Services flush and never commit. A write view commits once, through `transactional`; a view that
waits on the network in between (chat) opens two short `unit_of_work` blocks around the wait. When
a view fails, nothing of it is committed: the error handlers roll back.
"""

import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple, ParamSpec, TypeVar
from weakref import WeakKeyDictionary

from flask import Flask
from sqlalchemy import Connection, CursorResult, Dialect, Row, Select, event
from sqlalchemy.engine.result import ResultMetaData
from sqlalchemy.orm import Session
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql.compiler import SQLCompiler

from .extensions import db

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def unit_of_work() -> Iterator[None]:
    """One short transaction: commit what the block wrote when it ends, roll it back when it raises.

    The commit hands the connection back to the pool, so nothing is held after the block.
    """
    try:
        yield
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()


def transactional(view: Callable[P, R]) -> Callable[P, R]:
    """Commit what a write view wrote once it returns, before its answer is dumped; a view that raises writes nothing."""

    @functools.wraps(view)
    def committing_view(*args: P.args, **kwargs: P.kwargs) -> R:
        with unit_of_work():
            return view(*args, **kwargs)

    return committing_view


class _Prepared(NamedTuple):
    sql: str
    keys: frozenset[str]  # the parameters a caller gives
    defaults: dict[str, Any]  # the values bound in the statement itself
    positions: tuple[str, ...] | None  # the parameters' order, for a positional paramstyle
    metadata: ResultMetaData


# For each database dialect, the statements `read` has prepared for it (None: one it cannot prepare).
_prepared: WeakKeyDictionary[Dialect, WeakKeyDictionary[Select[Any], _Prepared | None]] = WeakKeyDictionary()


def read(stmt: Select[Any], params: Mapping[str, Any]) -> Sequence[Row[Any]]:
    """The rows of `stmt`, a select of columns (no ORM entities) built once, in the session's transaction.

    For the hot read paths: SQLAlchemy's execution and result machinery costs 20-30 µs a statement
    where the driver takes 5 to 10, and a request runs three. The first run goes through SQLAlchemy;
    what it compiled (the SQL, the parameters' order, the values bound in the statement) and the
    result's metadata (labels and type processors) are kept, and later runs execute on the DBAPI
    cursor, with SQLAlchemy's error handling, building the same Rows with the same processors.
    While anything listens to the connection's execution events (statement counts, tracing), a statement
    whose parameters need processing, or a call with other parameters than the first, SQLAlchemy runs
    it as usual.
    """
    session = db.session()
    if session.autoflush:
        session.flush()  # as Session.execute does first: the rows include what the request changed (cheap when clean)
    connection = _connection_of(session)
    if (connection._has_events or connection.engine._has_events) and _listened_to(connection):
        return connection.execute(stmt, params).all()
    prepared_for_dialect = _prepared.get(connection.dialect)
    if prepared_for_dialect is None:
        prepared_for_dialect = _prepared.setdefault(connection.dialect, WeakKeyDictionary())
    try:
        prepared = prepared_for_dialect[stmt]
    except KeyError:
        result = connection.execute(stmt, params)
        prepared_for_dialect[stmt] = _prepare(result, params)
        return result.all()
    if prepared is None or params.keys() != prepared.keys:
        return connection.execute(stmt, params).all()
    values = {**prepared.defaults, **params}
    parameters = values if prepared.positions is None else tuple(values[name] for name in prepared.positions)
    cursor = connection.connection.cursor()
    try:
        connection._cursor_execute(cursor, prepared.sql, parameters)
        fetched = cursor.fetchall()
    finally:
        cursor.close()
    metadata = prepared.metadata
    processors, key_to_index = metadata._effective_processors, metadata._key_to_index
    return [Row(metadata, processors, key_to_index, data) for data in fetched]


_READ_CONNECTION = "read_connection"


def _connection_of(session: Session) -> Connection:
    """session.connection(), looked up once for each transaction of the session (it costs 3 µs a call)."""
    transaction = session.get_transaction()
    known = session.info.get(_READ_CONNECTION)
    if transaction is not None and known is not None and known[0] is transaction:
        connection: Connection = known[1]
        return connection
    connection = session.connection()
    session.info[_READ_CONNECTION] = (session.get_transaction(), connection)
    return connection


def _listened_to(connection: Connection) -> bool:
    events = connection.dispatch
    return bool(events.before_execute or events.after_execute
                or events.before_cursor_execute or events.after_cursor_execute)


def _prepare(result: CursorResult[Any], params: Mapping[str, Any]) -> _Prepared | None:
    context = result.context
    compiled = context.compiled
    if (not isinstance(compiled, SQLCompiler) or compiled._bind_processors or compiled.literal_execute_params
            or compiled.post_compile_params or compiled.escaped_bind_names or context.executemany):
        return None
    # The values SQLAlchemy bound for this run, the statement's own among them (its literals, such as a LIMIT 1).
    bound = context.compiled_parameters[0]
    return _Prepared(
        sql=compiled.string,
        keys=frozenset(params),
        defaults={name: value for name, value in bound.items() if name not in params},
        positions=tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None,
        metadata=result._metadata,
    )


def register_database(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        return
    busy_timeout = app.config["SQLITE_BUSY_TIMEOUT_MS"]

    @event.listens_for(engine, "connect")
    def configure_sqlite(dbapi_connection: Any, connection_record: ConnectionPoolEntry) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout)}")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
