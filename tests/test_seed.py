"""`flask seed`: bulk users, conversations and messages, checked in the database and through HTTP."""

from datetime import timedelta
from itertools import groupby

import pytest
from sqlalchemy import func, select

from openregister.extensions import db
from openregister.models import Conversation, Membership, Message, Organisation, User
from openregister.models.base import utcnow

from . import factories
from .conftest import API, basic


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
