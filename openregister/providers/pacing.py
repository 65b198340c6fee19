"""Waiting for pieces without being stuck in the wait: the reader can write a keep-alive, or see that its
own client went away, while the provider thinks."""

import threading
from collections.abc import Iterator
from queue import Empty, SimpleQueue

from .base import Pieces


def paced(pieces: Pieces, every: float) -> Iterator[str | None]:
    """The pieces, read in a thread of their own, with None whenever `every` seconds pass without one.

    The reading thread touches nothing but `pieces`. What iterating `pieces` raises is raised here.
    Closing this iterator (or leaving it) closes `pieces`, which ends the reading thread's wait.
    """
    # A piece, what iterating raised, or None for the end.
    queue: SimpleQueue[str | BaseException | None] = SimpleQueue()

    def pump() -> None:
        try:
            for piece in pieces:
                queue.put(piece)
        except BaseException as error:  # handed over, and raised by the reader
            queue.put(error)
            return
        queue.put(None)

    threading.Thread(target=pump, name="provider-pieces", daemon=True).start()
    try:
        while True:
            try:
                item = queue.get(timeout=every)
            except Empty:
                yield None
                continue
            if isinstance(item, BaseException):
                raise item
            if item is None:
                return
            yield item
    finally:
        pieces.close()
