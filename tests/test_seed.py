"""`flask seed`: bulk users, conversations and messages, checked in the database and through HTTP."""

import re
from datetime import timedelta
from itertools import groupby

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select, text

from openregister import create_app
from openregister.extensions import db
from openregister.models import Conversation, Membership, Message, Organisation, User
from openregister.models.base import utcnow

from . import factories
from .conftest import API, basic, separate_database
from .test_counters import assert_counters_exact, full_count


def seed(runner, *args):
    result = runner.invoke(args=["seed", *map(str, args)])
    assert result.exit_code == 0, result.output
    return result


def conversations_with_messages(username=None):
    """[(conversation, [messages oldest first])] in insertion order, optionally of one user."""
    db.session.expire_all()
    stmt = select(Conversation).order_by(Conversation.id)
    if username:
        stmt = stmt.join(User, User.id == Conversation.user_id).where(User.username == username)
    conversations = db.session.scalars(stmt).all()
    messages = db.session.scalars(
        select(Message).where(Message.conversation_id.in_([c.id for c in conversations]))
        .order_by(Message.conversation_id, Message.created, Message.id)
    ).all()
    by_conversation = {key: list(group) for key, group in groupby(messages, key=lambda m: m.conversation_id)}
    return [(conversation, by_conversation.get(conversation.id, [])) for conversation in conversations]


def content(rows):
    """What a random seed must repeat: titles, archive choices, roles and texts."""
    return [
        (conversation.title, conversation.deleted_at is not None, [(m.role, m.content) for m in messages])
        for conversation, messages in rows
    ]


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_seed_makes_users_with_conversations_of_messages(runner):
    result = seed(runner, "--users", 3, "--conversations", 4, "--messages", 5)
    assert result.stdout.startswith("Seeded 3 users with 12 conversations and 60 messages in organisation 'Seed'")
    assert result.stdout.count("\n") == 1
    assert "Conversations" in result.stderr  # the progress bar
    assert db.session.scalars(select(User.username).order_by(User.username)).all() == ["user1", "user2", "user3"]
    assert db.session.scalars(select(User.password_hash)).all() == [None, None, None]
    per_user = db.session.execute(select(User.username, func.count(Conversation.id)).join(
        Conversation, Conversation.user_id == User.id).group_by(User.username).order_by(User.username)).all()
    assert [tuple(row) for row in per_user] == [("user1", 4), ("user2", 4), ("user3", 4)]
    assert count(Message) == 60


def test_messages_alternate_and_times_are_consistent_within_the_past_year(runner):
    seed(runner, "--users", 2, "--conversations", 5, "--messages", 7, "--random-seed", 3)
    now = utcnow()
    rows = conversations_with_messages()
    for conversation, messages in rows:
        assert [m.role for m in messages] == ["user", "assistant", "user", "assistant", "user", "assistant", "user"]
        times = [m.created for m in messages]
        assert times == sorted(times) and len(set(times)) == len(times)
        assert now - timedelta(days=366) < conversation.created <= times[0]
        assert conversation.updated == times[-1] <= now
        assert len(conversation.slug) == 11 and len(conversation.uuid) == 36
        assert all(m.content.strip() and m.sources == [] for m in messages)
    assert len({conversation.slug for conversation, _ in rows}) == len(rows)
    # a varied vocabulary: many different titles and texts
    assert len({conversation.title for conversation, _ in rows}) > len(rows) / 2
    assert len({m.content for _, messages in rows for m in messages}) > 50


@pytest.mark.parametrize(("fraction", "archived"), [("0", 0), ("0.25", 5), ("1", 20)])
def test_exactly_the_fraction_asked_for_is_archived(runner, fraction, archived):
    seed(runner, "--users", 4, "--conversations", 5, "--messages", 2, "--archived", fraction)
    rows = conversations_with_messages()
    deleted = [conversation for conversation, _ in rows if conversation.deleted_at is not None]
    assert len(deleted) == archived
    assert all(conversation.updated <= conversation.deleted_at <= utcnow() for conversation in deleted)


def test_the_same_random_seed_repeats_the_content_and_another_does_not(runner):
    seed(runner, "--users", 2, "--conversations", 3, "--messages", 4, "--random-seed", 42)
    first = content(conversations_with_messages())
    seed(runner, "--users", 2, "--conversations", 3, "--messages", 4, "--random-seed", 42)
    second = content(conversations_with_messages())[len(first):]
    seed(runner, "--users", 2, "--conversations", 3, "--messages", 4, "--random-seed", 43)
    third = content(conversations_with_messages())[2 * len(first):]
    assert second == first
    assert third != first


def test_users_join_the_organisation_and_it_becomes_active(runner):
    seed(runner, "--users", 3, "--conversations", 1, "--messages", 1, "--organisation", "Load Test")
    organisation = db.session.scalars(select(Organisation)).one()
    assert organisation.name == "Load Test"
    users = db.session.scalars(select(User)).all()
    assert {user.active_organisation_id for user in users} == {organisation.id}
    assert count(Membership) == 3
    assert set(db.session.scalars(select(Conversation.organisation_id))) == {organisation.id}


def test_a_second_run_keeps_existing_users_and_adds_conversations(runner, client):
    bob = factories.make_user("user2")
    acme = factories.make_organisation("Acme", owner=bob)
    db.session.commit()
    seed(runner, "--users", 2, "--conversations", 2, "--messages", 2, "--organisation", "Acme")
    seed(runner, "--users", 3, "--conversations", 2, "--messages", 2, "--organisation", "Acme")
    assert db.session.scalars(select(User.username).order_by(User.username)).all() == ["user1", "user2", "user3"]
    assert count(Conversation) == 10
    assert count(Membership) == 3
    assert count(Organisation) == 1
    # user2 existed before: still the same user, with the same password
    response = client.get(f"{API}/conversations?limit=100", headers=basic("user2", factories.PASSWORD))
    assert response.status_code == 200
    assert response.get_json()["total"] == len([
        c for c, _ in conversations_with_messages("user2") if c.deleted_at is None and c.organisation_id == acme.id
    ])


def test_seeded_conversations_are_listed_for_user1_with_a_token(runner, client):
    seed(runner, "--users", 2, "--conversations", 6, "--messages", 3, "--archived", "0.5", "--random-seed", 1)
    token = runner.invoke(args=["token", "user1"]).stdout.strip()
    headers = {"Authorization": f"Bearer {token}"}
    rows = conversations_with_messages("user1")
    active = sorted(c.uuid for c, _ in rows if c.deleted_at is None)
    archived = sorted(c.uuid for c, _ in rows if c.deleted_at is not None)

    listed = client.get(f"{API}/conversations?limit=100", headers=headers)
    assert listed.status_code == 200
    assert sorted(c["uuid"] for c in listed.get_json()["results"]) == active
    assert {c["messageCount"] for c in listed.get_json()["results"]} == {3}
    archive = client.get(f"{API}/conversations/archive", headers=headers).get_json()
    assert sorted(c["uuid"] for c in archive["results"]) == archived

    conversation, messages = rows[0]
    page = client.get(f"{API}/conversations/{conversation.uuid}/messages", headers=headers).get_json()
    assert [m["content"] for m in page["results"]] == [m.content for m in messages]


@pytest.mark.parametrize("args", [
    ["--users", "0", "--conversations", "1", "--messages", "1"],
    ["--users", "1", "--conversations", "-1", "--messages", "1"],
    ["--users", "1", "--conversations", "1", "--messages", "1", "--archived", "1.5"],
    ["--conversations", "1", "--messages", "1"],
])
def test_bad_arguments_are_refused_and_write_nothing(runner, args):
    result = runner.invoke(args=["seed", *args])
    assert result.exit_code == 2
    assert count(User) == 0


# The bulk load sets the insert triggers of the search index and the counters aside and does their
# work once: the database must end up as if every row had gone through them.

def bearer(runner, username):
    return {"Authorization": f"Bearer {runner.invoke(args=['token', username]).stdout.strip()}"}


def search_uuids(client, headers, words):
    response = client.get(f"{API}/conversations", query_string={"_search": words, "limit": 100}, headers=headers)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["total"] <= 100
    return {row["uuid"] for row in body["results"]}


def has_word(text_, word):
    return re.search(rf"(?<![a-z0-9]){re.escape(word)}(?![a-z0-9])", text_.lower()) is not None


def triggers():
    """The database's own triggers on our tables, with whether each is enabled (SQLite: their SQL, spaced alike)."""
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            rows = connection.execute(text(
                "SELECT tgname, tgenabled FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE NOT tgisinternal AND c.relnamespace = current_schema()::regnamespace"))
        else:
            rows = connection.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"))
        return sorted((name, " ".join(str(state).split())) for name, state in rows)


def test_a_seed_into_existing_data_is_searchable_and_counted_and_the_triggers_are_back(
        runner, client, tenants, auth_headers):
    alice = tenants["alice"]
    before = factories.make_conversation(alice, title="Quokka notes")
    factories.make_message(before, content="The zanzibarite sample arrived")
    db.session.commit()
    before_uuid = before.uuid
    own_triggers = triggers()
    # Two batches of the load, into an organisation that has members and rows already.
    seed(runner, "--users", 3, "--conversations", 400, "--messages", 3, "--organisation", "Acme",
         "--archived", "0.2", "--random-seed", 5)
    assert triggers() == own_triggers
    with db.engine.connect() as connection:
        assert_counters_exact(connection)
    assert search_uuids(client, auth_headers(alice), "zanzibarite") == {before_uuid}
    assert search_uuids(client, auth_headers(alice), "quokka") == {before_uuid}

    headers = bearer(runner, "user1")
    rows = [(c, m) for c, m in conversations_with_messages("user1") if c.deleted_at is None]
    word = max((w for w in re.findall(r"[a-z]+", rows[0][1][0].content.lower())), key=len)
    expected = {c.uuid for c, messages in rows
                if has_word(c.title, word) or any(has_word(m.content, word) for m in messages)}
    assert rows[0][0].uuid in expected
    if len(expected) <= 100:
        assert search_uuids(client, headers, word) == expected
    assert expected <= search_uuids(client, headers, word[:4]) | expected
    title_word = rows[-1][0].title.split()[-1].lower()
    assert rows[-1][0].uuid in search_uuids(client, headers, title_word)

    # Written through the API after the seed: indexed and counted by the triggers again.
    made = client.post(f"{API}/conversations", json={"title": "Xylophone repairs"}, headers=headers).get_json()
    agent = client.post(f"{API}/agents", json={"name": "Helper", "isPrivate": False}, headers=headers).get_json()
    sent = client.post(f"{API}/chat/send", json={"agentUuid": agent["uuid"], "message": "Where is the quetzal?"},
                       headers=headers)
    assert sent.status_code == 200
    assert search_uuids(client, headers, "xylophone") == {made["uuid"]}
    assert search_uuids(client, headers, "quetzal") == {sent.get_json()["conversation"]}
    db.session.commit()
    with db.engine.connect() as connection:
        assert_counters_exact(connection)
    stats = client.get(f"{API}/chat/stats", headers=headers).get_json()
    acme_id = db.session.scalars(select(Organisation.id).where(Organisation.name == "Acme")).one()
    assert stats == full_count(organisation_id=acme_id)


def test_a_failing_seed_leaves_the_database_as_it_was_with_its_triggers(runner, client, tenants, auth_headers):
    alice = tenants["alice"]
    own_triggers = triggers()
    # The database refuses the load's messages, after the triggers have been set aside.
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                                       "$$ BEGIN RAISE EXCEPTION 'refused'; END $$")
            connection.exec_driver_sql("CREATE TRIGGER refuse BEFORE INSERT ON messages FOR EACH ROW "
                                       "EXECUTE FUNCTION refuse()")
        else:
            connection.exec_driver_sql("CREATE TRIGGER refuse BEFORE INSERT ON messages BEGIN "
                                       "SELECT RAISE(ABORT, 'refused'); END")
    result = runner.invoke(args=["seed", "--users", "2", "--conversations", "3", "--messages", "2"])
    assert result.exit_code != 0
    assert "refused" in str(result.exception)
    with db.engine.begin() as connection:
        connection.exec_driver_sql("DROP TRIGGER refuse" + (" ON messages" if connection.dialect.name == "postgresql"
                                                            else ""))
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("DROP FUNCTION refuse()")
    db.session.rollback()
    assert triggers() == own_triggers
    assert count(User) == 3 and count(Conversation) == 0 and count(Message) == 0
    headers = auth_headers(alice)
    made = client.post(f"{API}/conversations", json={"title": "Xylophone repairs"}, headers=headers).get_json()
    assert search_uuids(client, headers, "xylophone") == {made["uuid"]}
    with db.engine.connect() as connection:
        assert_counters_exact(connection)


def test_a_failure_making_the_rows_is_reported_and_leaves_the_database_as_it_was(runner):
    """A billion messages a conversation do not fit in the hours since year 1: the process making
    the rows fails on the first conversation, after the seed has set the triggers aside."""
    own_triggers = triggers()
    result = runner.invoke(args=["seed", "--users", "2", "--conversations", "3", "--messages", str(10 ** 9)])
    assert result.exit_code == 1
    assert "The rows could not be made: OverflowError" in result.output
    assert "Nothing was seeded." in result.output
    db.session.rollback()
    assert triggers() == own_triggers
    assert count(User) == 0 and count(Organisation) == 0 and count(Conversation) == 0
    with db.engine.connect() as connection:
        assert_counters_exact(connection)


def test_a_seed_into_a_migrated_database_file(tmp_path, monkeypatch):
    """The migrations' triggers (not create_all's) are set aside and back; SQLite stays in WAL mode."""
    monkeypatch.setenv("OPENREGISTER_INSTANCE_PATH", str(tmp_path))
    with separate_database(tmp_path) as url:
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "JWT_SECRET": "x" * 64})
        with app.app_context():
            upgrade()
            own_triggers = triggers()
            seed(app.test_cli_runner(), "--users", 2, "--conversations", 3, "--messages", 4, "--random-seed", 2)
            seed(app.test_cli_runner(), "--users", 3, "--conversations", 2, "--messages", 2)
            assert triggers() == own_triggers
            with db.engine.connect() as connection:
                assert_counters_exact(connection)
                if connection.dialect.name == "sqlite":
                    assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            client = app.test_client()
            headers = bearer(app.test_cli_runner(), "user2")
            rows = conversations_with_messages("user2")
            assert len(rows) == 5
            first = next(c for c, _ in rows if c.deleted_at is None)
            word = max(re.findall(r"[a-z]+", first.title.lower()), key=len)
            assert first.uuid in search_uuids(client, headers, word)
            made = client.post(f"{API}/conversations", json={"title": "Xylophone"}, headers=headers).get_json()
            assert search_uuids(client, headers, "xylophone") == {made["uuid"]}
            db.session.remove()
            db.engine.dispose()
