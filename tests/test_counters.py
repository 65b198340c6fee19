"""chat/stats reads counters the database keeps: they equal a full count after every kind of change."""

from flask_migrate import upgrade
from sqlalchemy import text

from openregister import create_app
from openregister.extensions import db

from . import factories
from .conftest import API, separate_database

COUNT_ORGANISATION = """
SELECT (SELECT count(*) FROM agents WHERE organisation_id = :id),
       (SELECT count(*) FROM conversations WHERE organisation_id = :id),
       (SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE c.organisation_id = :id)
"""
COUNT_PERSONAL = """
SELECT (SELECT count(*) FROM agents WHERE organisation_id IS NULL AND owner_id = :id),
       (SELECT count(*) FROM conversations WHERE organisation_id IS NULL AND user_id = :id),
       (SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id
        WHERE c.organisation_id IS NULL AND c.user_id = :id)
"""


def assert_counters_exact(connection) -> None:
    """Every counter row equals a full count of the rows it stands for, and every scope has one."""
    organisations = connection.execute(text("SELECT id FROM organisations")).scalars().all()
    users = connection.execute(text("SELECT id FROM users")).scalars().all()
    for table, key, ids, query in (("organisation_counters", "organisation_id", organisations, COUNT_ORGANISATION),
                                   ("personal_counters", "user_id", users, COUNT_PERSONAL)):
        stored = {row[0]: tuple(row[1:]) for row in connection.execute(
            text(f"SELECT {key}, agents, conversations, messages FROM {table}"))}
        assert set(stored) == set(ids), table
        for scope in ids:
            assert stored[scope] == tuple(connection.execute(text(query), {"id": scope}).one()), (table, scope)


def stats(client, headers) -> dict:
    response = client.get(f"{API}/chat/stats", headers=headers)
    assert response.status_code == 200
    return response.get_json()


def full_count(organisation_id=None, user_id=None) -> dict:
    query, scope = (COUNT_ORGANISATION, organisation_id) if organisation_id else (COUNT_PERSONAL, user_id)
    agents, conversations, messages = db.session.execute(text(query), {"id": scope}).one()
    return {"total_agents": agents, "total_conversations": conversations, "total_messages": messages}


def check(client, headers, **scope) -> dict:
    db.session.commit()
    with db.engine.connect() as connection:
        assert_counters_exact(connection)
    answer = stats(client, headers)
    assert answer == full_count(**scope)
    return answer


def test_counters_follow_chat_archive_restore_and_deletes(client, tenants, auth_headers, runner):
    alice, bob, acme = tenants["alice"], tenants["bob"], tenants["acme"]
    headers = auth_headers(alice)
    acme_id = acme.id
    assert check(client, headers, organisation_id=acme_id) == {
        "total_agents": 0, "total_conversations": 0, "total_messages": 0}

    agent = client.post(f"{API}/agents", json={"name": "Helper", "isPrivate": False}, headers=headers).get_json()
    sent = client.post(f"{API}/chat/send", json={"agentUuid": agent["uuid"], "message": "Hi"}, headers=headers)
    conversation = sent.get_json()["conversation"]
    client.post(f"{API}/chat/send", json={"conversation": conversation, "message": "Again"}, headers=headers)
    other = client.post(f"{API}/conversations", json={"title": "Other"}, headers=auth_headers(bob)).get_json()["uuid"]
    client.post(f"{API}/chat/send", json={"conversation": other, "message": "Bob"}, headers=auth_headers(bob))
    assert check(client, headers, organisation_id=acme_id) == {
        "total_agents": 1, "total_conversations": 2, "total_messages": 6}

    # Archived conversations still count; restoring changes nothing; deleting for good removes them.
    assert client.delete(f"{API}/conversations/{conversation}", headers=headers).status_code == 200
    assert check(client, headers, organisation_id=acme_id)["total_conversations"] == 2
    assert client.post(f"{API}/conversations/{conversation}/restore", headers=headers).status_code == 200
    assert check(client, headers, organisation_id=acme_id)["total_messages"] == 6
    client.delete(f"{API}/conversations/{conversation}", headers=headers)
    assert client.delete(f"{API}/conversations/{conversation}", headers=headers).status_code == 200
    assert check(client, headers, organisation_id=acme_id) == {
        "total_agents": 1, "total_conversations": 1, "total_messages": 2}

    assert client.delete(f"{API}/agents/{agent['uuid']}", headers=headers).status_code == 200
    assert check(client, headers, organisation_id=acme_id)["total_agents"] == 0

    # Deleting a user deletes their conversations (and their messages, by cascade) from the counts.
    assert runner.invoke(args=["user", "delete", "bob", "--yes"]).exit_code == 0
    assert check(client, headers, organisation_id=acme_id) == {
        "total_agents": 0, "total_conversations": 0, "total_messages": 0}


def test_without_organisation_a_users_own_are_counted_and_deleting_an_organisation_moves_them(client, auth_headers):
    dave = factories.make_user("dave")
    factories.make_agent(dave)
    own = factories.make_conversation(dave)
    factories.make_messages(own, 3)
    headers = auth_headers(dave)
    assert check(client, headers, user_id=dave.id) == {"total_agents": 1, "total_conversations": 1, "total_messages": 3}

    created = client.post(f"{API}/organisations", json={"name": "Dave's"}, headers=headers)
    assert created.status_code in (200, 201)
    organisation = created.get_json()["organisation"]
    client.post(f"{API}/organisations/{organisation['uuid']}/set-active", headers=headers)
    client.post(f"{API}/agents", json={"name": "Org agent", "isPrivate": False}, headers=headers)
    in_org = client.post(f"{API}/conversations", json={"title": "In org"}, headers=headers).get_json()["uuid"]
    client.post(f"{API}/chat/send", json={"conversation": in_org, "message": "Hi"}, headers=headers)
    organisation_id = db.session.execute(text("SELECT id FROM organisations WHERE uuid = :u"),
                                         {"u": organisation["uuid"]}).scalar_one()
    assert check(client, headers, organisation_id=organisation_id) == {
        "total_agents": 1, "total_conversations": 1, "total_messages": 2}

    # The API refuses to delete an organisation that holds anything, the database does not: its rows
    # fall back to no organisation (SET NULL), and to dave's own counts.
    db.session.execute(text("DELETE FROM organisations WHERE id = :id"), {"id": organisation_id})
    assert check(client, headers, user_id=dave.id) == {"total_agents": 2, "total_conversations": 2, "total_messages": 5}


def test_stats_costs_the_same_statements_whatever_the_size(client, tenants, auth_headers, count_queries):
    headers = auth_headers(tenants["alice"])
    stats(client, headers)
    with count_queries() as few:
        stats(client, headers)
    for _ in range(5):
        factories.make_messages(factories.make_conversation(tenants["alice"]), 4)
    db.session.commit()
    with count_queries() as many:
        assert stats(client, headers)["total_messages"] == 20
    assert len(many) == len(few)


def test_upgrade_fills_the_counters_of_an_existing_database(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENREGISTER_INSTANCE_PATH", str(tmp_path))
    with separate_database(tmp_path) as url:
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "JWT_SECRET": "x" * 64})
        with app.app_context():
            upgrade(revision="0003")
            with db.engine.begin() as connection:
                at = {"t": "2024-01-01 00:00:00"}
                connection.execute(text(
                    "INSERT INTO users (id, uuid, username, username_key, created, updated) "
                    "VALUES (1, 'u1', 'a', 'a', :t, :t), (2, 'u2', 'b', 'b', :t, :t)"), at)
                connection.execute(text(
                    "INSERT INTO organisations (id, uuid, slug, name, created, updated) VALUES (1, 'o', 'o', 'O', :t, :t)"),
                    at)
                connection.execute(text(
                    "INSERT INTO conversations (id, uuid, slug, title, user_id, organisation_id, metadata, created, "
                    "updated) VALUES (1, 'c1', 's1', 't', 1, 1, '{}', :t, :t), (2, 'c2', 's2', 't', 2, NULL, '{}', :t, :t)"),
                    at)
                connection.execute(text(
                    "INSERT INTO messages (id, uuid, conversation_id, role, content, sources, created) VALUES "
                    "(1, 'm1', 1, 'user', 'hi', '[]', :t), (2, 'm2', 1, 'user', 'hi', '[]', :t), "
                    "(3, 'm3', 2, 'user', 'hi', '[]', :t)"), at)
            upgrade()
            with db.engine.begin() as connection:
                assert_counters_exact(connection)
                counts = connection.execute(text("SELECT conversations, messages FROM organisation_counters")).one()
                assert tuple(counts) == (1, 2)
                # The triggers work after the whole chain of migrations (none has dropped them).
                connection.execute(text(
                    "INSERT INTO messages (id, uuid, conversation_id, role, content, sources, created) "
                    "VALUES (4, 'm4', 2, 'user', 'hi', '[]', :t)"), {"t": "2024-01-01 00:00:00"})
                connection.execute(text("DELETE FROM conversations WHERE id = 1"))
                assert_counters_exact(connection)
                assert connection.execute(text("SELECT messages FROM personal_counters WHERE user_id = 2")).scalar() == 2
            db.session.remove()
            db.engine.dispose()
