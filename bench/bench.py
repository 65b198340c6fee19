"""Speed of the hot routes, as ratios to floors measured in the same run on the same database file.

    .venv/bin/python bench/bench.py [--conversations 2000] [--messages 10] [--others 3] [--rounds 300]
    .venv/bin/python bench/bench.py --scale [--large-users 10000] [--database-url URL] [--large-database-url URL]

Default mode: one user with `--conversations` x `--messages` (and `--others` users with as many
again), then each route in process through the whole WSGI stack, against its floor: the same
filtered, ordered, limited query done by hand with stdlib `sqlite3` and `json.dumps` on the same
file. The ratio (ours / floor) is what the framework, the ORM, authentication and serialisation cost.

Scale mode: `flask seed` fills a small database (10 users x 100 conversations x 10 messages) and a
large one (`--large-users` x 100 x 10; 10,000 users is a million conversations and ten million
messages), and the same routes are measured for user1 in both: the ratios large / small say what
the size of the database costs. `--database-url`/`--large-database-url` reuse databases already
seeded (with the same --random-seed), e.g. on PostgreSQL. Run by hand; nothing here is a test.
"""

import argparse
import cProfile
import io
import json
import pstats
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlalchemy import event, func, select
from werkzeug.test import EnvironBuilder

from openregister import create_app
from openregister.auth import issue_token
from openregister.extensions import db
from openregister.models import Conversation, Membership, Message, Organisation, User
from openregister.models.base import utcnow
from openregister.schemas.base import isoformat
from openregister.services.seed_words import ADJECTIVES, NOUNS, PAST, PLACES, TIMES, VERBS

API = "/index.php/apps/openregister/api"
SECRET = "b" * 64


def seed(conversations: int, messages: int, others: int) -> User:
    organisation = Organisation(name="Bench", slug="bench")
    db.session.add(organisation)
    db.session.flush()
    users = []
    start = utcnow() - timedelta(days=1)
    for number in range(others + 1):
        user = User(username=f"bench{number}" if number else "bench", active_organisation_id=organisation.id)
        db.session.add(user)
        db.session.flush()
        db.session.add(Membership(organisation_id=organisation.id, user_id=user.id))
        users.append(user)
        rows = [{"title": f"Conversation {n}", "user_id": user.id, "organisation_id": organisation.id,
                 "metadata_": {"n": n}, "updated": start + timedelta(seconds=n)} for n in range(conversations)]
        ids = db.session.scalars(db.insert(Conversation).returning(Conversation.id, sort_by_parameter_order=True),
                                 rows).all()
        db.session.execute(db.insert(Message), [
            {"conversation_id": conversation_id, "role": "user" if i % 2 == 0 else "assistant",
             "content": f"message {i} " * 20, "sources": [], "created": start + timedelta(seconds=i)}
            for conversation_id in ids for i in range(messages)])
    db.session.commit()
    return users[0]


# CPU time of this thread: on a shared machine, wall time mostly measures how often the scheduler
# takes the CPU away, and more so the longer a request runs. Everything measured here runs in this
# thread (SQLite too); the time spent waiting for the disk or for PostgreSQL is not counted.
CLOCK = time.thread_time


def median_seconds(*calls, rounds: int, turns: int = 10) -> list[float]:
    """The median time of each call, measured in turns (a block of rounds of each, then again), so that
    the machine's changing speed falls on all of them alike."""
    for call in calls:
        for _ in range(min(20, rounds)):
            call()
    timings: list[list[float]] = [[] for _ in calls]
    for _ in range(turns):
        for call, samples in zip(calls, timings):
            for _ in range(max(1, rounds // turns)):
                started = CLOCK()
                call()
                samples.append(CLOCK() - started)
    return [statistics.median(samples) for samples in timings]


def request(app, method, path, headers, json=None):
    """One request, called as a WSGI server calls the app: the environ is built once (the test client
    would build it, and parse the answer, on every call: work of the client, not of the app)."""
    builder = EnvironBuilder(path=path, method=method, headers=headers, json=json)
    environ = builder.get_environ()
    body = environ["wsgi.input"].read()
    builder.close()

    def call():
        statuses = []
        answer = app({**environ, "wsgi.input": io.BytesIO(body)}, lambda status, headers: statuses.append(status))
        data = b"".join(answer)
        assert int(statuses[0][:3]) < 300, (path, statuses[0], data[:200])
        return data
    return call


def statements_of(call) -> int:
    statements = []
    record = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", record)
    call()
    event.remove(db.engine, "before_cursor_execute", record)
    return len(statements)


def python_calls_of(call, rounds: int = 50) -> int:
    """Python function calls a request, counted by cProfile: unlike time, the machine's load does not move it."""
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(rounds):
        call()
    profile.disable()
    return round(pstats.Stats(profile).total_calls / rounds)


# The floors: the same work by hand, stdlib sqlite3 and json.dumps, the wire's keys and formats.
def _stamp(text):
    if text is None:
        return None
    return text[:19].replace(" ", "T") + "Z"


CONVERSATION_COLUMNS = ("c.id, c.uuid, c.title, u.username, c.organisation_id, c.agent_id, c.metadata, c.deleted_at, "
                        "c.created, c.updated, (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id)")


def _conversation(row) -> dict:
    return {"id": row[0], "uuid": row[1], "title": row[2], "userId": row[3], "organisation": row[4], "agentId": row[5],
            "metadata": json.loads(row[6]), "deletedAt": _stamp(row[7]), "created": _stamp(row[8]),
            "updated": _stamp(row[9]), "messageCount": row[10]}


def _message(row) -> dict:
    return {"id": row[0], "uuid": row[1], "conversationId": row[2], "role": row[3], "content": row[4],
            "sources": json.loads(row[5]), "created": _stamp(row[6])}


def floors(path: str, user_id: int, organisation_id: int, uuid: str):
    connection = sqlite3.connect(path, check_same_thread=False)
    listing = (f"SELECT {CONVERSATION_COLUMNS} FROM conversations c JOIN users u ON u.id = c.user_id "
               "WHERE c.user_id = ? AND c.organisation_id = ? AND c.deleted_at IS NULL "
               "ORDER BY c.updated DESC, c.id DESC LIMIT ? OFFSET 0")
    listing_count = ("SELECT count(*) FROM conversations WHERE user_id = ? AND organisation_id = ? "
                     "AND deleted_at IS NULL")
    messages = ("SELECT id, uuid, conversation_id, role, content, sources, created FROM messages "
                "WHERE conversation_id = ? ORDER BY created DESC, id DESC LIMIT ?")

    def list_floor(limit):
        def call():
            rows = connection.execute(listing, (user_id, organisation_id, limit)).fetchall()
            total = connection.execute(listing_count, (user_id, organisation_id)).fetchone()[0]
            return json.dumps({"results": [_conversation(row) for row in rows], "total": total, "limit": limit,
                               "offset": 0}, separators=(",", ":"))
        return call

    def show():
        row = connection.execute(f"SELECT {CONVERSATION_COLUMNS} FROM conversations c JOIN users u ON u.id = c.user_id "
                                 "WHERE c.uuid = ?", (uuid,)).fetchone()
        body = _conversation(row)
        body["messages"] = [_message(m) for m in reversed(connection.execute(messages, (row[0], 50)).fetchall())]
        return json.dumps(body, separators=(",", ":"))

    def page_of_messages():
        conversation_id = connection.execute("SELECT id FROM conversations WHERE uuid = ?", (uuid,)).fetchone()[0]
        rows = connection.execute(messages, (conversation_id, 50)).fetchall()
        total = connection.execute("SELECT count(*) FROM messages WHERE conversation_id = ?",
                                   (conversation_id,)).fetchone()[0]
        return json.dumps({"results": [_message(m) for m in reversed(rows)], "total": total, "limit": 50, "offset": 0,
                           "hasMore": len(rows) < total}, separators=(",", ":"))

    def create():
        now = utcnow()
        new_uuid = __import__("uuid").uuid4().hex
        cursor = connection.execute(
            "INSERT INTO conversations (uuid, slug, title, user_id, organisation_id, metadata, created, updated) "
            "VALUES (?, ?, ?, ?, ?, '{}', ?, ?)", (new_uuid, new_uuid[:11], "New", user_id, organisation_id, now, now))
        connection.commit()
        return json.dumps({"id": cursor.lastrowid, "uuid": new_uuid, "title": "New", "userId": "bench",
                           "organisation": organisation_id, "agentId": None, "metadata": {}, "deletedAt": None,
                           "created": isoformat(now), "updated": isoformat(now), "messageCount": 0},
                          separators=(",", ":"))

    return {"list 50": list_floor(50), "list 1": list_floor(1), "show": show, "messages": page_of_messages,
            "create": create}


def compare(options) -> None:
    folder = tempfile.mkdtemp()
    path = f"{folder}/bench.sqlite"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "JWT_SECRET": SECRET})
    with app.app_context():
        db.create_all()
        user = seed(options.conversations, options.messages, options.others)
        headers = {"Authorization": f"Bearer {issue_token(user)}"}
        uuid = db.session.scalars(select(Conversation.uuid).where(Conversation.user_id == user.id).limit(1)).one()
        user_id, organisation_id = user.id, user.active_organisation_id
        db.session.remove()
        by_hand = floors(path, user_id, organisation_id, uuid)
        cases = [
            ("heartbeat", None, request(app, "get", f"{API}/heartbeat", {})),
            ("list 50", "list 50", request(app, "get", f"{API}/conversations?limit=50", headers)),
            ("list 1", "list 1", request(app, "get", f"{API}/conversations?limit=1", headers)),
            ("show", "show", request(app, "get", f"{API}/conversations/{uuid}", headers)),
            ("messages", "messages", request(app, "get", f"{API}/conversations/{uuid}/messages?limit=50", headers)),
            ("create", "create", request(app, "post", f"{API}/conversations", headers, json={"title": "New"})),
            ("chat send (offline)", "ours create", request(app, "post", f"{API}/chat/send", headers,
                                                           json={"conversation": uuid, "message": "Hi"})),
            ("stats", None, request(app, "get", f"{API}/chat/stats", headers)),
        ]
        total = options.conversations * (options.others + 1)
        print(f"{total} conversations ({options.conversations} of the measured user) x {options.messages} messages, "
              f"median of {options.rounds} rounds")
        print(f"{'route':22} {'floor':>9} {'ours':>9} {'ratio':>7} {'SQL':>4} {'calls':>6}")
        lines = []
        ours_by_name = {name: call for name, _, call in cases}
        for name, floor_name, call in cases:
            if floor_name is None:
                (seconds,), floor = median_seconds(call, rounds=options.rounds), None
            else:
                floor_call = ours_by_name["create"] if floor_name == "ours create" else by_hand[floor_name]
                seconds, floor = median_seconds(call, floor_call, rounds=options.rounds)
            shown = f"{floor * 1000:7.2f}ms" if floor else " " * 9
            ratio = f"{seconds / floor:6.1f}x" if floor else " " * 7
            lines.append((f"{name:22} {shown} {seconds * 1000:7.2f}ms {ratio}", call, python_calls_of(call)))
        # Statements are counted last: once anything has listened to the engine's execution events,
        # database.read asks on every statement whether anything still does.
        for line, call, calls in lines:
            print(f"{line} {statements_of(call):4} {calls:6}")
        print("(chat send's floor is our create)")


def seed_with_flask(url: str, users: int, random_seed: int) -> None:
    env = {"OPENREGISTER_DATABASE_URL": url, "OPENREGISTER_JWT_SECRET": SECRET,
           "OPENREGISTER_INSTANCE_PATH": tempfile.mkdtemp(), "PATH": ""}
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    root = Path(__file__).resolve().parents[1]
    subprocess.run([*flask, "db", "upgrade"], cwd=root, env=env, check=True, capture_output=True)
    subprocess.run([*flask, "seed", "--users", str(users), "--conversations", "100", "--messages", "10",
                    "--random-seed", str(random_seed)], cwd=root, env=env, check=True)


def search_words(url: str) -> dict[str, str]:
    """Words to search user1's active conversations for: the seed vocabulary's most common word of
    five letters or more (counted in titles and messages: what a search reads), the rarest one, and
    the common one's first four letters as a prefix. Read from the small database: user1's seeded
    conversations are the same in both (the same --random-seed, and user1 is seeded first)."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "JWT_SECRET": SECRET})
    with app.app_context():
        user_id = db.session.scalars(select(User.id).where(User.username_key == "user1")).one()
        active = (Conversation.user_id == user_id, Conversation.deleted_at.is_(None))
        texts = [*db.session.scalars(select(Conversation.title).where(*active)),
                 *db.session.scalars(select(Message.content).join(Conversation).where(*active))]
        db.session.remove()
        db.engine.dispose()
    # Only the seed's own words: the chat sends of earlier runs add theirs to user1's conversations.
    vocabulary = {word.lower() for words in (NOUNS, VERBS, PAST, ADJECTIVES, PLACES, TIMES) for word in words}
    ranked = Counter(word for text in texts for word in set(re.findall(r"[a-z]{5,}", text.lower()))
                     if word in vocabulary).most_common()
    common, rare = ranked[0][0], min(ranked, key=lambda pair: (pair[1], pair[0]))[0]
    return {f"search '{common}'": common, f"search '{rare}'": rare, f"search '{common[:4]}'": common[:4]}


def scale_cases(url: str, searches: dict[str, str]) -> tuple[dict, int]:
    """user1's requests on the database at `url`, by name, and how many conversations it holds."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "JWT_SECRET": SECRET})
    with app.app_context():
        user = db.session.scalars(select(User).where(User.username_key == "user1")).one()
        headers = {"Authorization": f"Bearer {issue_token(user)}"}
        uuid = db.session.scalars(select(Conversation.uuid).where(Conversation.user_id == user.id,
                                                                  Conversation.deleted_at.is_(None)).limit(1)).one()
        size = db.session.scalar(select(func.count()).select_from(Conversation))
        db.session.remove()
    cases = {
        "list 50": request(app, "get", f"{API}/conversations?limit=50", headers),
        "show": request(app, "get", f"{API}/conversations/{uuid}", headers),
        "messages": request(app, "get", f"{API}/conversations/{uuid}/messages?limit=50", headers),
        "chat send (offline)": request(app, "post", f"{API}/chat/send", headers,
                                       json={"conversation": uuid, "message": "Hi"}),
        "stats": request(app, "get", f"{API}/chat/stats", headers),
    }
    for name, words in searches.items():
        cases[name] = request(app, "get", f"{API}/conversations?limit=50&_search={words}", headers)
    return cases, size


def scale(options) -> None:
    folder = tempfile.mkdtemp()
    small = options.database_url or f"sqlite:///{folder}/small.sqlite"
    large = options.large_database_url or f"sqlite:///{folder}/large.sqlite"
    if not options.database_url:
        seed_with_flask(small, 10, options.random_seed)
    if not options.large_database_url:
        seed_with_flask(large, options.large_users, options.random_seed)
    searches = search_words(small)
    (small_cases, small_size), (large_cases, large_size) = (scale_cases(url, searches) for url in (small, large))
    print(f"user1's 100 conversations x 10 messages among {small_size} and {large_size} conversations; "
          f"median of {options.rounds} rounds, small and large taking turns")
    print(f"{'route':26} {'small':>9} {'large':>9} {'ratio':>7}")
    for name, small_call in small_cases.items():
        small_median, large_median = median_seconds(small_call, large_cases[name], rounds=options.rounds)
        print(f"{name:26} {small_median * 1000:7.2f}ms {large_median * 1000:7.2f}ms "
              f"{large_median / small_median:6.2f}x", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--others", type=int, default=3, help="Other users with as many conversations.")
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--scale", action="store_true", help="Compare a small and a large seeded database.")
    parser.add_argument("--large-users", type=int, default=10000)
    parser.add_argument("--database-url", help="Scale mode: an already seeded small database.")
    parser.add_argument("--large-database-url", help="Scale mode: an already seeded large database.")
    parser.add_argument("--random-seed", type=int, default=1)
    parser.add_argument("--wall", action="store_true", help="Measure wall time instead of CPU time (always in scale mode).")
    options = parser.parse_args()
    if options.wall or options.scale:
        # The scale mode's queries run in PostgreSQL's processes too, which CPU time here would miss.
        global CLOCK
        CLOCK = time.perf_counter
    scale(options) if options.scale else compare(options)


if __name__ == "__main__":
    main()
