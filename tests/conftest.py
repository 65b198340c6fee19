import base64
import os
import uuid
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, event, func, select

from openregister import create_app
from openregister.auth import issue_token
from openregister.extensions import db

from . import factories
from .ports import bound_socket, port_of

API = "/index.php/apps/openregister/api"


TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


@pytest.fixture(scope="session")
def shared_app(tmp_path_factory):
    """One app and one schema for the whole run; building them per test would cost most of the run."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OPENREGISTER_INSTANCE_PATH", str(tmp_path_factory.mktemp("instance")))
        app = create_app({
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": TEST_DATABASE_URL or "sqlite://",
            "JWT_SECRET": "test-secret-" + "x" * 64,
        })
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        db.drop_all()
        db.engine.dispose()


@pytest.fixture
def closed_port_url():
    """An LLM base URL on loopback where nothing listens; its port stays bound, so refused, during the test."""
    with bound_socket() as sock:
        yield f"http://127.0.0.1:{port_of(sock)}/v1"


@pytest.fixture
def app(shared_app):
    """The app in a fresh app context, its configuration restored and every table emptied afterwards."""
    config = dict(shared_app.config)
    with shared_app.app_context():
        yield shared_app
        db.session.remove()
        empty_all_tables()
    shared_app.config.clear()
    shared_app.config.update(config)


def empty_all_tables() -> None:
    """Delete every row, children first, and on PostgreSQL start the ids at 1 again (as SQLite does once a
    table is empty). Not TRUNCATE: on PostgreSQL it gives every table new files, some 80 ms a test
    against 5 ms for these deletes, a minute and a half of a CI run."""
    with db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(
                "SELECT setval(oid, 1, false) FROM pg_class WHERE relkind = 'S' AND relnamespace = current_schema()::regnamespace"
            )


@contextmanager
def separate_database(tmp_path):
    """A database URL of its own, empty, for tests that migrate or run a server: a SQLite file, or a
    PostgreSQL schema in the test database (the shared schema of the other tests stays untouched)."""
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_path / 'separate.sqlite'}"
        return
    schema = f"test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(TEST_DATABASE_URL)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        separator = "&" if "?" in TEST_DATABASE_URL else "?"
        yield f"{TEST_DATABASE_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def auth_headers(app):
    """Bearer headers for a user."""
    return lambda user: {"Authorization": f"Bearer {issue_token(user)}"}


def basic(username, secret):
    token = base64.b64encode(f"{username}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.fixture
def tenants(app):
    """alice and bob in Acme, carol in Globex, each with Acme/Globex active."""
    alice = factories.make_user("alice")
    bob = factories.make_user("bob")
    carol = factories.make_user("carol")
    acme = factories.make_organisation("Acme", owner=alice, members=[bob])
    globex = factories.make_organisation("Globex", owner=carol)
    db.session.commit()
    return {"alice": alice, "bob": bob, "carol": carol, "acme": acme, "globex": globex}


@pytest.fixture
def count_queries(app):
    """A context manager that counts the SQL statements run inside it."""

    @contextmanager
    def counting():
        statements = []

        def record(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            event.remove(db.engine, "before_cursor_execute", record)

    return counting


def row_count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def migrated_app(tmp_path, monkeypatch):
    """An app on a database of its own with no tables yet, for tests that run the migrations."""
    monkeypatch.setenv("OPENREGISTER_INSTANCE_PATH", str(tmp_path))
    with separate_database(tmp_path) as url:
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "JWT_SECRET": "x" * 64})
        with app.app_context():
            yield app
            db.session.remove()
            db.engine.dispose()
