import toplevel


def test_add() -> None:
    assert toplevel.add(40, 2) == 42
