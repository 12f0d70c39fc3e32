from srclayout import greet


def test_greet() -> None:
    assert greet("src") == "hello, src"
