"""pp3sum: compensated float sums, from a Rust module built for CPython's stable ABI."""

from __future__ import annotations

from pp3sum._pp3sum import dot, fsum

__version__ = "0.1.0"

__all__ = ["__version__", "dot", "fsum", "mean"]


def mean(values: list[float]) -> float:
    """The arithmetic mean of ``values``, summed in Rust."""
    if not values:
        raise ValueError("mean() of an empty sequence")
    return fsum(values) / len(values)
