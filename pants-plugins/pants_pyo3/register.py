# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""Build Rust crates into PyO3 extension modules for Python targets."""

from __future__ import annotations

from pants_pyo3.build import cargo, cargo_command, cross, extension, plan
from pants_pyo3.crate import crate, workspace
from pants_pyo3.goals import develop, doctor, tailor
from pants_pyo3.goals import test as cargo_test
from pants_pyo3.lint.clippy import rules as clippy
from pants_pyo3.lint.rustfmt import rules as rustfmt
from pants_pyo3.publish import redaction
from pants_pyo3.pyproject import rules as pyproject
from pants_pyo3.python import codegen, dependency_inference, interpreter_check, module_mapper
from pants_pyo3.sandbox import programs
from pants_pyo3.sdist import rules as sdist
from pants_pyo3.stubs import rules as stubs
from pants_pyo3.subsystems import auditwheel as auditwheel_subsystem
from pants_pyo3.subsystems import cross as cross_subsystem
from pants_pyo3.target_types import CargoCrateTarget, Pyo3ExtensionTarget
from pants_pyo3.toolchain import interpreter, rust, zig
from pants_pyo3.versions import bump, check
from pants_pyo3.wheel import auditwheel, base_wheel, license, platform_wheels, sbom


def rules():
    return [
        *rust.rules(),
        *zig.rules(),
        *interpreter.rules(),
        *cross_subsystem.rules(),
        *auditwheel_subsystem.rules(),
        *crate.rules(),
        *workspace.rules(),
        *plan.rules(),
        *cross.rules(),
        *cargo.rules(),
        *cargo_command.rules(),
        *extension.rules(),
        *programs.rules(),
        *codegen.rules(),
        *stubs.rules(),
        *dependency_inference.rules(),
        *module_mapper.rules(),
        *interpreter_check.rules(),
        *base_wheel.rules(),
        *auditwheel.rules(),
        *platform_wheels.rules(),
        *sbom.rules(),
        *license.rules(),
        *sdist.rules(),
        *pyproject.rules(),
        *bump.rules(),
        *check.rules(),
        *doctor.rules(),
        *develop.rules(),
        *tailor.rules(),
        *cargo_test.rules(),
        *clippy.rules(),
        *rustfmt.rules(),
        *redaction.rules(),
    ]


def target_types():
    return [CargoCrateTarget, Pyo3ExtensionTarget]
