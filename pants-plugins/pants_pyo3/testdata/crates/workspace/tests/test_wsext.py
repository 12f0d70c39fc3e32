import wsext


def test_triple() -> None:
    assert wsext.triple(14) == 42
