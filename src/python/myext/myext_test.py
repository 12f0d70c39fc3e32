from __future__ import annotations

import threading
import time

import myext
import pytest
from myext import (
    Counter,
    ParseError,
    count_primes,
    describe_pair,
    fibonacci,
    fibonacci_sequence,
    parse_pair,
    sum_as_string,
)


def test_version() -> None:
    assert myext.__version__ == "0.1.0"


def test_native_module_is_compiled() -> None:
    from myext import _native

    assert _native.__name__ == "myext._native"
    assert not _native.__file__.endswith(".py")


def test_sum_as_string() -> None:
    assert sum_as_string(2, 3) == "5"
    assert sum_as_string(0, 0) == "0"
    assert sum_as_string(2**63, 2**63 - 1) == str(2**64 - 1)
    with pytest.raises(OverflowError):
        sum_as_string(2**64 - 1, 1)
    with pytest.raises(OverflowError):
        sum_as_string(-1, 1)


def test_fibonacci() -> None:
    assert [fibonacci(n) for n in range(10)] == [0, 1, 1, 2, 3, 5, 8, 13, 21, 34]
    assert fibonacci(50) == 12_586_269_025
    assert fibonacci(93) == 12_200_160_415_121_876_738
    with pytest.raises(OverflowError):
        fibonacci(94)


def test_fibonacci_sequence() -> None:
    assert fibonacci_sequence(0) == []
    assert fibonacci_sequence(7) == [0, 1, 1, 2, 3, 5, 8]
    with pytest.raises(ValueError):
        fibonacci_sequence(-1)


def test_counter() -> None:
    c = Counter()
    assert c.value == 0
    assert c.increment() == 1
    assert c.increment(by=5) == 6
    assert c.increment(-10) == -4
    assert c.value == -4
    assert repr(c) == "Counter(value=-4)"

    started = Counter(start=41)
    assert started.increment() == 42
    assert Counter(7).value == 7

    with pytest.raises(OverflowError):
        Counter(2**63 - 1).increment()
    with pytest.raises(AttributeError):
        c.value = 3  # type: ignore[misc]


def test_parse_error_type() -> None:
    assert issubclass(ParseError, ValueError)
    assert ParseError.__name__ == "ParseError"
    assert ParseError.__module__ == "myext._native"


def test_parse_pair() -> None:
    assert parse_pair("3,4") == (3, 4)
    assert parse_pair(" -7 , 12 ") == (-7, 12)


@pytest.mark.parametrize("bad", ["", "34", "1,2,3", "3,x", "a,4", "3,", "9223372036854775808,1"])
def test_parse_pair_malformed(bad: str) -> None:
    with pytest.raises(ParseError):
        parse_pair(bad)
    # ...and it can be caught as an ordinary ValueError.
    with pytest.raises(ValueError):
        parse_pair(bad)


def test_describe_pair() -> None:
    assert describe_pair("3,4") == "(3, 4): sum=7, product=12"
    with pytest.raises(ParseError, match="invalid integer"):
        describe_pair("3,four")


def test_count_primes_known_values() -> None:
    known = {0: 0, 1: 0, 2: 1, 3: 2, 10: 4, 100: 25, 1000: 168, 10**6: 78_498}
    for limit, expected in known.items():
        assert count_primes(limit) == expected, limit


def _timed_count(limit: int) -> tuple[int, float]:
    start = time.perf_counter()
    result = count_primes(limit)
    return result, time.perf_counter() - start


def _slow_limit(min_seconds: float = 0.25) -> tuple[int, int, float]:
    """A limit for which one count_primes() call takes at least `min_seconds`."""
    limit = 1_000_000
    while True:
        result, elapsed = _timed_count(limit)
        if elapsed >= min_seconds or limit >= 10**10:
            return limit, result, elapsed
        limit *= 4


def _run_in_two_threads(limit: int, spin: bool) -> tuple[list[int | None], float, float]:
    """Run count_primes(limit) in two threads. If `spin`, the main thread keeps
    running Python code meanwhile and records its longest stall.
    Returns (results, wall time, longest main-thread stall)."""
    results: list[int | None] = [None, None]
    barrier = threading.Barrier(3)

    def worker(i: int) -> None:
        barrier.wait()
        results[i] = count_primes(limit)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    barrier.wait()
    start = last = time.perf_counter()
    max_gap = 0.0
    while spin and any(t.is_alive() for t in threads):
        now = time.perf_counter()
        max_gap = max(max_gap, now - last)
        last = now
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    return results, wall, max_gap


def test_count_primes_releases_gil_in_two_threads() -> None:
    limit, expected, single = _slow_limit()
    results, _, max_gap = _run_in_two_threads(limit, spin=True)
    assert results == [expected, expected]
    # If count_primes held the GIL, this (pure-Python) thread would be frozen
    # for at least one whole call (>= `single` seconds).
    assert max_gap < single / 2, (max_gap, single)
