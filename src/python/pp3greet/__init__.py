"""pp3greet: a tiny pure-Python library used alongside the myext extension."""

from __future__ import annotations

__all__ = ["greet", "shout"]


def greet(name: str) -> str:
    """Return a friendly greeting for ``name`` (``"world"`` if blank)."""
    name = name.strip() or "world"
    return f"Hello, {name}!"


def shout(name: str, times: int = 1) -> str:
    """An upper-cased greeting, repeated ``times`` times."""
    if times < 1:
        raise ValueError("times must be at least 1")
    return " ".join([greet(name).upper()] * times)
