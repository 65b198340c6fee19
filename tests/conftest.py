import base64
import os
from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select

from openregister import create_app
from openregister.auth import issue_token
from openregister.extensions import db

from . import factories

API = "/index.php/apps/openregister/api"


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENREGISTER_INSTANCE_PATH", str(tmp_path))
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": os.environ.get("TEST_DATABASE_URL", "sqlite://"),
        "JWT_SECRET": "test-secret-" + "x" * 64,
    })
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


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
