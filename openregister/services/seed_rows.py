"""The conversations and messages of `flask seed`, made in a process of their own.

SQLite does a load's work in one thread, and making the rows in Python (random titles and texts,
uuids, times: a fifth or so of the CPU time of a large seed) took the same thread. A second process
makes the rows while the seed's own process loads the batch before, so that two cores work at once.
The producer starts from the state of the seed's rng and draws from it exactly as the seed's
process would, batch after batch: the same rows for the same `--random-seed`. Batches go to the
seed through a bounded queue as plain tuples (pickling them costs a small part of making them).

A failure in the producer ends the seed with ProducerFailed, and the seed's transaction rolls back;
a failure in the seed's process, or Ctrl-C, stops the producer.
"""

import multiprocessing
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from multiprocessing.queues import Queue
from queue import Empty, Full
from typing import Any

from ..models.base import new_uuids
from ..models.conversation import new_slug
from .seed_load import ConversationRow, MessageRow, Row, prepare_rows
from .seed_words import ADJECTIVES, ASSISTANT_TEMPLATES, NOUNS, PAST, PLACES, TIMES, USER_TEMPLATES, VERBS

YEAR = timedelta(days=365)
# Conversations written together.
BATCH_SIZE = 1000
# Distinct sentences of each kind that messages are made of.
SENTENCE_POOL = 5000
# Batches the producer may be ahead of the load: enough to keep both busy, little memory.
QUEUE_BATCHES = 4
# How often (seconds) each process, while it waits for the other, checks that the other still runs.
POLL = 1.0

# A batch's conversations and messages, as prepare_rows() gives them to the load.
Batch = tuple[list[Row], list[Row]]


class ProducerFailed(Exception):
    """The process making the rows failed or stopped before it had made them all."""


@dataclass(frozen=True)
class RowPlan:
    """What the producer needs (it sees no database): whose conversations, how many, and from which ids."""

    user_ids: list[int]
    conversations: int
    messages: int
    organisation_id: int
    archived: float
    first_conversation: int
    first_message: int
    now: datetime
    rng_state: tuple[Any, ...]
    # The load's database, for prepare_rows().
    dialect: str


def _sentence(rng: random.Random, template: str) -> str:
    words = {
        "noun": rng.choice(NOUNS), "noun2": rng.choice(NOUNS), "noun3": rng.choice(NOUNS),
        "verb": rng.choice(VERBS), "past": rng.choice(PAST), "adj": rng.choice(ADJECTIVES),
        "adj2": rng.choice(ADJECTIVES), "place": rng.choice(PLACES), "time": rng.choice(TIMES),
    }
    return template.format(**words)


class Writer:
    """Draws conversations and messages from the rng, in time order, as rows for the bulk load."""

    def __init__(self, rng: random.Random, now: datetime) -> None:
        self.rng = rng
        self.now = now
        self.questions = [_sentence(rng, rng.choice(USER_TEMPLATES)) for _ in range(SENTENCE_POOL)]
        self.answers = [_sentence(rng, rng.choice(ASSISTANT_TEMPLATES)) for _ in range(SENTENCE_POOL)]

    def title(self) -> str:
        rng = self.rng
        words = [rng.choice(ADJECTIVES), rng.choice(NOUNS)] + ([rng.choice(NOUNS)] if rng.random() < 0.5 else [])
        if rng.random() < 0.3:
            words.append("in " + rng.choice(PLACES))
        return " ".join(words).capitalize()

    def conversation(self, conversation_id: int, first_message_id: int, user_id: int, organisation_id: int,
                     message_count: int, archived: bool) -> tuple[ConversationRow, list[MessageRow]]:
        """One conversation's row and its messages' rows, oldest first, with the ids given.

        Indexes are drawn as int(random() x n) rather than with choice() and randint(): the same
        uniform choices at a fraction of the cost, which counts at ten million messages."""
        random_ = self.rng.random
        questions, answers = self.questions, self.answers
        # Long enough for every message to fit between the start and now.
        latest_start = self.now - timedelta(hours=message_count)
        started = latest_start - random_() * max(YEAR - timedelta(hours=message_count), timedelta(0))
        at = started
        uuids = new_uuids(message_count + 1)
        messages: list[MessageRow] = []
        for index in range(message_count):
            if index % 2 == 0:
                at += timedelta(seconds=30 + int(random_() * 2971))
                content = questions[int(random_() * SENTENCE_POOL)]
                if random_() < 0.3:
                    content += " " + questions[int(random_() * SENTENCE_POOL)]
                role = "user"
            else:
                at += timedelta(seconds=2 + int(random_() * 39))
                content = " ".join([answers[int(random_() * SENTENCE_POOL)] for _ in range(1 + int(random_() * 4))])
                role = "assistant"
            messages.append((first_message_id + index, uuids[index], conversation_id, role, content, at))
        deleted_at = at + (self.now - at) * random_() if archived else None
        conversation = (conversation_id, uuids[-1], new_slug(), self.title(), user_id, organisation_id,
                        deleted_at, started, at)
        return conversation, messages


def batches(plan: RowPlan) -> Iterator[Batch]:
    """The plan's conversations and messages, BATCH_SIZE conversations at a time, users in order.
    Exactly round(archived x total) are archived."""
    rng = random.Random()
    rng.setstate(plan.rng_state)
    writer = Writer(rng, plan.now)
    total = len(plan.user_ids) * plan.conversations
    to_archive = round(plan.archived * total)
    seen = 0
    next_conversation, next_message = plan.first_conversation, plan.first_message
    conversations: list[ConversationRow] = []
    messages: list[MessageRow] = []
    for user_id in plan.user_ids:
        for _ in range(plan.conversations):
            # Selection sampling (Knuth's algorithm S): exactly to_archive of total, in one pass.
            archived = rng.random() * (total - seen) < to_archive
            to_archive -= archived
            seen += 1
            conversation, its_messages = writer.conversation(next_conversation, next_message, user_id,
                                                             plan.organisation_id, plan.messages, archived)
            next_conversation += 1
            next_message += plan.messages
            conversations.append(conversation)
            messages.extend(its_messages)
            if len(conversations) == BATCH_SIZE:
                yield prepare_rows(plan.dialect, conversations, messages)
                conversations, messages = [], []
    if conversations:
        yield prepare_rows(plan.dialect, conversations, messages)


@contextmanager
def produced(plan: RowPlan) -> Iterator[Iterator[Batch]]:
    """batches(plan), made in a second process while the caller works on the batch before; the
    process is stopped when the block ends, however it ends."""
    context = multiprocessing.get_context("spawn")
    queue: Queue[tuple[str, Any]] = context.Queue(maxsize=QUEUE_BATCHES)
    process = context.Process(target=_produce, args=(plan, queue), name="openregister-seed-rows", daemon=True)
    process.start()
    try:
        yield _received(queue, process)
    finally:
        if process.is_alive():
            process.terminate()
        process.join()
        queue.close()


def _received(queue: "Queue[tuple[str, Any]]", process: multiprocessing.process.BaseProcess) -> Iterator[Batch]:
    while True:
        try:
            kind, payload = queue.get(timeout=POLL)
        except Empty:
            if not process.is_alive():
                raise ProducerFailed(f"The process making the rows stopped (exit code {process.exitcode})") from None
            continue
        if kind == "done":
            return
        if kind == "failed":
            raise ProducerFailed(f"The rows could not be made: {payload}")
        yield payload


def _produce(plan: RowPlan, queue: "Queue[tuple[str, Any]]") -> None:
    """The producer process: every batch, then "done"; or why it failed."""
    try:
        for batch in batches(plan):
            _put(queue, ("batch", batch))
        _put(queue, ("done", None))
    except KeyboardInterrupt:
        # Ctrl-C reaches both processes: the seed's own stops the load and rolls back.
        pass
    except Exception as error:
        _put(queue, ("failed", f"{type(error).__name__}: {error}"))


def _put(queue: "Queue[tuple[str, Any]]", item: tuple[str, Any]) -> None:
    """Put, waiting while the queue is full, unless the seed's process is gone (killed, say)."""
    parent = multiprocessing.parent_process()
    while True:
        try:
            queue.put(item, timeout=POLL)
            return
        except Full:
            if parent is not None and not parent.is_alive():
                # Nobody reads the queue any more: exit without waiting to flush it.
                queue.cancel_join_thread()
                raise SystemExit(1) from None
