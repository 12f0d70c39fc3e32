# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

from __future__ import annotations

import pytest
from pants.testutil.option_util import create_subsystem
from pants_pyo3.errors import CrossToolchainError
from pants_pyo3.subsystems.cross import Pyo3CrossSubsystem

AARCH64 = {
    "rustc": "/usr/bin/rustc",
    "cargo": "/usr/bin/cargo",
    "linker": "/usr/bin/aarch64-linux-gnu-gcc",
    "sysroot": "/opt/sysroot",
    "runner": "qemu-aarch64 -L {sysroot}",
}


def test_a_configured_triple() -> None:
    cross = create_subsystem(Pyo3CrossSubsystem, toolchains={"aarch64-unknown-linux-gnu": AARCH64})
    toolchain = cross.toolchains()["aarch64-unknown-linux-gnu"]
    assert toolchain.linker == "/usr/bin/aarch64-linux-gnu-gcc"
    assert toolchain.runner == "qemu-aarch64 -L /opt/sysroot"


def test_malformed_entry_names_the_option() -> None:
    cross = create_subsystem(
        Pyo3CrossSubsystem, toolchains={"aarch64-unknown-linux-gnu": {"rustc": "x"}}
    )
    with pytest.raises(
        CrossToolchainError,
        match=r"`\[pyo3-cross\].toolchains` is not valid: .*lacks 'cargo', 'linker'",
    ):
        cross.toolchains()
