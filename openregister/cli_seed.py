"""`flask seed`: bulk test data (a module of its own beside cli.py, which holds the account commands)."""

import random
import sys
import time

import click
from sqlalchemy import text

from .extensions import db
from .models.base import utcnow
from .services.seed import SeedPlan, prepare_users, seed_conversations


@click.command("seed")
@click.option("--users", type=click.IntRange(min=1), required=True, help="How many users: user1 ... userN.")
@click.option("--conversations", type=click.IntRange(min=0), required=True, help="Conversations per user.")
@click.option("--messages", type=click.IntRange(min=0), required=True,
              help="Messages per conversation, alternating user and assistant.")
@click.option("--organisation", default="Seed", show_default=True,
              help="The users' organisation (created if new), made active for each.")
@click.option("--archived", type=click.FloatRange(0, 1), default=0.1, show_default=True,
              help="Fraction of the conversations that is archived.")
@click.option("--random-seed", type=int, help="Repeat the same titles, texts, times and archive choices.")
def seed_command(users, conversations, messages, organisation, archived, random_seed):
    """Fill the database with users, conversations and messages for trying out and load tests.

    Users that exist already are kept as they are (password included) and get the conversations
    too, so a second run adds to the first. New users have no password: sign in with a token from
    `flask token NAME`.
    """
    plan = SeedPlan(users, conversations, messages, organisation, archived)
    rng = random.Random(random_seed)
    started = time.monotonic()
    if db.engine.dialect.name == "sqlite":
        # Keeps the unique indexes of a large table in memory while writing: 256 MB of page cache.
        db.session.execute(text("PRAGMA cache_size=-262144"))
    user_ids, organisation_row = prepare_users(plan)
    organisation_id = organisation_row.id
    db.session.commit()
    with click.progressbar(length=plan.total_conversations, label="Conversations", file=sys.stderr) as bar:
        for written in seed_conversations(plan, user_ids, organisation_id, rng=rng, now=utcnow()):
            db.session.commit()
            bar.update(written)
    click.echo(f"Seeded {users} users with {plan.total_conversations} conversations and "
               f"{plan.total_conversations * messages} messages in organisation {organisation!r} "
               f"in {time.monotonic() - started:.1f} s.")
