"""16 clients x 50 chat messages against 4 gunicorn workers: nothing lost, doubled or out of order."""

import threading
from collections import defaultdict

import httpx
import pytest
from sqlalchemy import text

pytestmark = [pytest.mark.live, pytest.mark.slow]

THREADS = 16
SENDS_PER_THREAD = 50


def test_concurrent_chat_loses_nothing(live_server):
    headers = live_server.headers("tester")
    with httpx.Client(base_url=live_server.base, headers=headers, timeout=60) as client:
        shared = client.post("/conversations", json={"title": "Shared"}).json()["uuid"]
        own = [client.post("/conversations", json={"title": f"Own {i}"}).json()["uuid"] for i in range(THREADS)]

    acknowledged = defaultdict(list)  # conversation uuid -> [(thread, n, user id, assistant id, created pair)]
    failures = []
    lock = threading.Lock()

    def client_thread(number: int) -> None:
        with httpx.Client(base_url=live_server.base, headers=headers, timeout=60) as client:
            for n in range(SENDS_PER_THREAD):
                conversation = shared if n % 2 == 0 else own[number]
                response = client.post("/chat/send", json={"conversation": conversation, "message": f"t{number}-{n}"})
                with lock:
                    if response.status_code != 200:
                        failures.append((response.status_code, response.text))
                        continue
                    body = response.json()
                    acknowledged[conversation].append(
                        (number, n, body["userMessage"]["id"], body["message"]["id"], body["userMessage"]["content"])
                    )

    threads = [threading.Thread(target=client_thread, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)

    assert failures == []
    assert sum(len(sends) for sends in acknowledged.values()) == THREADS * SENDS_PER_THREAD

    engine = live_server.engine()
    with engine.connect() as connection, httpx.Client(base_url=live_server.base, headers=headers, timeout=60) as client:
        for conversation, sends in acknowledged.items():
            rows = connection.execute(text(
                "SELECT m.id, m.role, m.content, m.created FROM messages m JOIN conversations c "
                "ON c.id = m.conversation_id WHERE c.uuid = :uuid ORDER BY m.created, m.id"), {"uuid": conversation}).all()
            assert len(rows) == 2 * len(sends), conversation
            ids = [row.id for row in rows]
            assert len(set(ids)) == len(ids)
            user_contents = [row.content for row in rows if row.role == "user"]
            assert sorted(user_contents) == sorted(send[4] for send in sends)
            assert len(set(user_contents)) == len(user_contents)
            position = {row.id: index for index, row in enumerate(rows)}
            created = {row.id: row.created for row in rows}
            by_thread = defaultdict(list)
            for thread_number, n, user_id, assistant_id, _ in sends:
                assert created[user_id] <= created[assistant_id]
                assert position[user_id] < position[assistant_id]
                by_thread[thread_number].append((n, position[user_id]))
            for thread_sends in by_thread.values():
                positions = [pos for _, pos in sorted(thread_sends)]
                assert positions == sorted(positions), "one client's messages appear out of its sending order"

            shown = client.get(f"/conversations/{conversation}").json()
            assert shown["messageCount"] == len(rows)
            paged = client.get(f"/conversations/{conversation}/messages", params={"order": "asc", "limit": 100}).json()
            assert paged["total"] == len(rows)
            assert [m["id"] for m in paged["results"]] == ids[:100]
    engine.dispose()
