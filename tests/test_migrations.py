"""The migrations build exactly the models' schema, and go down and up again."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from openregister import create_app, include_name
from openregister.extensions import db

from .conftest import API, separate_database


@pytest.fixture
def migrated_app(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENREGISTER_INSTANCE_PATH", str(tmp_path))
    with separate_database(tmp_path) as url:
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "JWT_SECRET": "x" * 64})
        with app.app_context():
            yield app
            db.session.remove()
            db.engine.dispose()


def schema_differences():
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_name": include_name})
        return compare_metadata(context, db.metadata)


def test_upgrade_yields_exactly_the_models_schema(migrated_app):
    upgrade()
    assert schema_differences() == []


def test_downgrade_to_base_and_upgrade_again(migrated_app):
    upgrade()
    downgrade(revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade()
    assert schema_differences() == []


def test_status_reports_no_upgrade_needed_after_upgrade(migrated_app):
    client = migrated_app.test_client()
    assert client.get("/status.php").get_json()["needsDbUpgrade"] is True
    upgrade()
    assert client.get("/status.php").get_json()["needsDbUpgrade"] is False
    assert client.get(f"{API}/health").get_json()["checks"] == {"database": "ok"}


def test_messages_cascade_with_their_conversation_in_the_migrated_schema(migrated_app):
    upgrade()
    with db.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO users (id, uuid, username, username_key, created, updated) VALUES (1, 'x', 'u', 'u', :t, :t)"),
                           {"t": "2024-01-01 00:00:00"})
        connection.execute(text(
            "INSERT INTO conversations (id, uuid, slug, title, user_id, metadata, created, updated) "
            "VALUES (1, 'c', 's', 't', 1, '{}', :t, :t)"), {"t": "2024-01-01 00:00:00"})
        connection.execute(text(
            "INSERT INTO messages (id, uuid, conversation_id, role, content, sources, created) "
            "VALUES (1, 'm', 1, 'user', 'hi', '[]', :t)"), {"t": "2024-01-01 00:00:00"})
        connection.execute(text("DELETE FROM conversations WHERE id = 1"))
        assert connection.execute(text("SELECT count(*) FROM messages")).scalar() == 0
        connection.execute(text("DELETE FROM users"))


def test_the_migrated_passage_index_follows_inserts_and_deletes(migrated_app):
    upgrade()
    postgresql = db.engine.dialect.name == "postgresql"
    search = ("SELECT count(*) FROM passages_fts WHERE vector @@ to_tsquery('simple', 'cafe')" if postgresql
              else "SELECT count(*) FROM passages_fts WHERE passages_fts MATCH 'cafe'")
    with db.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO organisations (id, uuid, name, slug, created, updated) VALUES (1, 'o', 'O', 'o', :t, :t)"),
                           {"t": "2024-01-01 00:00:00"})
        connection.execute(text(
            "INSERT INTO documents (id, uuid, name, mime_type, size, content, organisation_id, status, chunks, created,"
            " updated) VALUES (1, 'd', 'd.txt', 'text/plain', 1, :content, 1, 'indexed', 1, :t, :t)"),
                           {"t": "2024-01-01 00:00:00", "content": b"x"})
        connection.execute(text(
            "INSERT INTO passages (id, document_id, organisation_id, position, text, created) "
            "VALUES (1, 1, 1, 0, 'Le Café ouvre', :t)"), {"t": "2024-01-01 00:00:00"})
        assert connection.execute(text(search)).scalar() == 1
        connection.execute(text("DELETE FROM documents"))
        assert connection.execute(text(search)).scalar() == 0
        connection.execute(text("DELETE FROM organisations"))
