# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""The build plan of a `pyo3_extension`: which interpreters and target triples it is built for,
and every problem that stops it, found before cargo runs."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import DefaultDict

from pants.backend.python.subsystems.setup import PythonSetup
from pants.backend.python.util_rules.interpreter_constraints import InterpreterConstraints
from pants.engine.addresses import Address
from pants.engine.process import ProcessExecutionFailure
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.engine.target import AllTargets, Target, Targets
from pants.util.logging import LogLevel
from pants.util.strutil import softwrap
from pants_pyo3.crate.crate import Pyo3Crate, Pyo3CrateRequest
from pants_pyo3.errors import Pyo3ExtensionError, Pyo3InterpreterNotFoundError
from pants_pyo3.subsystems.cross import SETUP_SCRIPT as CROSS_SETUP_SCRIPT
from pants_pyo3.subsystems.cross import Pyo3CrossSubsystem
from pants_pyo3.target_types import (
    Pyo3ExtensionTarget,
    Pyo3InterpreterConstraintsField,
    Pyo3ModuleNameField,
    Pyo3TargetTriplesField,
)
from pants_pyo3.toolchain.interpreter import Pyo3Interpreter, Pyo3InterpreterRequest
from pants_pyo3.toolchain.rust import RustToolchain

logger = logging.getLogger(__name__)


class AllPyo3ExtensionTargets(Targets):
    pass


@rule(desc="Find all `pyo3_extension` targets", level=LogLevel.DEBUG)
async def find_all_pyo3_extensions(all_targets: AllTargets) -> AllPyo3ExtensionTargets:
    return AllPyo3ExtensionTargets(tgt for tgt in all_targets if tgt.has_field(Pyo3ModuleNameField))


def check_unique_module_names(targets: AllPyo3ExtensionTargets) -> None:
    owners: DefaultDict[str, list[Address]] = defaultdict(list)
    for tgt in targets:
        owners[tgt[Pyo3ModuleNameField].value].append(tgt.address)
    clashes = {module: addrs for module, addrs in owners.items() if len(addrs) > 1}
    if clashes:
        module, addrs = sorted(clashes.items())[0]
        raise Pyo3ExtensionError(
            softwrap(
                f"""
                The `{Pyo3ExtensionTarget.alias}` targets {', '.join(str(a) for a in sorted(addrs))}
                all claim the Python module `{module}`, and only one library can be imported under
                a name. Give each a distinct `{Pyo3ModuleNameField.alias}`.
                """
            )
        )


@dataclass(frozen=True)
class Pyo3ExtensionBuildRequest:
    """One cargo build of an extension: for one interpreter (or the stable ABI) and one triple."""

    target: Target
    interpreter: Pyo3Interpreter
    triple: str


@dataclass(frozen=True)
class Pyo3ExtensionBuildsRequest:
    target: Target


def extension_interpreter_constraints(
    tgt: Target, python_setup: PythonSetup
) -> InterpreterConstraints:
    return InterpreterConstraints(
        tgt[Pyo3InterpreterConstraintsField].value_or_global_default(python_setup)
    )


def host_abi_tag(interpreter: Pyo3Interpreter) -> str:
    """The ABI a module for `interpreter` is compiled for, e.g. `cpython-311-x86_64-linux-gnu`:
    cargo commands for different ABIs get their own target directory (see build_extension.py)."""
    return interpreter.ext_suffix.strip(".").rpartition(".")[0]


def version_tuple(version: str) -> tuple[int, int]:
    """`"3.11"` -> `(3, 11)`."""
    major, minor = version.split(".")
    return int(major), int(minor)


def extension_triples(tgt: Target, toolchain: RustToolchain) -> tuple[str, ...]:
    """The Rust target triples an extension is built for (default: the host's)."""
    return tgt[Pyo3TargetTriplesField].value or (toolchain.host,)


def triple_problem(
    tgt: Target, triple: str, toolchain: RustToolchain, cross: Pyo3CrossSubsystem
) -> Pyo3ExtensionError | None:
    """Why `tgt` can't be built for `triple` with the host toolchain, or None if it can (or a
    `[pyo3-cross]` toolchain is configured for it: `cross.toolchain_problems` checks that one)."""
    field = tgt[Pyo3TargetTriplesField]
    if triple in cross.toolchains():
        return None
    if triple not in toolchain.known:
        return Pyo3ExtensionError(
            softwrap(
                f"""
                The `{field.alias}` of the `{Pyo3ExtensionTarget.alias}` target {tgt.address}
                names `{triple}`, which is not a target triple that rustc
                {toolchain.release} knows. Use a triple from `rustc --print target-list`, e.g.
                `{toolchain.host}`.
                """
            )
        )
    if triple not in toolchain.installed:
        setup = (
            f" (on Debian 12: run `{CROSS_SETUP_SCRIPT}` as root, then Pants through `./pants`)"
            if triple == "aarch64-unknown-linux-gnu"
            else ""
        )
        return Pyo3ExtensionError(
            softwrap(
                f"""
                The `{Pyo3ExtensionTarget.alias}` target {tgt.address} is built for `{triple}`,
                but the Rust standard library for `{triple}` is not installed in the toolchain
                at {toolchain.sysroot} (installed: {', '.join(toolchain.installed) or 'none'}),
                and `[{cross.options_scope}].toolchains` has no toolchain for it. Install it
                with `rustup target add {triple}` (for the toolchain {toolchain.release}), or
                configure a cross toolchain for it{setup}; see docs/cross.md. Or remove
                `{triple}` from `{field.alias}`.
                """
            )
        )
    return None


def _check_triples(
    tgt: Target, triples: tuple[str, ...], toolchain: RustToolchain, cross: Pyo3CrossSubsystem
) -> None:
    for triple in triples:
        problem = triple_problem(tgt, triple, toolchain, cross)
        if problem is not None:
            raise problem


def admitted_versions(
    tgt: Target, constraints: InterpreterConstraints, python_setup: PythonSetup
) -> tuple[str, ...]:
    """The CPython major.minor versions an extension's constraints admit: one build each (one in all
    for abi3). Partitioned with `[python].interpreter_versions_universe`; an error if there are none.
    """
    try:
        versions = constraints.partition_into_major_minor_versions(
            python_setup.interpreter_versions_universe
        )
    except ValueError:  # Pants' own complaint, which can't name the target.
        versions = ()
    if not versions:
        raise Pyo3InterpreterNotFoundError(
            softwrap(
                f"""
                The `{Pyo3InterpreterConstraintsField.alias}` of the `{Pyo3ExtensionTarget.alias}`
                target {tgt.address} ({constraints}) admit none of the Python versions in
                `[python].interpreter_versions_universe`
                ({', '.join(python_setup.interpreter_versions_universe)}). Fix the constraints, or
                add the version to the universe.
                """
            )
        )
    return tuple(versions)


def check_abi3_floor(
    tgt: Target,
    constraints: InterpreterConstraints,
    versions: tuple[str, ...],
    floor: tuple[int, int] | None,
) -> None:
    """An abi3 module can't be imported below its floor: every admitted version must reach it."""
    below = [v for v in versions if floor and version_tuple(v) < floor]
    if floor and below:
        floor_text = ".".join(map(str, floor))
        raise Pyo3ExtensionError(
            softwrap(
                f"""
                The `{Pyo3ExtensionTarget.alias}` target {tgt.address} enables pyo3's abi3
                feature for CPython >= {floor_text}, but its
                `{Pyo3InterpreterConstraintsField.alias}` ({constraints}) also admit CPython
                {', '.join(below)}, which can't import that module. Raise the constraints to
                `["CPython>={floor_text}"]` (or narrower), or lower the abi3 feature (e.g.
                `abi3-py{below[0].replace('.', '')}`).
                """
            )
        )


def build_versions(versions: tuple[str, ...], floor: tuple[int, int] | None) -> tuple[str, ...]:
    """The versions built: each admitted one, or for abi3 only the lowest (the module serves all)."""
    return versions[:1] if floor else versions


def narrow_to_version(constraints: InterpreterConstraints, version: str) -> InterpreterConstraints:
    """The part of `constraints` that admits CPython `version` (major.minor) alone."""
    return InterpreterConstraints(f"{c},=={version}.*" for c in constraints)


def interpreter_not_found(
    tgt: Target, constraints: InterpreterConstraints, version: str
) -> Pyo3InterpreterNotFoundError:
    major, minor = version_tuple(version)
    return Pyo3InterpreterNotFoundError(
        softwrap(
            f"""
            The `{Pyo3ExtensionTarget.alias}` target {tgt.address} is built for every CPython
            version its `{Pyo3InterpreterConstraintsField.alias}` ({constraints}) admit, which
            includes {version}, but no CPython {version} interpreter was found where
            `[python-bootstrap].search_path` looks. Install CPython {version} (e.g. `pyenv
            install {version}`), or narrow the constraints to exclude it, e.g.
            `{Pyo3InterpreterConstraintsField.alias}=["CPython>={major}.{minor + 1}"]`.
            """
        )
    )


@dataclass(frozen=True)
class Pyo3InterpreterLookupRequest:
    """Find the interpreter of one major.minor version that some constraints admit."""

    interpreter_constraints: InterpreterConstraints
    version: str


@dataclass(frozen=True)
class Pyo3InterpreterLookup:
    """The interpreter found for a version, or None if there is none (the caller names the target
    in its error: the look-up itself is shared by every extension with the same constraints)."""

    version: str
    interpreter: Pyo3Interpreter | None


@rule(desc="Look up a Python interpreter for a PyO3 build", level=LogLevel.DEBUG)
async def look_up_interpreter(request: Pyo3InterpreterLookupRequest) -> Pyo3InterpreterLookup:
    try:
        interpreter = await Get(
            Pyo3Interpreter,
            Pyo3InterpreterRequest(
                narrow_to_version(request.interpreter_constraints, request.version)
            ),
        )
    except ProcessExecutionFailure:
        return Pyo3InterpreterLookup(request.version, None)
    return Pyo3InterpreterLookup(request.version, interpreter)


async def look_up_interpreters(
    constraints: InterpreterConstraints, versions: tuple[str, ...]
) -> tuple[Pyo3InterpreterLookup, ...]:
    """The interpreters of several versions, looked up side by side (each look-up is a process of
    ~1-2 s that no cache keeps across pantsd restarts: six in turn were ~14 s of a cold run)."""
    return tuple(
        await MultiGet(
            Get(Pyo3InterpreterLookup, Pyo3InterpreterLookupRequest(constraints, version))
            for version in versions
        )
    )


async def interpreters_for_versions(
    tgt: Target, constraints: InterpreterConstraints, versions: tuple[str, ...]
) -> tuple[Pyo3Interpreter, ...]:
    """The interpreter of each major.minor version that the constraints admit, looked up side by
    side; the named error for the first version without one."""
    lookups = await look_up_interpreters(constraints, versions)
    for lookup in lookups:
        if lookup.interpreter is None:
            raise interpreter_not_found(tgt, constraints, lookup.version)
    return tuple(lookup.interpreter for lookup in lookups if lookup.interpreter is not None)


async def interpreter_for_version(
    tgt: Target, constraints: InterpreterConstraints, version: str
) -> Pyo3Interpreter:
    """The interpreter of one major.minor version that the constraints admit."""
    (interpreter,) = await interpreters_for_versions(tgt, constraints, (version,))
    return interpreter


@dataclass(frozen=True)
class Pyo3ExtensionBuildPlan:
    """The builds of one extension, before they run: one per interpreter (a single one for abi3)
    and triple."""

    address: Address
    interpreter_constraints: InterpreterConstraints
    abi3_floor: tuple[int, int] | None
    requests: tuple[Pyo3ExtensionBuildRequest, ...]


@rule(desc="Plan the builds of a PyO3 extension", level=LogLevel.DEBUG)
async def plan_pyo3_extension_builds(
    request: Pyo3ExtensionBuildsRequest,
    toolchain: RustToolchain,
    python_setup: PythonSetup,
    cross: Pyo3CrossSubsystem,
) -> Pyo3ExtensionBuildPlan:
    tgt = request.target
    crate = await Get(Pyo3Crate, Pyo3CrateRequest(tgt))
    constraints = extension_interpreter_constraints(tgt, python_setup)
    admitted = admitted_versions(tgt, constraints, python_setup)
    floor = crate.manifest.abi3_floor
    check_abi3_floor(tgt, constraints, admitted, floor)
    triples = extension_triples(tgt, toolchain)
    _check_triples(tgt, triples, toolchain, cross)
    interpreters = await interpreters_for_versions(
        tgt, constraints, build_versions(admitted, floor)
    )
    return Pyo3ExtensionBuildPlan(
        tgt.address,
        constraints,
        floor,
        tuple(
            Pyo3ExtensionBuildRequest(tgt, interpreter, triple)
            for triple in triples
            for interpreter in interpreters
        ),
    )


def rules():
    return collect_rules()
