"""Example app: combines the pure-Python pp3greet with the Rust-backed myext."""

from __future__ import annotations

import sys

from myext import Counter, count_primes, describe_pair, fibonacci, sum_as_string
from pp3greet import greet


def main(argv: list[str]) -> int:
    name = argv[1] if len(argv) > 1 else "Pants"
    counter = Counter()
    counter.increment()
    print(
        f"{greet(name)} fibonacci(50)={fibonacci(50)} (from Rust), "
        f"sum_as_string(40, 2)={sum_as_string(40, 2)!r}, "
        f"primes<=100000: {count_primes(100_000)}, "
        f"pair: {describe_pair('3,4')}, {counter!r}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
