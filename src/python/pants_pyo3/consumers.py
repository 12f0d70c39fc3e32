# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""Hooks into the Python targets that consume extensions: tests and distributions.

Both check that the consumer runs the interpreter the module was built for, and distributions get a
build backend that tags their wheels for the platform.
"""

from __future__ import annotations

import logging
import pkgutil
from dataclasses import dataclass
from typing import Iterable

from pants.backend.python.goals.pytest_runner import PytestPluginSetup, PytestPluginSetupRequest
from pants.backend.python.subsystems.setup import PythonSetup
from pants.backend.python.target_types import GenerateSetupField, PythonProvidesField
from pants.backend.python.util_rules.interpreter_constraints import InterpreterConstraints
from pants.backend.python.util_rules.package_dists import (
    DistBuildEnvironment,
    DistBuildEnvironmentRequest,
)
from pants.backend.python.subsystems.setuptools import PythonDistributionFieldSet
from pants.engine.addresses import Address, Addresses
from pants.engine.fs import EMPTY_DIGEST, CreateDigest, Digest, FileContent
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.engine.target import Target, Targets, TransitiveTargets, TransitiveTargetsRequest
from pants.engine.unions import UnionRule
from pants.util.logging import LogLevel
from pants.util.strutil import softwrap

from pants_pyo3 import wheel_backend
from pants_pyo3.rules import (
    BuiltPyo3Extension,
    Pyo3ExtensionBuildRequest,
    Pyo3InterpreterMismatchError,
)
from pants_pyo3.target_types import Pyo3ExtensionTarget, Pyo3InterpreterConstraintsField, Pyo3ModuleNameField
from pants_pyo3.toolchain import Pyo3Interpreter, Pyo3InterpreterRequest

logger = logging.getLogger(__name__)

_BACKEND_MODULE = "_pants_pyo3_backend"
# Pinned so wheel builds are reproducible; both support CPython 3.8 to 3.13.
_BUILD_REQUIREMENTS = ("setuptools==69.5.1", "wheel==0.43.0")


def _extensions(targets: Iterable[Target]) -> tuple[Target, ...]:
    return tuple(t for t in targets if t.has_field(Pyo3ModuleNameField))


@dataclass(frozen=True)
class Pyo3ConsumerCheckRequest:
    """Check that a Python target runs an interpreter that can import the extensions it uses."""

    consumer: Address
    # How the consumer is named to users, e.g. "test" or "python_distribution".
    what: str
    interpreter_constraints: InterpreterConstraints
    extensions: tuple[Target, ...]


@dataclass(frozen=True)
class CheckedPyo3Extensions:
    built: tuple[BuiltPyo3Extension, ...]


@rule(desc="Check the interpreter of a consumer of PyO3 extensions", level=LogLevel.DEBUG)
async def check_consumer_interpreter(request: Pyo3ConsumerCheckRequest) -> CheckedPyo3Extensions:
    consumer_python = await Get(Pyo3Interpreter, Pyo3InterpreterRequest(request.interpreter_constraints))
    built = await MultiGet(
        Get(BuiltPyo3Extension, Pyo3ExtensionBuildRequest(t)) for t in request.extensions
    )
    for ext in built:
        if ext.abi3_floor:
            ok = (consumer_python.major, consumer_python.minor) >= ext.abi3_floor
            built_for = f"the stable ABI of CPython >= {'.'.join(map(str, ext.abi3_floor))}"
        else:
            ok = consumer_python.ext_suffix == ext.interpreter.ext_suffix
            built_for = f"{ext.interpreter.implementation} {ext.interpreter.version}"
        if not ok:
            raise Pyo3InterpreterMismatchError(
                softwrap(
                    f"""
                    The {request.what} {request.consumer} runs under
                    {consumer_python.implementation} {consumer_python.version}
                    ({consumer_python.executable.path}), but the `{Pyo3ExtensionTarget.alias}` target
                    {ext.address} it depends on was built for {built_for}, so the module would not
                    import. Give both the same `{Pyo3InterpreterConstraintsField.alias}` (the
                    extension's are currently {ext.interpreter_constraints}; the consumer's, merged
                    with its dependencies', are {request.interpreter_constraints}).
                    """
                )
            )
    return CheckedPyo3Extensions(tuple(built))


@dataclass(frozen=True)
class Pyo3PytestPluginSetupRequest(PytestPluginSetupRequest):
    @classmethod
    def is_applicable(cls, target: Target) -> bool:
        return True


@rule(desc="Check the interpreter of tests that import PyO3 extensions", level=LogLevel.DEBUG)
async def check_pytest_interpreter(
    request: Pyo3PytestPluginSetupRequest, python_setup: PythonSetup
) -> PytestPluginSetup:
    transitive = await Get(TransitiveTargets, TransitiveTargetsRequest([request.target.address]))
    extensions = _extensions(transitive.closure)
    if extensions:
        ics = InterpreterConstraints.create_from_targets(transitive.closure, python_setup)
        assert ics is not None, "a python_tests target has interpreter constraints"
        await Get(
            CheckedPyo3Extensions,
            Pyo3ConsumerCheckRequest(request.target.address, "test", ics, extensions),
        )
    return PytestPluginSetup(EMPTY_DIGEST)


@dataclass(frozen=True)
class Pyo3DistBuildEnvironmentRequest(DistBuildEnvironmentRequest):
    @classmethod
    def is_applicable(cls, tgt: Target) -> bool:
        return PythonDistributionFieldSet.is_applicable(tgt) and tgt[GenerateSetupField].value is not False


@rule(desc="Prepare a platform wheel build for PyO3 extensions", level=LogLevel.DEBUG)
async def pyo3_dist_build_environment(request: Pyo3DistBuildEnvironmentRequest) -> DistBuildEnvironment:
    targets = await Get(Targets, Addresses(request.target_addresses))
    extensions = _extensions(targets)
    if not extensions:
        return DistBuildEnvironment((), EMPTY_DIGEST)
    dist = next(t.address for t in targets if t.has_field(PythonProvidesField))
    checked = await Get(
        CheckedPyo3Extensions,
        Pyo3ConsumerCheckRequest(
            dist, "python_distribution", request.interpreter_constraints, extensions
        ),
    )
    backend = pkgutil.get_data(wheel_backend.__name__.rpartition(".")[0], "wheel_backend.py")
    assert backend is not None, "wheel_backend.py is missing, which is a bug in the pants-pyo3 plugin"
    requires = ", ".join(f'"{r}"' for r in _BUILD_REQUIREMENTS)
    files = [
        FileContent(_BACKEND_MODULE + ".py", backend),
        FileContent(
            "pyproject.toml",
            f'[build-system]\nrequires = [{requires}]\nbuild-backend = "{_BACKEND_MODULE}"\n'.encode(),
        ),
    ]
    floors = {b.abi3_floor for b in checked.built}
    if None not in floors:
        # Every module uses the stable ABI: the wheel is `cpXY-abi3-<platform>` for the highest floor.
        major, minor = max(f for f in floors if f)
        files.append(FileContent("setup.cfg", f"[bdist_wheel]\npy_limited_api = cp{major}{minor}\n".encode()))
    digest = await Get(Digest, CreateDigest(files))
    return DistBuildEnvironment((), digest)


def rules():
    return [
        *collect_rules(),
        UnionRule(PytestPluginSetupRequest, Pyo3PytestPluginSetupRequest),
        UnionRule(DistBuildEnvironmentRequest, Pyo3DistBuildEnvironmentRequest),
    ]
