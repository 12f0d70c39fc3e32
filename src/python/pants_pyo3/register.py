# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""Build Rust crates into PyO3 extension modules for Python targets."""

from __future__ import annotations

from pants_pyo3 import (
    cargo_command,
    cargo_tests,
    consumers,
    cross_subsystem,
    doctor,
    one_version,
    publish,
    rules as build_rules,
    rust_lint,
    sdist,
    tailor,
    toolchain,
    version_bump,
)
from pants_pyo3.target_types import CargoCrateTarget, Pyo3ExtensionTarget


def rules():
    return [
        *build_rules.rules(),
        *toolchain.rules(),
        *consumers.rules(),
        *doctor.rules(),
        *version_bump.rules(),
        *publish.rules(),
        *cross_subsystem.rules(),
        *cargo_command.rules(),
        *cargo_tests.rules(),
        *rust_lint.rules(),
        *tailor.rules(),
        *one_version.rules(),
        *sdist.rules(),
    ]


def target_types():
    return [CargoCrateTarget, Pyo3ExtensionTarget]
