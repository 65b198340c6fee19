"""Bulk test data: users of one organisation, each with conversations of alternating messages.

The users and the organisation go through the ORM and the services; the conversations and
messages, a million of them in a large seed, go in as plain rows through the database driver, with
the triggers of the search index and the counters set aside for the load (services/seed_load.py).
The rows get the models' own defaults (uuids, NISIRA slugs, empty sources and metadata); a second
process makes them while this one loads (services/seed_rows.py). Everything drawn at random comes
from the `rng` passed in (its state, handed to that process), so a seed repeats the same data.
"""

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import insert, select, update

from ..extensions import db
from ..models import Membership, Organisation, User
from ..models.user import normalise_username
from .organisations import create_organisation
from .seed_load import BulkLoad
from .seed_rows import RowPlan, produced

T = TypeVar("T")
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
    first_conversation, first_message = load.first_ids()
    rows = RowPlan(user_ids, plan.conversations, plan.messages, organisation.id, plan.archived,
                   first_conversation, first_message, now, rng.getstate(), load.dialect)
    with produced(rows) as batches:
        for conversations, messages in batches:
            load.write(conversations, messages)
            progress(len(conversations))
    total = plan.total_conversations
    load.finish(first_conversation + total - 1, first_message + total * plan.messages - 1)


def _user_ids(names: list[str]) -> dict[str, int]:
    """The ids of the users with these (already normalised) names."""
    found: dict[str, int] = {}
    for chunk in _chunks(names):
        found.update(db.session.execute(select(User.username_key, User.id).where(User.username_key.in_(chunk))).all())
    return found


def _chunks(items: list[T]) -> Iterator[list[T]]:
    for start in range(0, len(items), LOOKUP_CHUNK):
        yield items[start:start + LOOKUP_CHUNK]
