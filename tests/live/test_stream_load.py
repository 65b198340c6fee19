"""64 streamed answers at once on the default worker model (gthread, 32 threads a worker), while list and
show stay responsive.

Against gunicorn with the default gunicorn.conf.py, a loopback provider that streams each answer a
piece every quarter of a second (a few seconds an answer). Each round measures list and show requests
sent at a steady 25 a second, first alone, then while 64 clients each keep a streamed send open (the
next as soon as one is done). Every stream must end with `done`, all 64 must have been open at once,
and list and show must stay within a bounded slowdown of their own latency without the streams
(median of the rounds; p99 within 10 times or p50 within 5 times, lenient for a loaded 2-core machine).
The provider, the 64 clients and the measuring client run in processes of their own.
"""

import itertools
import os
import statistics
import time

import httpx
import pytest

from .test_slow_llm import p99, storm_clients, storm_setting

pytestmark = [pytest.mark.live, pytest.mark.slow]

STREAMS = 64
PHASE_SECONDS = 5
ROUNDS = 3
MAX_P99_SLOWDOWN = 10
MAX_P50_SLOWDOWN = 5
QUESTION = "Stream this answer to me slowly, a word at a time, please"


def stream_once(client: httpx.Client, uuid: str) -> tuple[int, str | None, float | None, float]:
    """One streamed send: its status, how it ended, and when it started and ended (perf_counter)."""
    started, ending = None, None
    with client.stream("POST", "/chat/send", json={"conversation": uuid, "message": QUESTION},
                       headers={"Accept": "text/event-stream"}) as response:
        for line in response.iter_lines():
            if line == "event: start":
                started = time.perf_counter()
            elif line in ("event: done", "event: error"):
                ending = line.split()[-1]
    return response.status_code, ending, started, time.perf_counter()


def stream_storm(base: str, headers: dict, conversations: list[str], seconds: float) -> list:
    """Each conversation's client keeps a streamed send open, the next as soon as one ends, for `seconds`;
    returns stream_once's outcome of every stream."""
    return storm_clients(base, headers, conversations, seconds, stream_once)


def most_open_at_once(outcomes: list) -> int:
    """The most streams open at once, from when each started (its `start` event) and ended."""
    events = sorted(event for _, _, started, ended in outcomes if started is not None
                    for event in ((started, 1), (ended, -1)))
    return max(itertools.accumulate(change for _, change in events), default=0)


def test_64_streams_at_once_leave_list_and_show_responsive(tmp_path):
    with storm_setting(tmp_path, "drip/0.25", "streaming-model", STREAMS, stream_storm) as setting:
        quiet, stormy, endings, most_open = [], [], [], []
        for _ in range(ROUNDS):
            quiet.append(setting.reads(PHASE_SECONDS))
            storm = setting.storm(PHASE_SECONDS + 2)
            time.sleep(1.5)  # every client has a stream open
            stormy.append(setting.reads(PHASE_SECONDS))
            outcomes = storm.result(timeout=180)
            endings += [(status, ending) for status, ending, _, _ in outcomes]
            most_open.append(most_open_at_once(outcomes))

    quiet_p99 = statistics.median(p99(phase) for phase in quiet)
    stormy_p99 = statistics.median(p99(phase) for phase in stormy)
    quiet_p50 = statistics.median(statistics.median(phase) for phase in quiet)
    stormy_p50 = statistics.median(statistics.median(phase) for phase in stormy)
    report = (
        f"{os.cpu_count()} cores: list/show p50 {quiet_p50 * 1000:.0f} ms alone, {stormy_p50 * 1000:.0f} ms with "
        f"{STREAMS} streams ({stormy_p50 / quiet_p50:.1f}x); p99 {quiet_p99 * 1000:.0f} ms alone, "
        f"{stormy_p99 * 1000:.0f} ms with them ({stormy_p99 / quiet_p99:.1f}x); {len(endings)} streams, most open "
        f"at once per round {most_open}; rounds p99 alone {[round(p99(phase) * 1000) for phase in quiet]} ms, "
        f"with streams {[round(p99(phase) * 1000) for phase in stormy]} ms"
    )
    print(report)
    assert endings and set(endings) == {(200, "done")}, report
    assert max(most_open) == STREAMS, report
    assert stormy_p99 <= MAX_P99_SLOWDOWN * quiet_p99 or stormy_p50 <= MAX_P50_SLOWDOWN * quiet_p50, report
