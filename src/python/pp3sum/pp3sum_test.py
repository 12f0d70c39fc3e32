from __future__ import annotations

import sys

import pp3sum
import pytest
from pp3sum import _pp3sum, dot, fsum, mean


def test_stable_abi_module() -> None:
    # One build for every interpreter: the module is `_pp3sum.abi3.so`, whatever runs the test.
    assert _pp3sum.__file__.endswith("_pp3sum.abi3.so"), _pp3sum.__file__
    assert sys.version_info >= (3, 8)


def test_fsum_keeps_small_terms() -> None:
    assert fsum([1e16] + [1.0] * 10) == 1e16 + 10


def test_dot_and_mean() -> None:
    assert dot([1.0, 2.0, 3.0], [4.0, 5.0, 6.0]) == 32.0
    assert mean([1.0, 2.0, 3.0]) == 2.0
    with pytest.raises(ValueError, match="equal length"):
        dot([1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="empty"):
        mean([])


def test_version() -> None:
    assert pp3sum.__version__ == "0.1.0"
