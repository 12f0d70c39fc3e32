# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

from __future__ import annotations

import pytest
from pants_pyo3.toolchain.zig import (
    glibc_function_hint,
    policy_for_functions,
    policy_glibc,
    zig_target,
)


@pytest.mark.parametrize(
    "policy, glibc",
    [
        pytest.param("manylinux2014", (2, 17), id="legacy-2014"),
        pytest.param("manylinux_2_28", (2, 28), id="pep600"),
        pytest.param("manylinux1", (2, 5), id="legacy-1"),
        pytest.param("auto", None, id="auto"),
        pytest.param("off", None, id="off"),
    ],
)
def test_policy_glibc(policy: str, glibc: tuple[int, int] | None) -> None:
    assert policy_glibc(policy) == glibc


@pytest.mark.parametrize(
    "triple, target",
    [
        pytest.param("x86_64-unknown-linux-gnu", "x86_64-linux-gnu.2.17", id="x86_64"),
        pytest.param("aarch64-unknown-linux-gnu", "aarch64-linux-gnu.2.17", id="aarch64"),
        pytest.param("armv7-unknown-linux-gnueabihf", "arm-linux-gnueabihf.2.17", id="armv7"),
        # Not glibc Linux: linked as without a baseline.
        pytest.param("x86_64-unknown-linux-musl", None, id="musl"),
        pytest.param("aarch64-apple-darwin", None, id="macos"),
        pytest.param("x86_64-pc-windows-msvc", None, id="windows"),
    ],
)
def test_zig_target(triple: str, target: str | None) -> None:
    assert zig_target(triple, (2, 17)) == target


def test_glibc_function_hint() -> None:
    assert glibc_function_hint("getrandom") == "`getrandom` (glibc 2.25)"
    assert glibc_function_hint("frobnicate") == "`frobnicate`"


def test_policy_for_functions_is_the_oldest_common_one_that_has_them() -> None:
    assert policy_for_functions(["getrandom"]) == "manylinux_2_28"
    assert policy_for_functions(["getrandom", "close_range"]) == "manylinux_2_34"
    assert policy_for_functions(["statx"]) == "manylinux_2_28"
    assert policy_for_functions(["gettid"]) == "manylinux_2_31"
    assert policy_for_functions(["frobnicate"]) == "manylinux_2_28"
