"""Two extensions, each from its own crate, in one package."""

from twocrates._alpha import first
from twocrates._beta import last


def ends(items: list) -> tuple:
    return first(items), last(items)
