"""The organisation counters behind chat/stats stay exact with many writers at once."""

import threading

import httpx
import pytest
from sqlalchemy import text

from ..test_counters import assert_counters_exact

pytestmark = [pytest.mark.live, pytest.mark.slow]


def test_counters_stay_exact_under_concurrent_writers(live_server):
    """8 clients at once against 4 workers: chat, create, archive, restore and delete for good."""
    headers = live_server.headers("tester")
    failures = []

    def client_thread(number: int) -> None:
        with httpx.Client(base_url=live_server.base, headers=headers, timeout=60) as client:
            for n in range(12):
                created = client.post("/conversations", json={"title": f"T{number}-{n}"})
                uuid = created.json()["uuid"]
                responses = [created, client.post("/chat/send", json={"conversation": uuid, "message": f"m{n}"})]
                if n % 3 == 1:
                    responses.append(client.delete(f"/conversations/{uuid}"))
                    responses.append(client.post(f"/conversations/{uuid}/restore"))
                if n % 3 == 2:
                    responses.append(client.delete(f"/conversations/{uuid}"))
                    responses.append(client.delete(f"/conversations/{uuid}"))
                failures.extend((r.status_code, r.text) for r in responses if r.status_code >= 300)

    threads = [threading.Thread(target=client_thread, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert failures == []

    engine = live_server.engine()
    try:
        with engine.connect() as connection:
            assert_counters_exact(connection)
            expected = connection.execute(text("SELECT count(*) FROM conversations")).scalar()
    finally:
        engine.dispose()
    assert expected == 8 * 8
    with httpx.Client(base_url=live_server.base, headers=headers, timeout=60) as client:
        answer = client.get("/chat/stats").json()
    assert answer["total_conversations"] == expected
    assert answer["total_messages"] == 2 * expected
