"""Reading the next batch while the consumer works on this one."""

import threading

import pytest

from labeling.core.read_ahead import read_ahead


def test_pages_arrive_in_order_and_whole():
    pages = [[0, 1, 2], [3, 4, 5], [6]]
    assert list(read_ahead(iter(pages))) == pages


def test_a_reader_error_reaches_the_consumer_after_the_good_batches():
    def items():
        yield [0, 1]
        yield [2, 3]
        raise ConnectionError("Label Studio went away")

    got = []
    with pytest.raises(ConnectionError, match="went away"):
        for page in read_ahead(items()):
            got.append(page)
    assert got == [[0, 1], [2, 3]]


def test_the_reader_runs_ahead_of_a_slow_consumer():
    second_read = threading.Event()

    def items():
        yield 1
        yield 2
        second_read.set()

    pages = read_ahead(items())
    assert next(pages) == 1
    # The consumer holds the first page; the reader still fetches the next one.
    assert second_read.wait(timeout=5)
    assert list(pages) == [2]


def test_a_consumer_that_stops_early_stops_the_reader():
    consumed = []

    def items():
        for i in range(1000):
            consumed.append(i)
            yield i

    for page in read_ahead(items(), depth=1):
        assert page == 0
        break
    assert len(consumed) < 10
