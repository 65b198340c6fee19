"""Does a user's search cost the same whatever everyone else has written?

    .venv/bin/python bench/search_scale.py [--small 1000] [--large 100000] [--database-url URL]

Builds two databases with the same user1 (100 conversations of 10 messages) among other users
who have 100 conversations each, 10 messages per conversation, the same vocabulary, and look-alike
words ("invoice", "invoices", "invoicing") everywhere, then times user1's searches through the
app (median of --rounds requests, small and large taking turns) and prints the ratio large/small.
SQLite by default (files in a temporary folder); for PostgreSQL give two database URLs
(--small-database-url, --database-url) whose tables are dropped and rebuilt. Run by hand;
nothing here is a test.
"""

import argparse
import random
import statistics
import tempfile
import time
from datetime import timedelta

from sqlalchemy import insert, text

from openregister import create_app
from openregister.auth import issue_token
from openregister.extensions import db
from openregister.models import Conversation, Message, User
from openregister.models.base import utcnow

API = "/index.php/apps/openregister/api"
PER_USER = 100
PER_CONVERSATION = 10
SEARCHES = ["invoice", "invo", "march invoice", "zebra quartz"]
random.seed(13)
VOCABULARY = ["".join(random.choices("abcdefghijklmnopqrstuvwxyz", k=random.randint(3, 9))) for _ in range(3000)]
VOCABULARY += ["invoice", "invoices", "invoicing", "café", "march", "zebra", "quartz"]


def sentence(rng: random.Random) -> str:
    return " ".join(rng.choices(VOCABULARY, k=rng.randint(5, 25))).capitalize() + "."


def build(conversations: int, batch: int = 20_000) -> None:
    """Users user1..userN with PER_USER conversations each, inserted in bulk (the triggers index them)."""
    db.drop_all()
    db.create_all()
    users = max(1, conversations // PER_USER)
    db.session.execute(insert(User), [
        {"id": number, "username": f"user{number}", "username_key": f"user{number}"} for number in range(1, users + 1)
    ])
    start = utcnow() - timedelta(days=365)
    conversation_rows, message_rows, message_id = [], [], 0

    def flush():
        if conversation_rows:
            db.session.execute(insert(Conversation), conversation_rows)
        if message_rows:
            db.session.execute(insert(Message), message_rows)
        conversation_rows.clear()
        message_rows.clear()

    # Interleaved, as real traffic is: conversation k of every user, then k + 1, ...
    conversation_id = 0
    for round_number in range(PER_USER):
        for user_id in range(1, users + 1):
            conversation_id += 1
            # Each user's words depend only on the user, so user1 says the same at every scale.
            rng = random.Random(user_id * PER_USER + round_number)
            moment = start + timedelta(seconds=round_number)
            conversation_rows.append({"id": conversation_id, "title": sentence(rng)[:200], "user_id": user_id,
                                      "organisation_id": None, "metadata_": {}, "created": moment, "updated": moment})
            for _ in range(PER_CONVERSATION):
                message_id += 1
                message_rows.append({"id": message_id, "conversation_id": conversation_id, "role": "user",
                                     "content": sentence(rng), "sources": [], "created": moment})
            if len(message_rows) >= batch:
                flush()
    flush()
    if db.engine.dialect.name == "postgresql":
        for table in ("users", "conversations", "messages"):
            db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def measure(app, headers, words) -> tuple[float, int]:
    began = time.perf_counter()
    response = app.test_client().get(f"{API}/conversations", query_string={"_search": words, "limit": 20}, headers=headers)
    elapsed = time.perf_counter() - began
    assert response.status_code == 200, response.get_json()
    return elapsed, response.get_json()["total"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--database-url", help="PostgreSQL: the large database; the small one is --small-database-url")
    parser.add_argument("--small-database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        apps = {}
        for size, url in ((args.small, args.small_database_url), (args.large, args.database_url)):
            app = create_app({"SQLALCHEMY_DATABASE_URI": url or f"sqlite:///{folder}/bench{size}.sqlite",
                              "JWT_SECRET": "bench-" + "x" * 64, "SECRET_KEY": "bench"})
            with app.app_context():
                began = time.perf_counter()
                build(size)
                print(f"{size:>9} conversations, {size * PER_CONVERSATION:>10} messages:"
                      f" built in {time.perf_counter() - began:.0f} s", flush=True)
                headers = {"Authorization": f"Bearer {issue_token(db.session.get(User, 1))}"}
            apps[size] = (app, headers)
        # Small and large take turns, request by request, so that both see the same machine.
        samples = {(size, words): [] for size in apps for words in SEARCHES}
        totals = {}
        for _ in range(args.rounds):
            for words in SEARCHES:
                for size, (app, headers) in apps.items():
                    with app.app_context():
                        elapsed, totals[size, words] = measure(app, headers, words)
                    samples[size, words].append(elapsed)
        print(f"{'_search':<14} {'total':>5} {'small ms':>9} {'large ms':>9} {'ratio':>6}")
        for words in SEARCHES:
            assert totals[args.small, words] == totals[args.large, words], words
            fast = statistics.median(samples[args.small, words])
            slow = statistics.median(samples[args.large, words])
            print(f"{words:<14} {totals[args.small, words]:>5} {fast * 1000:>9.2f} {slow * 1000:>9.2f} {slow / fast:>6.2f}")
        for app, _ in apps.values():
            with app.app_context():
                db.engine.dispose()


if __name__ == "__main__":
    main()
