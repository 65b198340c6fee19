"""`flask seed`: bulk test data (a module of its own beside cli.py, which holds the account commands)."""

import random
import sys
import time

import click

from .extensions import db
from .models.base import utcnow
from .services.seed import SeedPlan, seed
from .services.seed_load import bulk_load
from .services.seed_rows import ProducerFailed


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
def seed_command(users: int, conversations: int, messages: int, organisation: str, archived: float,
                 random_seed: int | None) -> None:
    """Fill the database with users, conversations and messages for trying out and load tests.

    Users that exist already are kept as they are (password included) and get the conversations
    too, so a second run adds to the first. New users have no password: sign in with a token from
    `flask token NAME`. The whole seed is one transaction: other writers wait until it ends, and a
    seed that fails or is interrupted leaves the database as it was.
    """
    plan = SeedPlan(users, conversations, messages, organisation, archived)
    rng = random.Random(random_seed)
    started = time.monotonic()
    load = bulk_load(db.session.connection())
    try:
        with click.progressbar(length=plan.total_conversations, label="Conversations", file=sys.stderr) as bar:
            seed(plan, load, rng=rng, now=utcnow(), progress=bar.update)
        db.session.commit()
    except ProducerFailed as error:
        db.session.rollback()
        raise click.ClickException(f"{error}. Nothing was seeded.") from error
    except BaseException:
        db.session.rollback()
        raise
    finally:
        load.settle()
    click.echo(f"Seeded {users} users with {plan.total_conversations} conversations and "
               f"{plan.total_conversations * messages} messages in organisation {organisation!r} "
               f"in {time.monotonic() - started:.1f} s.")
