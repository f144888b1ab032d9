"""DynamicBatcher: concurrent callers share batches and each gets its own answer."""

import threading
import time

import pytest

from serving.core.batching import BatcherClosed, DynamicBatcher


def _concurrently(count: int, call) -> list:
    """Run ``call(i)`` from ``count`` threads released at once; results (or exceptions) by i."""
    results: list = [None] * count
    start = threading.Barrier(count)

    def worker(i: int) -> None:
        start.wait()
        try:
            results[i] = call(i)
        except Exception as error:  # the test inspects what each caller saw
            results[i] = error

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return results


class Recorder:
    """A process function that remembers its batches and takes a little time, like a model."""

    def __init__(self, seconds: float = 0.02, fail_on=None):
        self.batches: list[list] = []
        self.seconds = seconds
        self.fail_on = fail_on

    def __call__(self, items: list) -> list:
        self.batches.append(list(items))
        time.sleep(self.seconds)
        if self.fail_on is not None and self.fail_on in items:
            raise ValueError(f"bad item {self.fail_on}")
        return [item * 10 for item in items]


def test_concurrent_callers_share_batches_and_get_their_own_results():
    recorder = Recorder()
    batcher = DynamicBatcher(recorder, max_batch_size=32, max_wait_ms=50, name="t")
    results = _concurrently(16, lambda i: batcher.submit(i))
    batcher.close()
    assert results == [i * 10 for i in range(16)]
    stats = batcher.stats()
    assert stats.items == 16
    assert stats.batches == len(recorder.batches) < 16
    assert stats.mean_batch_size > 1
    assert stats.as_dict()["mean_batch_size"] == pytest.approx(16 / stats.batches, abs=0.01)


def test_batches_never_exceed_max_batch_size_and_keep_arrival_order():
    recorder = Recorder(seconds=0.0)
    batcher = DynamicBatcher(recorder, max_batch_size=4, max_wait_ms=20)
    assert batcher.submit_all(list(range(10))) == [i * 10 for i in range(10)]
    batcher.close()
    assert [len(b) for b in recorder.batches] == [4, 4, 2]
    assert [i for b in recorder.batches for i in b] == list(range(10))


def test_a_lone_request_waits_at_most_max_wait():
    batcher = DynamicBatcher(Recorder(seconds=0.0), max_wait_ms=30)
    started = time.monotonic()
    assert batcher.submit(3) == 30
    assert time.monotonic() - started < 1.0
    batcher.close()


def test_items_with_different_keys_never_share_a_batch():
    recorder = Recorder(seconds=0.0)
    batcher = DynamicBatcher(recorder, max_wait_ms=30, key=lambda item: item % 2)
    assert batcher.submit_all(list(range(8))) == [i * 10 for i in range(8)]
    batcher.close()
    assert sorted(recorder.batches) == [[0, 2, 4, 6], [1, 3, 5, 7]]


def test_an_exception_reaches_every_caller_of_that_batch_only():
    recorder = Recorder(fail_on=5)
    batcher = DynamicBatcher(recorder, max_wait_ms=30, key=lambda item: item < 4)
    results = _concurrently(8, lambda i: batcher.submit(i))
    batcher.close()
    failed_batch = next(b for b in recorder.batches if 5 in b)
    for i, result in enumerate(results):
        if i in failed_batch:
            assert isinstance(result, ValueError) and "bad item 5" in str(result)
        else:
            assert result == i * 10
    assert batcher.stats().failed_batches == 1


def test_a_wrong_number_of_results_is_an_error_not_a_misdelivery():
    batcher = DynamicBatcher(lambda items: items[:-1], max_wait_ms=30)
    with pytest.raises(RuntimeError, match="returned 1 results for 2 items"):
        batcher.submit_all([1, 2])
    batcher.close()


def test_a_queued_item_that_times_out_is_withdrawn():
    gate = threading.Event()
    seen: list = []

    def slow(items):
        seen.extend(items)
        gate.wait(5)
        return items

    batcher = DynamicBatcher(slow, max_batch_size=1, max_wait_ms=0)
    first = threading.Thread(target=batcher.submit, args=("first",))
    first.start()
    time.sleep(0.05)  # "first" is now running and holds the worker
    with pytest.raises(TimeoutError, match="no result within"):
        batcher.submit("late", timeout=0.05)
    gate.set()
    first.join(5)
    assert batcher.submit("next") == "next"
    batcher.close()
    assert seen == ["first", "next"]


def test_close_fails_waiting_items_and_refuses_new_ones():
    gate = threading.Event()
    batcher = DynamicBatcher(lambda items: [gate.wait(5) and i for i in items], max_batch_size=1)
    results = {}

    def call(name):
        try:
            results[name] = batcher.submit(name)
        except BatcherClosed as error:
            results[name] = error

    running = threading.Thread(target=call, args=("running",))
    running.start()
    time.sleep(0.05)
    queued = threading.Thread(target=call, args=("queued",))
    queued.start()
    time.sleep(0.05)
    closer = threading.Thread(target=batcher.close)
    closer.start()
    time.sleep(0.05)
    gate.set()
    for thread in (running, queued, closer):
        thread.join(5)
    assert results["running"] == "running"  # a running batch finishes
    assert isinstance(results["queued"], BatcherClosed)
    with pytest.raises(BatcherClosed):
        batcher.submit("after")
    assert batcher.closed


def test_invalid_settings_are_refused():
    with pytest.raises(ValueError):
        DynamicBatcher(lambda items: items, max_batch_size=0)
    with pytest.raises(ValueError):
        DynamicBatcher(lambda items: items, max_wait_ms=-1)
