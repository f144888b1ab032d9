"""Reading the next batch while the consumer works on this one."""

import threading

import pytest

from labeling.core.read_ahead import read_ahead


def test_batches_arrive_in_order_and_whole():
    assert list(read_ahead(range(7), batch_size=3)) == [[0, 1, 2], [3, 4, 5], [6]]


def test_a_reader_error_reaches_the_consumer_after_the_good_batches():
    def items():
        yield from range(4)
        raise ConnectionError("Label Studio went away")

    got = []
    with pytest.raises(ConnectionError, match="went away"):
        for batch in read_ahead(items(), batch_size=2):
            got.append(batch)
    assert got == [[0, 1], [2, 3]]


def test_the_reader_runs_ahead_of_a_slow_consumer():
    second_read = threading.Event()

    def items():
        yield 1
        yield 2
        second_read.set()

    batches = read_ahead(items(), batch_size=1)
    assert next(batches) == [1]
    # The consumer holds the first batch; the reader still fetches the next one.
    assert second_read.wait(timeout=5)
    assert list(batches) == [[2]]


def test_a_consumer_that_stops_early_stops_the_reader():
    consumed = []

    def items():
        for i in range(1000):
            consumed.append(i)
            yield i

    for batch in read_ahead(items(), batch_size=1, depth=1):
        assert batch == [0]
        break
    assert len(consumed) < 10
