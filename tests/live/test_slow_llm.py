"""A slow LLM does not stall the API: list and show keep their latency while 64 chats wait on it.

Against gunicorn with the default gunicorn.conf.py, a loopback provider answering each chat after
1 to 3 s (uniformly at random). Each round measures list and show requests sent at a steady 25 a
second, first alone, then while 64 clients keep a chat message each waiting on the provider. The
p99 with the chats may be at most 5 times the p99 without them (each the median of the rounds'),
and every chat must succeed.
The provider and the 64 clients run in processes of their own, so that the measuring client does
not share its interpreter (and its GIL) with them.
"""

import itertools
import multiprocessing
import os
import statistics
import threading
import time
from contextlib import contextmanager
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import text

from .conftest import running_server
from .server import llm_server_process

pytestmark = [
    pytest.mark.live,
    pytest.mark.slow,
    # Its 5x bound compares p99 latencies while some 35 chats a second share the cores with the reads:
    # on a 2-core machine that also runs the suite it lands between 3x and 8x, so it runs on request,
    # on a machine of its own, not in every CI run.
    pytest.mark.skipif(not os.environ.get("OPENREGISTER_STORM_TEST"),
                       reason="set OPENREGISTER_STORM_TEST=1 to run the slow-LLM storm (needs a machine of its own)"),
]

SENDERS = 64
READS_PER_SECOND = 25
PHASE_SECONDS = 8
ROUNDS = 3
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


def chat_storm(base: str, headers: dict, conversations: list[str], seconds: float) -> list[tuple[int, float]]:
    """One client a conversation, each sending a chat message and the next as soon as it is answered, for `seconds`.

    Runs in a process of its own; returns (status, seconds taken) of every message.
    """
    stop = threading.Event()
    outcomes = []

    def sender(uuid):
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            while not stop.is_set():
                started = time.perf_counter()
                response = client.post("/chat/send", json={"conversation": uuid, "message": "Slow, please"})
                outcomes.append((response.status_code, time.perf_counter() - started))

    threads = [threading.Thread(target=sender, args=(uuid,)) for uuid in conversations]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def long_transactions(engine) -> int:
    """Sessions of the database in a transaction for a second or more: one spanning a provider wait would be."""
    with engine.connect() as connection:
        return connection.scalar(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND xact_start < now() - interval '1 second'"
        ))


@contextmanager
def storm_setting(tmp_path, llm_path: str, model: str, clients: int, storm):
    """gunicorn on the default gunicorn.conf.py, answering through the loopback provider's route
    `llm_path`, with 8 conversations to read and `clients` to storm, and a process of its own in which
    `storm(base, headers, conversations, seconds)` runs; that process and every worker are warmed up.

    Yields (server, headers, shown, chats, storms).
    """
    llm_env = {"OPENREGISTER_LLM_PROVIDER": "openai", "OPENREGISTER_LLM_MODEL": model}
    with llm_server_process(llm_path) as llm_url, running_server(
        tmp_path, workers=None, threads=None, OPENREGISTER_LLM_BASE_URL=llm_url, **llm_env
    ) as server, ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as storms:
        headers = server.headers("tester")
        with httpx.Client(base_url=server.base, headers=headers, timeout=60) as client:
            shown = [client.post("/conversations", json={"title": f"Shown {i}"}).json()["uuid"] for i in range(8)]
            chats = [client.post("/conversations", json={"title": f"Chat {i}"}).json()["uuid"] for i in range(clients)]
        storms.submit(storm, server.base, headers, [], 0).result()  # the storm's process is up
        steady_reads(server, headers, shown, 2)  # and every worker too
        yield server, headers, shown, chats, storms


def test_slow_llm_does_not_stall_list_and_show(tmp_path):
    with storm_setting(tmp_path, "delay/1-3", "slow-model", SENDERS, chat_storm) as (server, headers, shown, chats, storms):
        engine = server.engine()
        on_postgresql = engine.dialect.name == "postgresql"

        quiet, stormy, outcomes, most_in_long_transactions = [], [], [], 0
        for _ in range(ROUNDS):
            quiet.append(steady_reads(server, headers, shown, PHASE_SECONDS))
            storm = storms.submit(chat_storm, server.base, headers, chats, PHASE_SECONDS + 2)
            time.sleep(1.5)  # every client has a chat waiting
            watching = True

            def watch():
                nonlocal most_in_long_transactions
                while watching and on_postgresql:
                    most_in_long_transactions = max(most_in_long_transactions, long_transactions(engine))
                    time.sleep(0.2)

            watcher = threading.Thread(target=watch)
            watcher.start()
            stormy.append(steady_reads(server, headers, shown, PHASE_SECONDS))
            watching = False
            watcher.join()
            outcomes += storm.result(timeout=180)
        engine.dispose()

    statuses = [status for status, _ in outcomes]
    send_seconds = sorted(seconds for _, seconds in outcomes)
    # The median round: a burst of load from outside in one phase does not decide the outcome.
    quiet_p99 = statistics.median(p99(phase) for phase in quiet)
    stormy_p99 = statistics.median(p99(phase) for phase in stormy)
    report = (
        f"{'PostgreSQL' if on_postgresql else 'SQLite'}, {os.cpu_count()} cores: list/show p99 {quiet_p99 * 1000:.0f} ms "
        f"alone, {stormy_p99 * 1000:.0f} ms with {SENDERS} chats waiting ({stormy_p99 / quiet_p99:.1f}x); "
        f"{len(statuses)} chats, median {statistics.median(send_seconds):.2f} s, max {send_seconds[-1]:.2f} s; "
        f"rounds p99 alone {[round(p99(phase) * 1000) for phase in quiet]} ms, "
        f"with chats {[round(p99(phase) * 1000) for phase in stormy]} ms; sessions in a transaction "
        f"older than 1 s at once, at most: {most_in_long_transactions if on_postgresql else 'n/a'}"
    )
    print(report)
    assert statuses and set(statuses) == {200}, report
    assert stormy_p99 <= MAX_SLOWDOWN * quiet_p99, report
