"""Rough speed and memory of the hot routes, as ratios to a baseline measured in the same run.

    .venv/bin/python bench/bench.py [--conversations 500] [--messages 40] [--rounds 200]

The baseline is GET /heartbeat (routing, auth-free, no database) through the same WSGI stack,
so the ratios say what the database work and serialisation of each route cost on this machine,
whatever else the machine is doing. Run by hand; nothing here is a test.
"""

import argparse
import statistics
import tempfile
import time
import tracemalloc
from datetime import timedelta

from sqlalchemy import event

from openregister import create_app
from openregister.auth import issue_token
from openregister.extensions import db
from openregister.models import Conversation, Membership, Message, Organisation, User
from openregister.models.base import utcnow

API = "/index.php/apps/openregister/api"


def seed(conversations: int, messages: int) -> User:
    user = User(username="bench")
    organisation = Organisation(name="Bench", slug="bench", owner=user)
    db.session.add_all([user, organisation])
    db.session.flush()
    db.session.add(Membership(organisation_id=organisation.id, user_id=user.id))
    user.active_organisation_id = organisation.id
    start = utcnow() - timedelta(days=1)
    for number in range(conversations):
        conversation = Conversation(title=f"Conversation {number}", user=user, organisation_id=organisation.id,
                                    metadata_={"n": number})
        db.session.add(conversation)
        db.session.flush()
        db.session.add_all(
            Message(conversation_id=conversation.id, role="user" if i % 2 == 0 else "assistant",
                    content=f"message {i} " * 20, sources=[], created=start + timedelta(seconds=i))
            for i in range(messages)
        )
    db.session.commit()
    return user


def measure(client, method, path, headers, rounds, **kwargs):
    """Median seconds per request, peak traced memory of one request, and its SQL statements."""
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = getattr(client, method)(path, headers=headers, **kwargs)
        timings.append(time.perf_counter() - started)
        assert response.status_code < 300, (path, response.status_code, response.get_data(as_text=True)[:200])
    statements = []
    record = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", record)
    tracemalloc.start()
    getattr(client, method)(path, headers=headers, **kwargs)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    event.remove(db.engine, "before_cursor_execute", record)
    return statistics.median(timings), peak, len(statements)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=500)
    parser.add_argument("--messages", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=200)
    options = parser.parse_args()

    folder = tempfile.mkdtemp()
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite", "JWT_SECRET": "b" * 64})
    with app.app_context():
        db.create_all()
        user = seed(options.conversations, options.messages)
        headers = {"Authorization": f"Bearer {issue_token(user)}"}
        uuid = db.session.scalars(db.select(Conversation.uuid).limit(1)).one()
        client = app.test_client()
        cases = [
            ("GET /heartbeat (baseline)", "get", f"{API}/heartbeat", {}),
            ("GET /conversations?limit=100", "get", f"{API}/conversations?limit=100", {}),
            ("GET /conversations/{uuid}", "get", f"{API}/conversations/{uuid}", {}),
            ("GET /conversations/{uuid}/messages", "get", f"{API}/conversations/{uuid}/messages?limit=50", {}),
            ("POST /chat/send (offline)", "post", f"{API}/chat/send", {"json": {"conversation": uuid, "message": "Hi"}}),
        ]
        baseline = None
        print(f"{options.conversations} conversations x {options.messages} messages, {options.rounds} rounds each")
        print(f"{'route':40} {'median':>10} {'x baseline':>11} {'peak KiB':>9} {'SQL':>4}")
        for name, method, path, kwargs in cases:
            seconds, peak, statements = measure(client, method, path, headers, options.rounds, **kwargs)
            baseline = baseline or seconds
            print(f"{name:40} {seconds * 1000:8.2f}ms {seconds / baseline:10.1f}x {peak / 1024:9.0f} {statements:4}")


if __name__ == "__main__":
    main()
