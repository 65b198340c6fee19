"""A slow LLM does not stall the API: list and show keep their latency while 64 chats wait on it.

Against gunicorn with the default gunicorn.conf.py, a loopback provider answering each chat after
1 to 3 s (uniformly at random). Each round measures list and show requests sent at a steady 25 a
second, first alone, then while 64 clients keep a chat message each waiting on the provider. The
p99 with the chats may be at most 5 times the p99 without them (each the median of the rounds'), and
every chat must succeed.
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

pytestmark = [pytest.mark.live, pytest.mark.slow]

SENDERS = 64
READS_PER_SECOND = 25
PHASE_SECONDS = 5
ROUNDS = 5
MAX_SLOWDOWN = 5


def p99(latencies: list[float]) -> float:
    return statistics.quantiles(latencies, n=100, method="inclusive")[98]


def steady_reads(base: str, headers: dict, uuids: list[str], seconds: float) -> list[float]:
    """Latencies of list and show requests sent at READS_PER_SECOND, each on time whatever the last one took.

    Runs in a process of its own (see storm_setting).
    """
    latencies, failures = [], []
    targets = itertools.cycle(["/conversations"] + [f"/conversations/{uuid}" for uuid in uuids])
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    with httpx.Client(base_url=base, headers=headers, timeout=60, limits=limits) as client, \
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
    assert failures == [], failures
    return latencies


def storm_clients(base: str, headers: dict, conversations: list[str], seconds: float, send) -> list:
    """One thread a conversation, each calling `send(client, uuid)` again as soon as it returns, for
    `seconds`; returns what the calls returned. Runs in the storm's process (see storm_setting).

    The threads share one client: creating one builds a TLS context (some 20 ms of CPU), and 64 of them
    at the start of every round were a second of the test's own CPU landing on the measured reads.
    Their first sends are spread over a second, as a steady storm's would be.
    """
    stop = threading.Event()
    outcomes = []
    limits = httpx.Limits(max_connections=len(conversations), max_keepalive_connections=len(conversations))
    with httpx.Client(base_url=base, headers=headers, timeout=60, limits=limits) as client:

        def sender(number, uuid):
            time.sleep(number / len(conversations))
            while not stop.is_set():
                outcomes.append(send(client, uuid))

        threads = [threading.Thread(target=sender, args=item) for item in enumerate(conversations)]
        for thread in threads:
            thread.start()
        time.sleep(seconds)
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
    return outcomes


def send_chat(client: httpx.Client, uuid: str) -> tuple[int, float]:
    started = time.perf_counter()
    response = client.post("/chat/send", json={"conversation": uuid, "message": "Slow, please"})
    return response.status_code, time.perf_counter() - started


def chat_storm(base: str, headers: dict, conversations: list[str], seconds: float) -> list[tuple[int, float]]:
    """Each conversation's client sends a chat message, and the next as soon as it is answered, for
    `seconds`; returns (status, seconds taken) of every message."""
    return storm_clients(base, headers, conversations, seconds, send_chat)


def long_transactions(engine) -> int:
    """Sessions of the database in a transaction for a second or more: one spanning a provider wait would
    be, and so is a chat's insert waiting its turn on the organisation's counter row (README, "Performance")."""
    with engine.connect() as connection:
        return connection.scalar(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND xact_start < now() - interval '1 second'"
        ))


class Setting:
    """What storm_setting yields: the server, the conversations, and the processes that read and storm."""

    def __init__(self, server, headers, shown, chats, readers, storms, storm):
        self.server, self.headers, self.shown, self.chats = server, headers, shown, chats
        self.readers, self.storms, self.storm_function = readers, storms, storm

    def reads(self, seconds: float) -> list[float]:
        """steady_reads of the shown conversations, in the readers' process."""
        return self.readers.submit(steady_reads, self.server.base, self.headers, self.shown, seconds).result()

    def storm(self, seconds: float):
        """The storm over the chat conversations for `seconds`, started in the storm's process; its future."""
        return self.storms.submit(self.storm_function, self.server.base, self.headers, self.chats, seconds)


@contextmanager
def storm_setting(tmp_path, llm_path: str, model: str, clients: int, storm):
    """gunicorn on the default gunicorn.conf.py, answering through the loopback provider's route
    `llm_path`, with 8 conversations to read and `clients` to storm with `storm(base, headers,
    conversations, seconds)`.

    The provider, the storm's clients and the measuring client each run in a process of their own,
    so that none shares an interpreter (and its lock) with another, nor with pytest's, which coverage
    may be tracing. Reads and a first storm warm up those processes and every worker: the first
    storm on a fresh server also fills the workers' database pools (on PostgreSQL, some 40 new
    sessions at once), a burst of CPU that is the server starting, not a steady storm.
    """
    llm_env = {"OPENREGISTER_LLM_PROVIDER": "openai", "OPENREGISTER_LLM_MODEL": model}
    spawn = multiprocessing.get_context("spawn")
    with llm_server_process(llm_path) as llm_url, running_server(
        tmp_path, workers=None, threads=None, OPENREGISTER_LLM_BASE_URL=llm_url, **llm_env
    ) as server, ProcessPoolExecutor(max_workers=1, mp_context=spawn) as readers, \
            ProcessPoolExecutor(max_workers=1, mp_context=spawn) as storms:
        headers = server.headers("tester")
        with httpx.Client(base_url=server.base, headers=headers, timeout=60) as client:
            shown = [client.post("/conversations", json={"title": f"Shown {i}"}).json()["uuid"] for i in range(8)]
            chats = [client.post("/conversations", json={"title": f"Chat {i}"}).json()["uuid"] for i in range(clients)]
        setting = Setting(server, headers, shown, chats, readers, storms, storm)
        setting.reads(2)
        setting.storm(1).result()
        yield setting


class RoundSet:
    """ROUNDS rounds, each of list and show alone and then with the chat storm."""

    def __init__(self, setting: Setting, engine):
        self.on_postgresql = on_postgresql = engine.dialect.name == "postgresql"
        self.quiet, self.stormy, self.chats, self.most_in_long_transactions = [], [], [], 0
        for _ in range(ROUNDS):
            self.quiet.append(setting.reads(PHASE_SECONDS))
            storm = setting.storm(PHASE_SECONDS + 2)
            time.sleep(1.5)  # every client has a chat waiting
            watching = True

            def watch():
                while watching and on_postgresql:
                    self.most_in_long_transactions = max(self.most_in_long_transactions, long_transactions(engine))
                    time.sleep(0.2)

            watcher = threading.Thread(target=watch)
            watcher.start()
            self.stormy.append(setting.reads(PHASE_SECONDS))
            watching = False
            watcher.join()
            self.chats += storm.result(timeout=180)
        # The median round: a burst of load from outside in one or two phases does not decide the outcome.
        self.quiet_p99 = statistics.median(p99(phase) for phase in self.quiet)
        self.stormy_p99 = statistics.median(p99(phase) for phase in self.stormy)
        self.slowdown = self.stormy_p99 / self.quiet_p99

    def report(self) -> str:
        send_seconds = sorted(seconds for _, seconds in self.chats)
        return (
            f"list/show p99 {self.quiet_p99 * 1000:.0f} ms alone, {self.stormy_p99 * 1000:.0f} ms with {SENDERS} "
            f"chats waiting ({self.slowdown:.1f}x); {len(self.chats)} chats, median "
            f"{statistics.median(send_seconds):.2f} s, max {send_seconds[-1]:.2f} s; rounds p99 alone "
            f"{[round(p99(phase) * 1000) for phase in self.quiet]} ms, with chats "
            f"{[round(p99(phase) * 1000) for phase in self.stormy]} ms; sessions in a transaction older than 1 s "
            f"at once, at most: {self.most_in_long_transactions if self.on_postgresql else 'n/a'}"
        )


def test_slow_llm_does_not_stall_list_and_show(tmp_path):
    with storm_setting(tmp_path, "delay/1-3", "slow-model", SENDERS, chat_storm) as setting:
        engine = setting.server.engine()
        # A second round-set only when the first is over the bound: on a shared machine, load from other
        # jobs during most of one round-set's storm phases can push its median past 5x. The stall this
        # test guards against (with 4 threads a worker, p99 went from 15-60 ms to 17-27 s) is hundreds of
        # times the bound, and fails every round-set.
        attempts = [RoundSet(setting, engine)]
        if attempts[0].slowdown > MAX_SLOWDOWN:
            attempts.append(RoundSet(setting, engine))
        engine.dispose()

    report = f"{engine.dialect.name}, {os.cpu_count()} cores: " + "; then ".join(attempt.report() for attempt in attempts)
    print(report)
    statuses = {status for attempt in attempts for status, _ in attempt.chats}
    assert statuses == {200}, report
    assert attempts[-1].slowdown <= MAX_SLOWDOWN, report
