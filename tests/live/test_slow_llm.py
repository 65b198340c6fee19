"""A slow LLM does not stall the API: list and show keep their latency while 64 chats wait on it.

Against gunicorn with the default gunicorn.conf.py, a loopback provider answering each chat after
1 to 3 s (uniformly at random). Each round measures list and show requests sent at a steady 25 a
second, first alone, then while 64 clients keep a chat message each waiting on the provider. The
p99 with the chats may be at most 5 times the p99 without them, and every chat must succeed.
"""

import itertools
import os
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import text

from ..llm_server import LlmServer
from .conftest import running_server

pytestmark = [pytest.mark.live, pytest.mark.slow]

SENDERS = 64
READS_PER_SECOND = 25
PHASE_SECONDS = 10
ROUNDS = 2
MAX_SLOWDOWN = 5


def p99(latencies: list[float]) -> float:
    return statistics.quantiles(latencies, n=100, method="inclusive")[98]


def steady_reads(server, headers, uuids, seconds: float) -> list[float]:
    """Latencies of list and show requests sent at READS_PER_SECOND, each on time whatever the last one took."""
    latencies, failures = [], []
    targets = itertools.cycle(["/conversations"] + [f"/conversations/{uuid}" for uuid in uuids])
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    with httpx.Client(base_url=server.base, headers=headers, timeout=60, limits=limits) as client, \
            ThreadPoolExecutor(max_workers=64) as pool:

        def read(path):
            started = time.perf_counter()
            response = client.get(path)
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                failures.append((path, response.status_code))

        start = time.perf_counter()
        for number in range(int(seconds * READS_PER_SECOND)):
            time.sleep(max(0.0, start + number / READS_PER_SECOND - time.perf_counter()))
            pool.submit(read, next(targets))
    assert failures == []
    return latencies


def chat_storm(server, headers, conversations: list[str], stop: threading.Event, outcomes: list):
    """SENDERS clients, each sending a chat message and the next one as soon as it is answered, until `stop`."""

    def sender(uuid):
        with httpx.Client(base_url=server.base, headers=headers, timeout=60) as client:
            while not stop.is_set():
                started = time.perf_counter()
                response = client.post("/chat/send", json={"conversation": uuid, "message": "Slow, please"})
                outcomes.append((response.status_code, time.perf_counter() - started))

    threads = [threading.Thread(target=sender, args=(uuid,)) for uuid in conversations]
    for thread in threads:
        thread.start()
    return threads


def idle_in_transaction(engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND state LIKE 'idle in transaction%'"
        ))


def test_slow_llm_does_not_stall_list_and_show(tmp_path):
    llm_env = {"OPENREGISTER_LLM_PROVIDER": "openai", "OPENREGISTER_LLM_MODEL": "slow-model"}
    with LlmServer() as llm, running_server(
        tmp_path, workers=None, threads=None, OPENREGISTER_LLM_BASE_URL=llm.url("delay/1-3"), **llm_env
    ) as server:
        headers = server.headers("tester")
        with httpx.Client(base_url=server.base, headers=headers, timeout=60) as client:
            shown = [client.post("/conversations", json={"title": f"Shown {i}"}).json()["uuid"] for i in range(8)]
            chats = [client.post("/conversations", json={"title": f"Chat {i}"}).json()["uuid"] for i in range(SENDERS)]
        engine = server.engine()
        on_postgresql = engine.dialect.name == "postgresql"
        steady_reads(server, headers, shown, 2)  # warm up every worker

        quiet, stormy, outcomes, most_idle_in_transaction = [], [], [], 0
        for _ in range(ROUNDS):
            quiet.append(steady_reads(server, headers, shown, PHASE_SECONDS))
            stop = threading.Event()
            senders = chat_storm(server, headers, chats, stop, outcomes)
            time.sleep(1)  # every sender has a chat waiting
            watching = True

            def watch():
                nonlocal most_idle_in_transaction
                while watching and on_postgresql:
                    most_idle_in_transaction = max(most_idle_in_transaction, idle_in_transaction(engine))
                    time.sleep(0.2)

            watcher = threading.Thread(target=watch)
            watcher.start()
            stormy.append(steady_reads(server, headers, shown, PHASE_SECONDS))
            watching = False
            stop.set()
            for thread in senders + [watcher]:
                thread.join(timeout=120)
        engine.dispose()

    statuses = [status for status, _ in outcomes]
    send_seconds = sorted(seconds for _, seconds in outcomes)
    quiet_p99 = p99([latency for phase in quiet for latency in phase])
    stormy_p99 = p99([latency for phase in stormy for latency in phase])
    report = (
        f"{'PostgreSQL' if on_postgresql else 'SQLite'}, {os.cpu_count()} cores: list/show p99 {quiet_p99 * 1000:.0f} ms "
        f"alone, {stormy_p99 * 1000:.0f} ms with {SENDERS} chats waiting ({stormy_p99 / quiet_p99:.1f}x); "
        f"{len(statuses)} chats, median {statistics.median(send_seconds):.2f} s, max {send_seconds[-1]:.2f} s; "
        f"rounds p99 alone {[round(p99(phase) * 1000) for phase in quiet]} ms, "
        f"with chats {[round(p99(phase) * 1000) for phase in stormy]} ms; "
        f"most sessions idle in transaction at once: {most_idle_in_transaction if on_postgresql else 'n/a'}"
    )
    print(report)
    assert statuses and set(statuses) == {200}, report
    assert stormy_p99 <= MAX_SLOWDOWN * quiet_p99, report
