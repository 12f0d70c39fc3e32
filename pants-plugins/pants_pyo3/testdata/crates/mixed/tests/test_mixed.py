import mixed


def test_quadruple() -> None:
    assert mixed.double(21) == 42
    assert mixed.quadruple(3) == 12
