"""The database: per-connection settings, and the one owner of a request's transaction.

Services flush and never commit. A write view commits once, through `transactional`; a view that
waits on the network in between (chat) opens two short `unit_of_work` blocks around the wait. When
a view fails, nothing of it is committed: the error handlers roll back.
"""

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

from flask import Flask
from sqlalchemy import event
from sqlalchemy.pool import ConnectionPoolEntry

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
