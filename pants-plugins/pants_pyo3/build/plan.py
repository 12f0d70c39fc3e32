# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""The build plan of a `pyo3_extension`: which interpreters and target triples it is built for,
and every problem that stops it, found before cargo runs."""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import DefaultDict, Iterable

from pants.backend.python.subsystems.setup import PythonSetup
from pants.backend.python.util_rules.interpreter_constraints import InterpreterConstraints
from pants.build_graph.address import ResolveError
from pants.engine.addresses import Address
from pants.engine.process import ProcessExecutionFailure
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.engine.target import AllTargets, Target, Targets
from pants.util.logging import LogLevel
from pants.util.strutil import softwrap
from pants_pyo3.crate.crate import Pyo3Crate, Pyo3CrateRequest
from pants_pyo3.crate.manifest import effective_abi3_floor
from pants_pyo3.errors import (
    Pyo3ExtensionError,
    Pyo3InterpreterNotFoundError,
    RustToolchainNotFoundError,
)
from pants_pyo3.subsystems.cross import SETUP_SCRIPT as CROSS_SETUP_SCRIPT
from pants_pyo3.subsystems.cross import Pyo3CrossSubsystem
from pants_pyo3.subsystems.pyo3 import Pyo3Subsystem
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


def module_name_problem(
    targets: AllPyo3ExtensionTargets, module: str | None = None
) -> Pyo3ExtensionError | None:
    """The error for two `pyo3_extension`s claiming one Python module (`module`, or any), or
    None."""
    owners: DefaultDict[str, list[Address]] = defaultdict(list)
    for tgt in targets:
        owners[tgt[Pyo3ModuleNameField].value].append(tgt.address)
    clashes = {
        name: addrs
        for name, addrs in owners.items()
        if len(addrs) > 1 and (module is None or name == module)
    }
    if not clashes:
        return None
    module, addrs = sorted(clashes.items())[0]
    return Pyo3ExtensionError(
        softwrap(
            f"""
            The `{Pyo3ExtensionTarget.alias}` targets {', '.join(str(a) for a in sorted(addrs))}
            all claim the Python module `{module}`, and only one library can be imported under
            a name. Give each a distinct `{Pyo3ModuleNameField.alias}`.
            """
        )
    )


def check_unique_module_names(targets: AllPyo3ExtensionTargets) -> None:
    problem = module_name_problem(targets)
    if problem is not None:
        raise problem


@dataclass(frozen=True)
class Pyo3ExtensionBuildRequest:
    """One cargo build of an extension: for one interpreter (or the stable ABI) and one triple."""

    target: Target
    interpreter: Pyo3Interpreter
    triple: str
    # The build the type stub is read from (`stubs/rules.py`): pyo3's `experimental-inspect` on,
    # in a target directory of its own, never the module that goes into wheels, tests or pex files.
    inspect: bool = False
    # For that build: keep the symbol table a profile with `strip = true` would remove (the stub
    # generator finds pyo3's data by its symbols).
    keep_symbols: bool = False


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


def host_only_problem(
    tgt: Target, triples: tuple[str, ...], toolchain: RustToolchain, pyo3: Pyo3Subsystem
) -> Pyo3ExtensionError | None:
    """Under `[pyo3].host_only`, an extension must be built for this machine's triple."""
    if toolchain.host in triples:
        return None
    field = tgt[Pyo3TargetTriplesField]
    return Pyo3ExtensionError(
        softwrap(
            f"""
            `[{pyo3.options_scope}].host_only` builds for this machine's triple
            (`{toolchain.host}`) only, but the `{field.alias}` of the
            `{Pyo3ExtensionTarget.alias}` target {tgt.address} ({', '.join(triples)}) leave it
            out. Add `{toolchain.host}` to them, or build without `host_only`.
            """
        )
    )


def triple_problem(
    tgt: Target,
    triple: str,
    toolchain: RustToolchain,
    cross: Pyo3CrossSubsystem,
    pyo3: Pyo3Subsystem,
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
                configure a cross toolchain for it{setup}; see docs/cross.md. Or leave
                `{triple}` out: build for this machine's triple (`{toolchain.host}`) only with
                `--{pyo3.options_scope}-host-only` (or `PANTS_PYO3_HOST_ONLY=true`), or remove it
                from `{field.alias}`.
                """
            )
        )
    return None


def admitted_versions(
    tgt: Target, constraints: InterpreterConstraints, python_setup: PythonSetup
) -> tuple[str, ...]:
    """The CPython major.minor versions an extension's constraints admit: one build each (one in
    all for abi3). Partitioned with `[python].interpreter_versions_universe`; an error if there are
    none.
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


def raise_floor(constraints: InterpreterConstraints, floor: str) -> tuple[str, ...]:
    """The constraints with their lower bounds replaced by `>=floor`, e.g. `CPython>=3.8,<3.14`
    with floor 3.11 is `CPython>=3.11,<3.14`."""
    raised = []
    for constraint in constraints:
        text = str(constraint)
        name = re.match(r"[A-Za-z]*", text).group(0)  # type: ignore[union-attr]
        kept = [s for s in text[len(name) :].split(",") if s and not s.lstrip().startswith(">")]
        raised.append(",".join([f"{name}>={floor}", *sorted(kept)]))
    return tuple(raised)


def package_defaults(constraints: Iterable[object]) -> str:
    """The `__defaults__` line that narrows a package's targets (the extension among them)."""
    quoted = ", ".join(f'"{c}"' for c in constraints)
    return f"__defaults__(all=dict({Pyo3InterpreterConstraintsField.alias}=[{quoted}]))"


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
        raised = raise_floor(constraints, floor_text)
        raise Pyo3ExtensionError(
            softwrap(
                f"""
                The `{Pyo3ExtensionTarget.alias}` target {tgt.address} enables pyo3's abi3
                feature for CPython >= {floor_text}, but its
                `{Pyo3InterpreterConstraintsField.alias}` ({constraints}) also admit CPython
                {', '.join(below)}, which can't import that module. Narrow the package that holds
                it, once for the extension and every Python target beside or below it, with
                `{package_defaults(raised)}` at the top of {tgt.address.spec_path or "."}/BUILD
                (Pants refuses code that imports the module under wider constraints), or lower the
                abi3 feature (e.g. `abi3-py{below[0].replace('.', '')}`).
                """
            )
        )


def build_versions(versions: tuple[str, ...], floor: tuple[int, int] | None) -> tuple[str, ...]:
    """The versions built: each admitted one, or for abi3 only the lowest (the module serves
    all)."""
    return versions[:1] if floor else versions


def narrow_to_version(constraints: InterpreterConstraints, version: str) -> InterpreterConstraints:
    """The part of `constraints` that admits CPython `version` (major.minor) alone."""
    return InterpreterConstraints(f"{c},=={version}.*" for c in constraints)


def constraints_without(admitted: tuple[str, ...], missing: tuple[str, ...]) -> str | None:
    """Constraints admitting the versions of `admitted` (major.minor) but not those of `missing`,
    e.g. `CPython>=3.12,<3.14` for 3.12 to 3.14 without 3.14, or None if nothing would be left."""
    left = sorted(version_tuple(v) for v in admitted if v not in missing)
    if not left:
        return None
    low, high = left[0], left[-1]
    parts = [f"CPython>={low[0]}.{low[1]}", f"<{high[0]}.{high[1] + 1}"]
    # Gaps in the middle of what is left.
    parts += [f"!={v}.*" for v in missing if low < version_tuple(v) < high]
    return ",".join(parts)


def interpreter_not_found(
    tgt: Target,
    constraints: InterpreterConstraints,
    admitted: tuple[str, ...],
    missing: tuple[str, ...],
) -> Pyo3InterpreterNotFoundError:
    """The error for admitted CPython versions with no interpreter where Pants looks: its fix keeps
    the admitted versions that are installed (not `>=` the missing one plus one, which is wrong
    when the missing version is the top one)."""
    versions = ", ".join(missing)
    narrowed = constraints_without(admitted, missing)
    narrow = (
        f"narrow the constraints to exclude {'it' if len(missing) == 1 else 'them'}: "
        f'`{Pyo3InterpreterConstraintsField.alias}=["{narrowed}"]`'
        if narrowed
        else "change the constraints to a version that is installed"
    )
    installs = " and ".join(f"`pyenv install {v}`" for v in missing)
    return Pyo3InterpreterNotFoundError(
        softwrap(
            f"""
            The `{Pyo3ExtensionTarget.alias}` target {tgt.address} is built for every CPython
            version its `{Pyo3InterpreterConstraintsField.alias}` ({constraints}) admit
            ({', '.join(admitted)}), but no CPython {versions} interpreter was found where
            `[python-bootstrap].search_path` looks. Install CPython {versions} (e.g. {installs}),
            or {narrow}.
            """
        )
    )


@dataclass(frozen=True)
class PlannedInterpreterRequest:
    """The interpreter of one major.minor version that an extension's constraints admit."""

    target: Target
    interpreter_constraints: InterpreterConstraints
    version: str


@dataclass(frozen=True)
class PlannedInterpreter:
    version: str
    # One of the two.
    interpreter: Pyo3Interpreter | None
    problem: Pyo3InterpreterNotFoundError | None


@rule(desc="Find an interpreter for a PyO3 build", level=LogLevel.DEBUG)
async def find_planned_interpreter(request: PlannedInterpreterRequest) -> PlannedInterpreter:
    constraints = narrow_to_version(request.interpreter_constraints, request.version)
    try:
        interpreter = await Get(Pyo3Interpreter, Pyo3InterpreterRequest(constraints))
    except ProcessExecutionFailure:
        problem = interpreter_not_found(
            request.target, request.interpreter_constraints, (request.version,), (request.version,)
        )
        return PlannedInterpreter(request.version, None, problem)
    return PlannedInterpreter(request.version, interpreter, None)


@dataclass(frozen=True)
class PlanProblem:
    """Something that stops an extension's builds: what it concerns (for the doctor) and the named
    error the build raises."""

    # "module", "crate", "interpreters", "abi3", "toolchain", "CPython 3.14", "target triples",
    # "target <triple>".
    subject: str
    error: Exception


@dataclass(frozen=True)
class Pyo3ExtensionPlanReport:
    """All the plan of one extension finds, its problems included, without raising: the build raises
    the first problem (`Pyo3ExtensionBuildPlan`), `pyo3-doctor` prints them all."""

    target: Target
    crate: Pyo3Crate | None
    interpreter_constraints: InterpreterConstraints
    # The CPython versions the constraints admit, and the interpreters of those built (each admitted
    # version; for abi3 only the lowest) that were found.
    admitted: tuple[str, ...]
    interpreters: tuple[Pyo3Interpreter, ...]
    abi3_floor: tuple[int, int] | None
    triples: tuple[str, ...]
    problems: tuple[PlanProblem, ...]
    # The `target_triples` that `[pyo3].host_only` leaves out.
    left_out: tuple[str, ...] = ()

    @property
    def versions(self) -> tuple[str, ...]:
        """The versions built."""
        return build_versions(self.admitted, self.abi3_floor)

    def problem(self, subject: str) -> Exception | None:
        return next((p.error for p in self.problems if p.subject == subject), None)


@dataclass(frozen=True)
class Pyo3ExtensionBuildPlan:
    """The builds of one extension, before they run: one per interpreter (a single one for abi3)
    and triple."""

    address: Address
    interpreter_constraints: InterpreterConstraints
    abi3_floor: tuple[int, int] | None
    requests: tuple[Pyo3ExtensionBuildRequest, ...]


@rule(desc="Check the plan of a PyO3 extension", level=LogLevel.DEBUG)
async def report_pyo3_extension_plan(
    request: Pyo3ExtensionBuildsRequest,
    python_setup: PythonSetup,
    cross: Pyo3CrossSubsystem,
    pyo3: Pyo3Subsystem,
    all_extensions: AllPyo3ExtensionTargets,
) -> Pyo3ExtensionPlanReport:
    tgt = request.target
    problems: list[PlanProblem] = []

    def problem(subject: str, error: Exception | None) -> None:
        if error is not None:
            problems.append(PlanProblem(subject, error))

    problem("module", module_name_problem(all_extensions, tgt[Pyo3ModuleNameField].value))
    crate = None
    try:
        crate = await Get(Pyo3Crate, Pyo3CrateRequest(tgt))
    except (ResolveError, Pyo3ExtensionError) as e:
        # A `crate` that names no target or no `cargo_crate`, an unusable Cargo.toml.
        problem("crate", e)
    admitted: tuple[str, ...] = ()
    try:
        # The field checks its constraints against the universe (see target_types.py).
        constraints = extension_interpreter_constraints(tgt, python_setup)
        admitted = admitted_versions(tgt, constraints, python_setup)
    except Pyo3ExtensionError as e:
        constraints = InterpreterConstraints(tgt[Pyo3InterpreterConstraintsField].value or ())
        problem("interpreters", e)
    floor = effective_abi3_floor(crate.manifest, admitted) if crate else None
    try:
        check_abi3_floor(tgt, constraints, admitted, floor)
    except Pyo3ExtensionError as e:
        problem("abi3", e)
    triples: tuple[str, ...] = tgt[Pyo3TargetTriplesField].value or ()
    left_out: tuple[str, ...] = ()
    try:
        toolchain = await Get(RustToolchain)
    except RustToolchainNotFoundError as e:
        problem("toolchain", e)
    else:
        triples = extension_triples(tgt, toolchain)
        if pyo3.host_only:
            problem("target triples", host_only_problem(tgt, triples, toolchain, pyo3))
            left_out = tuple(t for t in triples if t != toolchain.host)
            if left_out and toolchain.host in triples:
                logger.info(
                    f"{tgt.address}: building for {toolchain.host} only "
                    f"([{pyo3.options_scope}].host_only), not for {', '.join(left_out)}"
                )
            triples = tuple(t for t in triples if t == toolchain.host)
        for triple in triples:
            problem(f"target {triple}", triple_problem(tgt, triple, toolchain, cross, pyo3))
    # Looked up together: each is a process of ~2 s that no cache keeps across runs.
    found = await MultiGet(
        Get(PlannedInterpreter, PlannedInterpreterRequest(tgt, constraints, version))
        for version in build_versions(admitted, floor)
    )
    # Each missing version's fix excludes all of them.
    missing = tuple(p.version for p in found if p.problem is not None)
    for planned in found:
        if planned.problem is not None:
            problem(
                f"CPython {planned.version}",
                interpreter_not_found(tgt, constraints, admitted, missing),
            )
    return Pyo3ExtensionPlanReport(
        target=tgt,
        crate=crate,
        interpreter_constraints=constraints,
        admitted=admitted,
        interpreters=tuple(p.interpreter for p in found if p.interpreter is not None),
        abi3_floor=floor,
        triples=triples,
        problems=tuple(problems),
        left_out=left_out,
    )


@rule(desc="Plan the builds of a PyO3 extension", level=LogLevel.DEBUG)
async def plan_pyo3_extension_builds(request: Pyo3ExtensionBuildsRequest) -> Pyo3ExtensionBuildPlan:
    report = await Get(Pyo3ExtensionPlanReport, Pyo3ExtensionBuildsRequest, request)
    if report.problems:
        raise report.problems[0].error
    return Pyo3ExtensionBuildPlan(
        report.target.address,
        report.interpreter_constraints,
        report.abi3_floor,
        tuple(
            Pyo3ExtensionBuildRequest(report.target, interpreter, triple)
            for triple in report.triples
            for interpreter in report.interpreters
        ),
    )


def rules():
    return collect_rules()
