# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""Python targets that use an extension must run an interpreter it is built for: checked for tests
(a pytest plugin hook) and for distributions."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Iterable, cast

from pants.backend.python.goals.pytest_runner import PytestPluginSetup, PytestPluginSetupRequest
from pants.backend.python.subsystems.setup import PythonSetup
from pants.backend.python.util_rules.interpreter_constraints import InterpreterConstraints
from pants.engine.addresses import Address
from pants.engine.fs import EMPTY_DIGEST
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.engine.target import Target, TransitiveTargets, TransitiveTargetsRequest
from pants.engine.unions import UnionRule
from pants.util.logging import LogLevel
from pants.util.strutil import softwrap
from pants_pyo3.build.extension import BuiltPyo3Extensions
from pants_pyo3.build.plan import (
    Pyo3ExtensionBuildPlan,
    Pyo3ExtensionBuildsRequest,
    package_defaults,
)
from pants_pyo3.errors import Pyo3InterpreterMismatchError
from pants_pyo3.target_types import (
    Pyo3ExtensionTarget,
    Pyo3InterpreterConstraintsField,
    Pyo3ModuleNameField,
)
from pants_pyo3.toolchain.interpreter import Pyo3Interpreter, Pyo3InterpreterRequest
from pants_pyo3.toolchain.rust import RustToolchain

logger = logging.getLogger(__name__)


def extension_targets(targets: Iterable[Target]) -> tuple[Target, ...]:
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
    built: tuple[BuiltPyo3Extensions, ...]


def _can_import(python: Pyo3Interpreter, ext: BuiltPyo3Extensions) -> bool:
    if ext.abi3_floor:
        return (python.major, python.minor) >= ext.abi3_floor
    return any(b.interpreter.ext_suffix == python.ext_suffix for b in ext.host_builds)


@rule(desc="Check the interpreter of a consumer of PyO3 extensions", level=LogLevel.DEBUG)
async def check_consumer_interpreter(request: Pyo3ConsumerCheckRequest) -> CheckedPyo3Extensions:
    consumer_python = await Get(
        Pyo3Interpreter, Pyo3InterpreterRequest(request.interpreter_constraints)
    )
    built = await MultiGet(
        Get(BuiltPyo3Extensions, Pyo3ExtensionBuildsRequest(t)) for t in request.extensions
    )
    for ext in built:
        if not _can_import(consumer_python, ext):
            raise Pyo3InterpreterMismatchError(
                softwrap(
                    f"""
                    The {request.what} {request.consumer} runs under
                    {consumer_python.implementation} {consumer_python.version}
                    ({consumer_python.executable.path}), but the `{Pyo3ExtensionTarget.alias}`
                    target {ext.address} it depends on is built for {ext.describe()}, so the
                    module would not import. Give both compatible
                    `{Pyo3InterpreterConstraintsField.alias}` (the extension's are currently
                    {ext.interpreter_constraints}; the consumer's, merged
                    with its dependencies', are {request.interpreter_constraints}): a package whose
                    module needs fewer versions than the repo says so once, for all its targets,
                    with `{package_defaults(ext.interpreter_constraints)}` in its
                    BUILD file.
                    """
                )
            )
    return CheckedPyo3Extensions(tuple(built))


@dataclass(frozen=True)
class Pyo3PytestPluginSetupRequest(PytestPluginSetupRequest):
    @classmethod
    def is_applicable(cls, target: Target) -> bool:
        return True


def _plan_can_import(python: Pyo3Interpreter, plan: Pyo3ExtensionBuildPlan, host: str) -> bool:
    """`_can_import` from the plan alone: which modules will be built, not the modules."""
    if plan.abi3_floor:
        return (python.major, python.minor) >= plan.abi3_floor
    return any(
        r.interpreter.ext_suffix == python.ext_suffix for r in plan.requests if r.triple == host
    )


@rule(desc="Check the interpreter of tests that import PyO3 extensions", level=LogLevel.DEBUG)
async def check_pytest_interpreter(
    request: Pyo3PytestPluginSetupRequest, python_setup: PythonSetup, toolchain: RustToolchain
) -> PytestPluginSetup:
    transitive = await Get(TransitiveTargets, TransitiveTargetsRequest([request.target.address]))
    extensions = extension_targets(transitive.closure)
    if not extensions:
        return PytestPluginSetup(EMPTY_DIGEST)
    ics = InterpreterConstraints.create_from_targets(transitive.closure, python_setup)
    assert ics is not None, "a python_tests target has interpreter constraints"
    # From the build plans, not the builds: a test must not wait for builds it doesn't import (every
    # other interpreter's, every cross build); it gets the modules for this machine through codegen.
    test_python, *plans = await MultiGet(
        Get(Pyo3Interpreter, Pyo3InterpreterRequest(ics)),
        *(Get(Pyo3ExtensionBuildPlan, Pyo3ExtensionBuildsRequest(t)) for t in extensions),
    )
    for plan in cast("list[Pyo3ExtensionBuildPlan]", plans):
        if not _plan_can_import(cast(Pyo3Interpreter, test_python), plan, toolchain.host):
            # The full check, for its error message (it waits for the builds: only on failure).
            await Get(
                CheckedPyo3Extensions,
                Pyo3ConsumerCheckRequest(request.target.address, "test", ics, extensions),
            )
    return PytestPluginSetup(EMPTY_DIGEST)


def rules():
    return [*collect_rules(), UnionRule(PytestPluginSetupRequest, Pyo3PytestPluginSetupRequest)]
