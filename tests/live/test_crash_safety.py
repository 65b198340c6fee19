"""SIGKILL the server in the middle of a write load: every acknowledged write survives, nothing is half-written."""

import threading

import httpx
import pytest
from sqlalchemy import text

pytestmark = [pytest.mark.live, pytest.mark.slow]

WRITERS = 8
MAX_ROUNDS = 200
# The kill comes once this many exchanges are acknowledged, with the writers still writing.
KILL_AFTER_SENDS = 40


def test_acknowledged_writes_survive_a_kill(live_server):
    headers = live_server.headers("tester")
    acknowledged_conversations, acknowledged_sends = [], []
    lock = threading.Lock()
    stop = threading.Event()
    loaded = threading.Event()

    def writer(number: int) -> None:
        with httpx.Client(base_url=live_server.base, headers=headers, timeout=30) as client:
            for round_number in range(MAX_ROUNDS):
                if stop.is_set():
                    return
                try:
                    created = client.post("/conversations", json={"title": f"w{number}-{round_number}"})
                    if created.status_code != 201:
                        continue
                    uuid = created.json()["uuid"]
                    with lock:
                        acknowledged_conversations.append(uuid)
                    sent = client.post("/chat/send", json={"conversation": uuid, "message": f"w{number}-{round_number}"})
                    if sent.status_code == 200:
                        body = sent.json()
                        with lock:
                            acknowledged_sends.append((uuid, body["userMessage"]["id"], body["message"]["id"]))
                            if len(acknowledged_sends) >= KILL_AFTER_SENDS:
                                loaded.set()
                except httpx.HTTPError:
                    return  # the server is gone

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    reached = loaded.wait(timeout=120)
    live_server.kill()
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    assert reached, f"the load did not reach {KILL_AFTER_SENDS} acknowledged exchanges before the kill"

    live_server.start()
    with httpx.Client(base_url=live_server.base, headers=headers, timeout=30) as client:
        listed = client.get("/conversations", params={"limit": 100}).json()["total"]
        assert listed >= len(acknowledged_conversations)
        for uuid in acknowledged_conversations:
            assert client.get(f"/conversations/{uuid}").status_code == 200
    engine = live_server.engine()
    with engine.connect() as connection:
        stored = {row.id: row for row in connection.execute(text("SELECT id, role FROM messages"))}
        for _, user_id, assistant_id in acknowledged_sends:
            assert stored[user_id].role == "user" and stored[assistant_id].role == "assistant"
        orphans = connection.execute(text(
            "SELECT count(*) FROM messages m LEFT JOIN conversations c ON c.id = m.conversation_id WHERE c.id IS NULL"
        )).scalar()
        orphan_feedback = connection.execute(text(
            "SELECT count(*) FROM feedback f LEFT JOIN messages m ON m.id = f.message_id WHERE m.id IS NULL"
        )).scalar()
        assert (orphans, orphan_feedback) == (0, 0)
        answers_without_question = connection.execute(text(
            "SELECT count(*) FROM messages a WHERE a.role = 'assistant' AND NOT EXISTS ("
            "SELECT 1 FROM messages q WHERE q.conversation_id = a.conversation_id AND q.role = 'user' AND q.id < a.id)"
        )).scalar()
        assert answers_without_question == 0
        if connection.dialect.name == "sqlite":
            assert connection.execute(text("PRAGMA integrity_check")).scalar() == "ok"
            assert connection.execute(text("PRAGMA foreign_key_check")).all() == []
    engine.dispose()
