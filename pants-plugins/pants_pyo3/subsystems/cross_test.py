# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

from __future__ import annotations

import pytest
from pants.testutil.option_util import create_subsystem
from pants_pyo3.errors import CrossToolchainError, Pyo3CrossToolchainMissingError
from pants_pyo3.subsystems.cross import Pyo3CrossSubsystem

AARCH64 = {
    "rustc": "/usr/bin/rustc",
    "cargo": "/usr/bin/cargo",
    "linker": "/usr/bin/aarch64-linux-gnu-gcc",
    "sysroot": "/opt/sysroot",
    "runner": "qemu-aarch64 -L {sysroot}",
}


def test_toolchain_for_a_configured_triple() -> None:
    cross = create_subsystem(Pyo3CrossSubsystem, toolchains={"aarch64-unknown-linux-gnu": AARCH64})
    toolchain = cross.toolchain_for(
        "aarch64-unknown-linux-gnu", requested_by="src/python/myext:native"
    )
    assert toolchain.linker == "/usr/bin/aarch64-linux-gnu-gcc"
    assert toolchain.runner == "qemu-aarch64 -L /opt/sysroot"


@pytest.mark.parametrize(
    "triple, hint",
    [
        pytest.param(
            "aarch64-unknown-linux-gnu", "build-support/cross/setup-aarch64.sh", id="aarch64"
        ),
        pytest.param("riscv64gc-unknown-linux-gnu", "Install a Rust standard library", id="other"),
    ],
)
def test_toolchain_for_a_missing_triple_says_how_to_get_one(triple: str, hint: str) -> None:
    cross = create_subsystem(Pyo3CrossSubsystem, toolchains={})
    with pytest.raises(Pyo3CrossToolchainMissingError) as e:
        cross.toolchain_for(triple, requested_by="src/python/myext:native")
    assert "src/python/myext:native builds for" in str(e.value)
    assert "(configured: none)" in str(e.value)
    assert hint in str(e.value)
    assert "PANTS_PYO3_CROSS_TOOLCHAINS" in str(e.value)


def test_malformed_entry_names_the_option() -> None:
    cross = create_subsystem(
        Pyo3CrossSubsystem, toolchains={"aarch64-unknown-linux-gnu": {"rustc": "x"}}
    )
    with pytest.raises(
        CrossToolchainError,
        match=r"`\[pyo3-cross\].toolchains` is not valid: .*lacks 'cargo', 'linker'",
    ):
        cross.toolchains()
