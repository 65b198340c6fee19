"""The migrations build exactly the models' schema, and go down and up again."""

import importlib.util
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from openregister.auth import issue_token
from openregister.extensions import db
from openregister.models import User, search_index
from openregister.models.search_index import include_name, is_search_object

from .conftest import API


def schema_differences():
    with db.engine.connect() as connection:
        opts = {"compare_type": True, "include_object": is_search_object, "include_name": include_name}
        return compare_metadata(MigrationContext.configure(connection, opts=opts), db.metadata)


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


def test_full_text_search_finds_rows_written_before_its_migration(migrated_app):
    upgrade(revision="0003")
    moment = {"t": "2024-01-01 00:00:00"}
    with db.engine.begin() as connection:
        for user_id, name in ((1, "ann"), (2, "ben")):
            connection.execute(text(
                "INSERT INTO users (id, uuid, username, username_key, created, updated) "
                "VALUES (:id, :name, :name, :name, :t, :t)"), {"id": user_id, "name": name, **moment})
            connection.execute(text(
                "INSERT INTO conversations (id, uuid, slug, title, user_id, metadata, created, updated) "
                "VALUES (:id, :uuid, :uuid, 'Old Café notes', :id, '{}', :t, :t)"),
                {"id": user_id, "uuid": f"c{user_id}", **moment})
            connection.execute(text(
                "INSERT INTO messages (id, uuid, conversation_id, role, content, sources, created) "
                "VALUES (:id, :uuid, :id, 'user', 'the invoice from last year', '[]', :t)"),
                {"id": user_id, "uuid": f"m{user_id}", **moment})
    upgrade()
    headers = {"Authorization": f"Bearer {issue_token(db.session.get(User, 1))}"}
    client = migrated_app.test_client()
    body = client.get(f"{API}/conversations?_search=invo", headers=headers).get_json()
    assert [(row["uuid"], row["match"]["messageId"]) for row in body["results"]] == [("c1", 1)]
    body = client.get(f"{API}/conversations?_search=cafe", headers=headers).get_json()
    assert [(row["uuid"], row["match"]["messageId"]) for row in body["results"]] == [("c1", None)]
    with db.engine.begin() as connection:
        connection.execute(text("DELETE FROM users"))


def test_migration_0005_builds_the_same_search_index_as_create_all():
    """The migration keeps a frozen copy of the index's SQL; today it must equal the models' copy."""
    path = Path(__file__).parent.parent / "migrations" / "versions" / "0005_full_text_search.py"
    spec = importlib.util.spec_from_file_location("migration_0005", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)

    def words(statements):
        return [" ".join(statement.split()) for statement in statements]

    assert words(migration.SQLITE) == words(search_index.sqlite_statements())
    assert words(migration.postgresql("s")) == words(search_index.postgresql_statements("s"))
