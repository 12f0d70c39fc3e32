import twocrates


def test_ends() -> None:
    assert twocrates.ends([3, 1, 4]) == (3, 4)
    assert twocrates.ends([]) == (None, None)
