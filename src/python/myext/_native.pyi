"""Type stubs for the Rust extension module ``myext._native`` (src/rust/myext)."""

from typing import Tuple

class ParseError(ValueError):
    """Raised by parse_pair() when the input is not of the form "<int>,<int>"."""

class Counter:
    """A simple integer counter living in Rust."""

    def __init__(self, start: int = 0) -> None: ...
    def increment(self, by: int = 1) -> int:
        """Add ``by`` to the counter and return the new value."""
    @property
    def value(self) -> int: ...
    def __repr__(self) -> str: ...

def sum_as_string(a: int, b: int) -> str:
    """Add two non-negative integers and return the result as a string."""

def fibonacci(n: int) -> int:
    """The n-th Fibonacci number; raises OverflowError for n > 93."""

def parse_pair(s: str) -> Tuple[int, int]:
    """Parse "a,b" into a tuple of two ints; raises ParseError when malformed."""

def count_primes(limit: int) -> int:
    """Count the primes <= limit, releasing the GIL while doing so."""
