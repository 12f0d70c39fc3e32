"""myext: a small Python package backed by a Rust (PyO3) extension module.

The compiled part lives in ``myext._native``; this module re-exports it and
adds a couple of pure-Python helpers on top.
"""

from __future__ import annotations

from myext._native import Counter, ParseError, count_primes, fibonacci, parse_pair, sum_as_string

__version__ = "0.1.0"

__all__ = [
    "Counter",
    "ParseError",
    "__version__",
    "count_primes",
    "describe_pair",
    "fibonacci",
    "fibonacci_sequence",
    "parse_pair",
    "sum_as_string",
]


def describe_pair(s: str) -> str:
    """Parse ``s`` (e.g. ``"3,4"``) with the Rust parser and describe the pair.

    Raises :class:`ParseError` (a :class:`ValueError`) if ``s`` is malformed.
    """
    a, b = parse_pair(s)
    return f"({a}, {b}): sum={a + b}, product={a * b}"


def fibonacci_sequence(count: int) -> list[int]:
    """The first ``count`` Fibonacci numbers, each computed in Rust."""
    if count < 0:
        raise ValueError("count must be non-negative")
    return [fibonacci(n) for n in range(count)]
