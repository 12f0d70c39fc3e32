import gated


def test_fib() -> None:
    assert [gated.fib(n) for n in range(8)] == [0, 1, 1, 2, 3, 5, 8, 13]
