"""Dynamic batching: many threads call `submit`, one worker thread runs them in batches.

A model answers a batch of 32 requests in little more time than one (the matrix multiplies
are wider, not more numerous), so a server that collects the requests arriving close
together and runs them as one call serves many more of them per second. `DynamicBatcher`
is that collector, in pure Python (threads, no torch) so it is tested without a model.

How a batch forms: the worker takes the oldest waiting item, then waits until either
``max_batch_size`` items *with the same key* are waiting or ``max_wait_ms`` have passed since
that oldest item arrived, and calls ``process`` once with those items (in arrival order).
While a batch runs, new items queue up; when the worker comes back the oldest of them has
usually waited long enough already, so under load batches fill without extra waiting.

Keys: items that cannot share one ``process`` call (a generation with other decoding
settings, say) get a different ``key``. A batch only ever holds items of one key; items of
other keys keep their place in the queue and form the next batch. One batcher per model
(adapter) and a key per decoding setting keeps threads few and batches as large as the
traffic allows.
"""

import threading
import time
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class BatcherClosed(RuntimeError):
    """The batcher was closed before this item ran (or `submit` came after `close`)."""


@dataclass(frozen=True)
class BatcherStats:
    """Counters for a deployment page: how well concurrent requests are being batched."""

    name: str
    batches: int
    items: int
    failed_batches: int
    largest_batch: int
    waiting: int

    @property
    def mean_batch_size(self) -> float:
        return self.items / self.batches if self.batches else 0.0

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "batches": self.batches,
            "items": self.items,
            "mean_batch_size": round(self.mean_batch_size, 2),
            "failed_batches": self.failed_batches,
            "largest_batch": self.largest_batch,
            "waiting": self.waiting,
        }


@dataclass
class _Pending(Generic[T]):
    item: T
    key: Hashable
    arrived: float
    future: Future


def _no_key(_item: object) -> Hashable:
    return None


class DynamicBatcher(Generic[T, R]):
    """Runs ``process(items) -> results`` (one result per item, same order) on batches of
    items submitted concurrently; each caller gets its own result, or the exception that
    its batch raised (callers in other batches are unaffected)."""

    def __init__(
        self,
        process: Callable[[list[T]], list[R]],
        *,
        max_batch_size: int = 32,
        max_wait_ms: float = 5.0,
        name: str = "",
        key: Callable[[T], Hashable] | None = None,
    ) -> None:
        if max_batch_size < 1:
            raise ValueError("max_batch_size must be at least 1")
        if max_wait_ms < 0:
            raise ValueError("max_wait_ms cannot be negative")
        self.name = name
        self.max_batch_size = max_batch_size
        self.max_wait = max_wait_ms / 1000.0
        self._process = process
        self._key = key or _no_key
        self._queue: list[_Pending[T]] = []
        self._condition = threading.Condition()
        self._closed = False
        self._batches = self._items = self._failed = self._largest = 0
        self._worker = threading.Thread(
            target=self._run, name=f"batcher-{name or id(self)}", daemon=True
        )
        self._worker.start()

    # -- callers ---------------------------------------------------------------------------

    def submit(self, item: T, *, timeout: float | None = None) -> R:
        """Queue ``item`` and block until its batch has run; returns its result.

        ``timeout`` (seconds) covers queueing and processing. An item still queued when it
        expires is withdrawn; one whose batch is already running is left to finish (a model
        call cannot be interrupted) and its result is dropped. Raises `TimeoutError`.
        """
        return self.submit_all([item], timeout=timeout)[0]

    def submit_all(self, items: Sequence[T], *, timeout: float | None = None) -> list[R]:
        """Queue several items at once (they may share batches with each other and with
        other callers' items) and wait for all; results in the order given."""
        futures = self._enqueue(items)
        deadline = None if timeout is None else time.monotonic() + timeout
        results: list[R] = []
        for future in futures:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                results.append(future.result(timeout=remaining))
            except TimeoutError:
                if future.done():  # the batch itself raised a TimeoutError: pass it on
                    raise
                for other in futures:
                    other.cancel()  # only succeeds for items no batch has taken yet
                raise TimeoutError(
                    f"batcher {self.name!r}: no result within {timeout:.3g} s"
                ) from None
        return results

    def _enqueue(self, items: Sequence[T]) -> list[Future]:
        now = time.monotonic()
        pending = [_Pending(item, self._key(item), now, Future()) for item in items]
        with self._condition:
            if self._closed:
                raise BatcherClosed(f"batcher {self.name!r} is closed")
            self._queue.extend(pending)
            self._condition.notify()
        return [p.future for p in pending]

    def close(self, *, timeout: float | None = None) -> None:
        """Stop taking items: those still queued fail with `BatcherClosed`, a batch already
        running finishes and its callers get their results. Waits for the worker to end."""
        with self._condition:
            self._closed = True
            abandoned, self._queue = self._queue, []
            self._condition.notify_all()
        for pending in abandoned:
            if pending.future.set_running_or_notify_cancel():
                pending.future.set_exception(BatcherClosed(f"batcher {self.name!r} was closed"))
        if threading.current_thread() is not self._worker:
            self._worker.join(timeout)

    @property
    def closed(self) -> bool:
        return self._closed

    def stats(self) -> BatcherStats:
        with self._condition:
            return BatcherStats(
                name=self.name,
                batches=self._batches,
                items=self._items,
                failed_batches=self._failed,
                largest_batch=self._largest,
                waiting=len(self._queue),
            )

    # -- the worker ------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            self._run_batch(batch)

    def _next_batch(self) -> list[_Pending[T]] | None:
        """Block until a batch is due; None once closed."""
        with self._condition:
            while True:
                self._drop_cancelled()
                if self._closed:
                    return None
                if not self._queue:
                    self._condition.wait()
                    continue
                oldest = self._queue[0]
                same_key = [p for p in self._queue if p.key == oldest.key]
                left = oldest.arrived + self.max_wait - time.monotonic()
                if len(same_key) >= self.max_batch_size or left <= 0:
                    batch = same_key[: self.max_batch_size]
                    taken = {id(p) for p in batch}
                    self._queue = [p for p in self._queue if id(p) not in taken]
                    return batch
                self._condition.wait(left)

    def _drop_cancelled(self) -> None:
        if any(p.future.cancelled() for p in self._queue):
            self._queue = [p for p in self._queue if not p.future.cancelled()]

    def _run_batch(self, batch: list[_Pending[T]]) -> None:
        # A caller that timed out in the meantime has cancelled its future: skip its item.
        live = [p for p in batch if p.future.set_running_or_notify_cancel()]
        if not live:
            return
        try:
            results = self._process([p.item for p in live])
            if len(results) != len(live):
                raise RuntimeError(
                    f"batcher {self.name!r}: process returned {len(results)} results "
                    f"for {len(live)} items"
                )
        except BaseException as error:  # every caller of this batch sees why it failed
            with self._condition:
                self._count(len(live), failed=True)
            for pending in live:
                pending.future.set_exception(error)
            if not isinstance(error, Exception):
                raise
            return
        with self._condition:
            self._count(len(live), failed=False)
        for pending, result in zip(live, results, strict=True):
            pending.future.set_result(result)

    def _count(self, size: int, *, failed: bool) -> None:
        self._batches += 1
        self._items += size
        self._largest = max(self._largest, size)
        self._failed += int(failed)
