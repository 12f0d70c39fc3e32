import bareabi3


def test_shout() -> None:
    assert bareabi3.shout("abi3") == "ABI3"
    assert bareabi3.__file__.endswith(".abi3.so")
