"""Plain functions that add and flush one row each; password hashes are computed once."""

from datetime import timedelta

from werkzeug.security import generate_password_hash

from openregister.extensions import db
from openregister.models import Agent, Conversation, Membership, Message, Organisation, User
from openregister.models.base import utcnow

PASSWORD = "correct horse"
_PASSWORD_HASH = generate_password_hash(PASSWORD)


def make_user(username="alice", **overrides) -> User:
    user = User(username=username, password_hash=_PASSWORD_HASH, **overrides)
    db.session.add(user)
    db.session.flush()
    return user


def make_organisation(name="Acme", *, owner: User | None = None, members=(), **overrides) -> Organisation:
    """An organisation owned by `owner`; owner and members join it, and it becomes their active one."""
    organisation = Organisation(name=name, slug=overrides.pop("slug", name.lower().replace(" ", "-")), owner=owner, **overrides)
    db.session.add(organisation)
    db.session.flush()
    for user in ([owner] if owner else []) + list(members):
        db.session.add(Membership(organisation_id=organisation.id, user_id=user.id))
        user.active_organisation_id = organisation.id
    db.session.flush()
    return organisation


def make_agent(owner: User | None = None, organisation: Organisation | None = None, **overrides) -> Agent:
    values = {"name": "Helper", "is_private": False, "views": [], "invited_users": [], "groups": [], "tools": []}
    values.update(overrides)
    agent = Agent(owner=owner, organisation=organisation, **values)
    db.session.add(agent)
    db.session.flush()
    return agent


def make_conversation(owner: User, **overrides) -> Conversation:
    values = {"title": "A conversation", "organisation_id": owner.active_organisation_id, "metadata_": {}}
    values.update(overrides)
    conversation = Conversation(user=owner, **values)
    db.session.add(conversation)
    db.session.flush()
    return conversation


def make_message(conversation: Conversation, role="user", content="Hello", **overrides) -> Message:
    overrides.setdefault("sources", [])
    message = Message(conversation_id=conversation.id, role=role, content=content, **overrides)
    db.session.add(message)
    db.session.flush()
    return message


def make_messages(conversation: Conversation, count: int) -> list[Message]:
    """`count` messages alternating user/assistant, with strictly increasing timestamps."""
    start = utcnow()
    return [
        make_message(conversation, role="user" if i % 2 == 0 else "assistant", content=f"message {i}",
                     created=start + timedelta(milliseconds=i))
        for i in range(count)
    ]
