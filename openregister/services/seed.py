"""Bulk test data: users of one organisation, each with conversations of alternating messages.

The users and the organisation go through the ORM and the services; the conversations and
messages, a million of them in a large seed, go in as plain rows through the database driver, with
the triggers of the search index and the counters set aside for the load (services/seed_load.py).
The rows get the models' own defaults (uuids, NISIRA slugs, empty sources and metadata). Everything
drawn at random comes from the `rng` passed in, so a seed repeats the same data.
"""

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import insert, select, update

from ..extensions import db
from ..models import Membership, Organisation, User
from ..models.base import new_uuids
from ..models.conversation import new_slug
from ..models.user import normalise_username
from .organisations import create_organisation
from .seed_load import BulkLoad, ConversationRow, MessageRow
from .seed_words import ADJECTIVES, ASSISTANT_TEMPLATES, NOUNS, PAST, PLACES, TIMES, USER_TEMPLATES, VERBS

T = TypeVar("T")
YEAR = timedelta(days=365)
# Conversations written together.
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
    """Draws conversations and messages from the rng, in time order, as rows for the bulk load."""

    def __init__(self, rng: random.Random, now: datetime) -> None:
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

    def conversation(self, conversation_id: int, first_message_id: int, user_id: int, organisation_id: int,
                     message_count: int, archived: bool) -> tuple[ConversationRow, list[MessageRow]]:
        """One conversation's row and its messages' rows, oldest first, with the ids given.

        Indexes are drawn as int(random() x n) rather than with choice() and randint(): the same
        uniform choices at a fraction of the cost, which counts at ten million messages."""
        random_ = self.rng.random
        questions, answers = self.questions, self.answers
        # Long enough for every message to fit between the start and now.
        latest_start = self.now - timedelta(hours=message_count)
        started = latest_start - random_() * max(YEAR - timedelta(hours=message_count), timedelta(0))
        at = started
        uuids = new_uuids(message_count + 1)
        messages: list[MessageRow] = []
        for index in range(message_count):
            if index % 2 == 0:
                at += timedelta(seconds=30 + int(random_() * 2971))
                content = questions[int(random_() * SENTENCE_POOL)]
                if random_() < 0.3:
                    content += " " + questions[int(random_() * SENTENCE_POOL)]
                role = "user"
            else:
                at += timedelta(seconds=2 + int(random_() * 39))
                content = " ".join([answers[int(random_() * SENTENCE_POOL)] for _ in range(1 + int(random_() * 4))])
                role = "assistant"
            messages.append((first_message_id + index, uuids[index], conversation_id, role, content, at))
        deleted_at = at + (self.now - at) * random_() if archived else None
        conversation = (conversation_id, uuids[-1], new_slug(), self.title(), user_id, organisation_id,
                        deleted_at, started, at)
        return conversation, messages


def prepare_users(plan: SeedPlan) -> tuple[list[int], Organisation]:
    """The plan's users (made when missing, kept as they are when they exist), all members of the
    organisation (made when missing), which becomes their active one. Returns their ids in order."""
    names = plan.usernames
    existing = _user_ids(names)
    missing = [{"username": name, "username_key": normalise_username(name)} for name in names if name not in existing]
    if missing:
        db.session.connection().execute(insert(User), missing)
        existing = _user_ids(names)
    ids = [existing[name] for name in names]

    organisation = db.session.scalars(select(Organisation).where(Organisation.name == plan.organisation)).first()
    if organisation is None:
        organisation = create_organisation(db.session.get_one(User, ids[0]), name=plan.organisation)
    members: set[int] = set()
    for chunk in _chunks(ids):
        members.update(db.session.scalars(select(Membership.user_id).where(
            Membership.organisation_id == organisation.id, Membership.user_id.in_(chunk))))
    joining = [{"organisation_id": organisation.id, "user_id": user_id} for user_id in ids if user_id not in members]
    connection = db.session.connection()
    if joining:
        connection.execute(insert(Membership), joining)
    for chunk in _chunks(ids):
        connection.execute(update(User).where(User.id.in_(chunk))
                           .values(active_organisation_id=organisation.id))
    db.session.expire_all()
    return ids, organisation


def seed(plan: SeedPlan, load: BulkLoad, *, rng: random.Random, now: datetime,
         progress: Callable[[int], None]) -> None:
    """Make the plan's users and load their conversations and messages, in the session's transaction,
    which the caller commits once (nothing of a failed seed stays), then calls load.settle().
    `progress` is called with how many conversations each batch wrote. Exactly round(archived x
    total) are archived."""
    load.begin()
    user_ids, organisation = prepare_users(plan)
    db.session.flush()
    load.set_aside_triggers()
    first_conversation, first_message = next_conversation, next_message = load.first_ids()
    writer = Writer(rng, now)
    total = plan.total_conversations
    to_archive = round(plan.archived * total)
    seen = 0
    conversations: list[ConversationRow] = []
    messages: list[MessageRow] = []
    for user_id in user_ids:
        for _ in range(plan.conversations):
            # Selection sampling (Knuth's algorithm S): exactly to_archive of total, in one pass.
            archived = rng.random() * (total - seen) < to_archive
            to_archive -= archived
            seen += 1
            conversation, its_messages = writer.conversation(next_conversation, next_message, user_id, organisation.id,
                                                             plan.messages, archived)
            next_conversation += 1
            next_message += plan.messages
            conversations.append(conversation)
            messages.extend(its_messages)
            if len(conversations) == BATCH_SIZE:
                load.write(conversations, messages)
                progress(len(conversations))
                conversations, messages = [], []
    if conversations:
        load.write(conversations, messages)
        progress(len(conversations))
    load.finish(next_conversation - 1, next_message - 1)
    assert next_conversation - first_conversation == total and next_message - first_message == total * plan.messages


def _user_ids(names: list[str]) -> dict[str, int]:
    """The ids of the users with these (already normalised) names."""
    found: dict[str, int] = {}
    for chunk in _chunks(names):
        found.update(db.session.execute(select(User.username_key, User.id).where(User.username_key.in_(chunk))).all())
    return found


def _chunks(items: list[T]) -> Iterator[list[T]]:
    for start in range(0, len(items), LOOKUP_CHUNK):
        yield items[start:start + LOOKUP_CHUNK]
