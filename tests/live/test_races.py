"""Two (or twelve) requests racing on the same thing: one wins, the others get a clear answer, never a 500."""

import threading
from collections import Counter
from collections.abc import Callable

import httpx
import pytest

from ..conftest import API

pytestmark = pytest.mark.live

RACERS = 12


def race(live_server, headers, send: Callable[[httpx.Client, int], httpx.Response]) -> Counter:
    """The statuses of RACERS requests let go at once, each on a connection of its own."""
    statuses: Counter = Counter()
    start = threading.Barrier(RACERS)
    lock = threading.Lock()

    def racer(number: int) -> None:
        with httpx.Client(base_url=live_server.base, headers=headers, timeout=60) as client:
            start.wait()
            response = send(client, number)
            assert response.headers["Content-Type"].startswith("application/json"), response.text
        with lock:
            statuses[response.status_code] += 1

    threads = [threading.Thread(target=racer, args=(number,)) for number in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return statuses


def test_racing_writes_to_one_thing_answer_success_or_409_never_500(live_server):
    headers = live_server.headers("tester")
    with httpx.Client(base_url=live_server.base, headers=headers, timeout=60) as client:
        conversation = client.post("/conversations", json={"title": "Raced"}).json()["uuid"]
        answer = client.post("/chat/send", json={"conversation": conversation, "message": "Hello"}).json()["message"]
    feedback = f"/conversations/{conversation}/messages/{answer['id']}/feedback"

    rounds = {
        "feedback": race(live_server, headers, lambda client, n: client.post(
            feedback, json={"type": "positive" if n % 2 else "negative"})),
        "share": race(live_server, headers, lambda client, n: client.post(f"/conversations/{conversation}/share")),
        "organisation": race(live_server, headers, lambda client, n: client.post(
            "/organisations", json={"name": "Same name"})),
        # NISIRA's ratings: setting and clearing the same record at once
        "rating": race(live_server, headers, lambda client, n: client.post(
            live_server.base.split(API)[0] + "/api/ratings/",
            json={"message_id": answer["id"], "value": ("like", "dislike", "clear")[n % 3]})),
    }
    with httpx.Client(base_url=live_server.base, headers=headers, timeout=60) as client:
        agent = client.post("/agents", json={"name": "Raced"}).json()["uuid"]
    # a change racing the delete of the same agent
    rounds["agent"] = race(live_server, headers, lambda client, n: client.delete(f"/agents/{agent}") if n % 2 else
                           client.patch(f"/agents/{agent}", json={"name": f"Renamed {n}"}))

    for name, statuses in rounds.items():
        assert set(statuses) <= {200, 201, 404, 409}, (name, statuses)
        assert statuses[200] + statuses[201] >= 1, (name, statuses)
    with httpx.Client(base_url=live_server.base, headers=headers, timeout=60) as client:
        assert client.get(f"/conversations/{conversation}/share").status_code == 200
        assert client.post(feedback, json={"type": "positive"}).status_code == 200
