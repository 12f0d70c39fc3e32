import pytest
from pp3greet import greet, shout


def test_greet() -> None:
    assert greet("Ada") == "Hello, Ada!"
    assert greet("  Bob ") == "Hello, Bob!"
    assert greet("") == "Hello, world!"


def test_shout() -> None:
    assert shout("ada") == "HELLO, ADA!"
    assert shout("ada", times=2) == "HELLO, ADA! HELLO, ADA!"
    with pytest.raises(ValueError):
        shout("ada", times=0)
