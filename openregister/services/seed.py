"""Bulk test data: users of one organisation, each with conversations of alternating messages.

Rows go in with SQLAlchemy Core inserts, many at a time on the session's connection: a million
conversations as ORM objects would take hours. Column defaults (uuids, NISIRA slugs, empty
sources and metadata, timestamps) are still the models', applied by Core for every row.
Everything drawn at random comes from the `rng` passed in, so a seed repeats the same data.
"""

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update

from ..extensions import db
from ..models import Conversation, Membership, Message, Organisation, User
from ..models.user import normalise_username
from .organisations import create_organisation
from .seed_words import ADJECTIVES, ASSISTANT_TEMPLATES, NOUNS, PAST, PLACES, TIMES, USER_TEMPLATES, VERBS

YEAR = timedelta(days=365)
# Conversations written (and committed by the caller) together.
BATCH_SIZE = 1000
# Distinct sentences of each kind that messages are made of.
SENTENCE_POOL = 5000
# Keeps each IN (...) below every database's limit on bound parameters.
LOOKUP_CHUNK = 500


@dataclass
class SeedPlan:
    users: int
    conversations: int
    messages: int
    organisation: str = "Seed"
    archived: float = 0.1

    @property
    def total_conversations(self) -> int:
        return self.users * self.conversations

    @property
    def usernames(self) -> list[str]:
        return [f"user{number}" for number in range(1, self.users + 1)]


def _sentence(rng: random.Random, template: str) -> str:
    words = {
        "noun": rng.choice(NOUNS), "noun2": rng.choice(NOUNS), "noun3": rng.choice(NOUNS),
        "verb": rng.choice(VERBS), "past": rng.choice(PAST), "adj": rng.choice(ADJECTIVES),
        "adj2": rng.choice(ADJECTIVES), "place": rng.choice(PLACES), "time": rng.choice(TIMES),
    }
    return template.format(**words)


class Writer:
    """Draws conversations and messages from the rng, in time order, and inserts them in batches."""

    def __init__(self, rng: random.Random, now: datetime):
        self.rng = rng
        self.now = now
        self.questions = [_sentence(rng, rng.choice(USER_TEMPLATES)) for _ in range(SENTENCE_POOL)]
        self.answers = [_sentence(rng, rng.choice(ASSISTANT_TEMPLATES)) for _ in range(SENTENCE_POOL)]

    def title(self) -> str:
        rng = self.rng
        words = [rng.choice(ADJECTIVES), rng.choice(NOUNS)] + ([rng.choice(NOUNS)] if rng.random() < 0.5 else [])
        if rng.random() < 0.3:
            words.append("in " + rng.choice(PLACES))
        return " ".join(words).capitalize()

    def conversation(self, user_id: int, organisation_id: int, message_count: int, archived: bool):
        """One conversation's row and its messages' rows (without conversation_id), oldest first."""
        rng = self.rng
        # Long enough for every message to fit between the start and now.
        latest_start = self.now - timedelta(hours=message_count)
        started = latest_start - rng.random() * max(YEAR - timedelta(hours=message_count), timedelta(0))
        at = started
        messages = []
        for index in range(message_count):
            if index % 2 == 0:
                at += timedelta(seconds=rng.randint(30, 3000))
                content = rng.choice(self.questions)
                if rng.random() < 0.3:
                    content += " " + rng.choice(self.questions)
                role = "user"
            else:
                at += timedelta(seconds=rng.randint(2, 40))
                content = " ".join(rng.choices(self.answers, k=rng.randint(1, 4)))
                role = "assistant"
            messages.append({"role": role, "content": content, "created": at})
        conversation = {
            "title": self.title(),
            "user_id": user_id,
            "organisation_id": organisation_id,
            "created": started,
            "updated": at,
            "deleted_at": at + (self.now - at) * rng.random() if archived else None,
        }
        return conversation, messages


def prepare_users(plan: SeedPlan) -> tuple[list[int], Organisation]:
    """The plan's users (made when missing, kept as they are when they exist), all members of the
    organisation (made when missing), which becomes their active one. Returns their ids in order."""
    names = plan.usernames
    existing = _user_ids(names)
    missing = [{"username": name, "username_key": normalise_username(name)} for name in names if name not in existing]
    if missing:
        db.session.connection().execute(insert(User.__table__), missing)
        existing = _user_ids(names)
    ids = [existing[name] for name in names]

    organisation = db.session.scalars(select(Organisation).where(Organisation.name == plan.organisation)).first()
    if organisation is None:
        organisation = create_organisation(db.session.get(User, ids[0]), name=plan.organisation)
    members = set()
    for chunk in _chunks(ids):
        members.update(db.session.scalars(select(Membership.user_id).where(
            Membership.organisation_id == organisation.id, Membership.user_id.in_(chunk))))
    joining = [{"organisation_id": organisation.id, "user_id": user_id} for user_id in ids if user_id not in members]
    connection = db.session.connection()
    if joining:
        connection.execute(insert(Membership.__table__), joining)
    for chunk in _chunks(ids):
        connection.execute(update(User.__table__).where(User.__table__.c.id.in_(chunk))
                           .values(active_organisation_id=organisation.id))
    db.session.expire_all()
    return ids, organisation


def seed_conversations(plan: SeedPlan, user_ids: list[int], organisation_id: int, *, rng: random.Random,
                       now: datetime) -> Iterator[int]:
    """Insert the plan's conversations and messages, yielding how many conversations each batch
    wrote; the caller commits after each. Exactly round(archived x total) are archived."""
    writer = Writer(rng, now)
    total = plan.total_conversations
    to_archive = round(plan.archived * total)
    conversations_table = Conversation.__table__
    messages_table = Message.__table__
    insert_conversations = insert(conversations_table).returning(conversations_table.c.id, sort_by_parameter_order=True)
    insert_messages = insert(messages_table)
    seen = 0
    batch_conversations, batch_messages = [], []
    for user_id in user_ids:
        for _ in range(plan.conversations):
            # Selection sampling (Knuth's algorithm S): exactly to_archive of total, in one pass.
            archived = rng.random() * (total - seen) < to_archive
            to_archive -= archived
            seen += 1
            conversation, messages = writer.conversation(user_id, organisation_id, plan.messages, archived)
            batch_conversations.append(conversation)
            batch_messages.append(messages)
            if len(batch_conversations) == BATCH_SIZE:
                _write(insert_conversations, insert_messages, batch_conversations, batch_messages)
                yield len(batch_conversations)
                batch_conversations, batch_messages = [], []
    if batch_conversations:
        _write(insert_conversations, insert_messages, batch_conversations, batch_messages)
        yield len(batch_conversations)


def _write(insert_conversations, insert_messages, conversations: list[dict], messages: list[list[dict]]) -> None:
    connection = db.session.connection()
    ids = connection.execute(insert_conversations, conversations).scalars().all()
    rows = [
        {**message, "conversation_id": conversation_id}
        for conversation_id, conversation_messages in zip(ids, messages, strict=True)
        for message in conversation_messages
    ]
    if rows:
        connection.execute(insert_messages, rows)


def _user_ids(names: list[str]) -> dict[str, int]:
    """The ids of the users with these (already normalised) names."""
    found = {}
    for chunk in _chunks(names):
        found.update(db.session.execute(select(User.username_key, User.id).where(User.username_key.in_(chunk))).all())
    return found


def _chunks(items: list) -> Iterator[list]:
    for start in range(0, len(items), LOOKUP_CHUNK):
        yield items[start:start + LOOKUP_CHUNK]
