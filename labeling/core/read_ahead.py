"""Reading ahead of the consumer: the next page is fetched while this one is processed.

A full pull waits on Label Studio to build each page of tasks and then spends its own time
writing that page; with `read_ahead` the two overlap. Errors of the reader reach the
consumer at the point of the page that failed, so a caller's transaction rolls back.
"""

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()


def read_ahead(items: Iterable[T], *, depth: int = 2) -> Iterator[T]:
    """``items`` (pages, batches), produced by a background thread at most ``depth`` items
    ahead of the consumer. Stopping early (or an error in the consumer) stops the reader
    after its current item."""
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        """Wait for room in the buffer; False when the consumer has stopped."""
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(_DONE)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            put(exc)

    reader = threading.Thread(target=produce, name="read-ahead", daemon=True)
    reader.start()
    try:
        while True:
            got = buffer.get()
            if got is _DONE:
                return
            if isinstance(got, BaseException):
                raise got
            yield got
    finally:
        stop.set()
        reader.join(timeout=5)
