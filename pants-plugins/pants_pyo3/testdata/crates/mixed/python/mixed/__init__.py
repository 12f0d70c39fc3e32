"""maturin's mixed layout: the Python package in `python/` beside the crate."""

from mixed._core import double


def quadruple(x: int) -> int:
    return double(double(x))
