"""Does a user's search cost the same whatever everyone else has written?

    .venv/bin/python bench/search_scale.py [--small 1000] [--large 100000] [--database-url URL]

Builds two databases with the same user1 (100 conversations of 10 messages) among other users
who have 100 conversations each, 10 messages per conversation, the same vocabulary, and look-alike
words ("invoice", "invoices", "invoicing") everywhere, then times user1's searches through the
app (median of --rounds requests) on both and prints the ratio large/small. SQLite by default (a
file in a temporary folder); with --database-url a PostgreSQL database URL whose tables are
dropped and rebuilt. Run by hand; nothing here is a test.
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
SEARCHES = ["invoice", "invo", "cafe march", "zebra quartz"]
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


def time_searches(app, rounds: int) -> dict:
    client = app.test_client()
    headers = {"Authorization": f"Bearer {issue_token(db.session.get(User, 1))}"}
    timings = {}
    for words in SEARCHES:
        samples = []
        for _ in range(rounds):
            began = time.perf_counter()
            response = client.get(f"{API}/conversations", query_string={"_search": words, "limit": 20}, headers=headers)
            samples.append(time.perf_counter() - began)
            assert response.status_code == 200, response.get_json()
        timings[words] = (statistics.median(samples), response.get_json()["total"])
    return timings


def measure(conversations: int, url: str | None, rounds: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url or f"sqlite:///{folder}/bench.sqlite",
                          "JWT_SECRET": "bench-" + "x" * 64, "SECRET_KEY": "bench"})
        with app.app_context():
            began = time.perf_counter()
            build(conversations)
            print(f"{conversations:>9} conversations, {conversations * PER_CONVERSATION:>10} messages:"
                  f" built in {time.perf_counter() - began:.0f} s", flush=True)
            result = time_searches(app, rounds)
            db.session.remove()
            db.engine.dispose()
        return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    small = measure(args.small, args.database_url, args.rounds)
    large = measure(args.large, args.database_url, args.rounds)
    print(f"{'_search':<14} {'total':>5} {'small ms':>9} {'large ms':>9} {'ratio':>6}")
    for words in SEARCHES:
        (fast, total), (slow, total_large) = small[words], large[words]
        assert total == total_large, (words, total, total_large)
        print(f"{words:<14} {total:>5} {fast * 1000:>9.2f} {slow * 1000:>9.2f} {slow / fast:>6.2f}")


if __name__ == "__main__":
    main()
