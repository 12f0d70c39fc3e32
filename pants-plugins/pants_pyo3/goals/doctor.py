# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""`pants pyo3-doctor`: what a `pyo3_extension` build will use, and whether it can work.

Nothing is built: every check is a lookup or a `--version`-style probe, run once per Pants run.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Iterable, cast

from pants.backend.python.subsystems.setup import PythonSetup
from pants.build_graph.address import ResolveError
from pants.engine.console import Console
from pants.engine.env_vars import EnvironmentVars, EnvironmentVarsRequest
from pants.engine.goal import Goal, GoalSubsystem
from pants.engine.process import FallibleProcessResult, Process, ProcessCacheScope
from pants.engine.rules import Get, MultiGet, collect_rules, goal_rule, rule
from pants.engine.target import Target, Targets
from pants.option.errors import OptionsError
from pants.option.global_options import GlobalOptions
from pants.util.logging import LogLevel
from pants.util.strutil import softwrap
from pants_pyo3.build.cargo import NAMED_CACHE
from pants_pyo3.build.cross import cross_toolchain_probe
from pants_pyo3.build.plan import (
    AllPyo3ExtensionTargets,
    Pyo3InterpreterLookup,
    Pyo3InterpreterLookupRequest,
    admitted_versions,
    build_versions,
    check_abi3_floor,
    extension_interpreter_constraints,
    extension_triples,
    interpreter_not_found,
    triple_problem,
    version_tuple,
)
from pants_pyo3.crate.crate import Pyo3Crate, Pyo3CrateRequest
from pants_pyo3.errors import CrossToolchainError, Pyo3ExtensionError, RustToolchainNotFoundError
from pants_pyo3.subsystems.cross import SETUP_SCRIPT as CROSS_SETUP_SCRIPT
from pants_pyo3.subsystems.cross import Pyo3CrossSubsystem
from pants_pyo3.subsystems.pyo3 import Pyo3Subsystem
from pants_pyo3.target_types import (
    Pyo3CrateField,
    Pyo3ExtensionTarget,
    Pyo3FeaturesField,
    Pyo3ModuleNameField,
    Pyo3ProfileField,
    Pyo3TargetTriplesField,
)
from pants_pyo3.toolchain.cross import toolchain_problems
from pants_pyo3.toolchain.interpreter import Pyo3Interpreter
from pants_pyo3.toolchain.rust import ENV_FOR_RUSTUP, RustToolchain
from pants_pyo3.wheel.tool_pex import AUDITWHEEL_REQUIREMENTS

logger = logging.getLogger(__name__)

# What the wheel build fetches to judge manylinux compliance.
AUDITWHEEL_VERSION = next(
    r.split("==")[1] for r in AUDITWHEEL_REQUIREMENTS if r.startswith("auditwheel==")
)


class Pyo3DoctorSubsystem(GoalSubsystem):
    name = "pyo3-doctor"
    help = softwrap(
        """
        Report what building the given `pyo3_extension` targets will use, and whether the builds
        can work, with the fix for each problem. Builds nothing. For each extension: every CPython
        version its `interpreter_constraints` admit and the interpreter found for it (or, for abi3,
        the floor and the one version built against), each of its `target_triples` with where its
        standard library and linker come from (the host toolchain or a `[pyo3-cross]` toolchain);
        then cargo, rustc, the `[pyo3].manylinux` policy and the cargo cache.

        Exits non-zero if any of the builds cannot work. Lines marked "(informational)" never fail
        the goal.
        """
    )


class Pyo3DoctorGoal(Goal):
    subsystem_cls = Pyo3DoctorSubsystem
    environment_behavior = Goal.EnvironmentBehavior.LOCAL_ONLY


@dataclass(frozen=True)
class DoctorLine:
    """One check: ✓ or ✗, what was found, and for a ✗ the fix."""

    ok: bool
    text: str
    fix: str | None = None
    # An informational line reports on optional tooling: its ✗ does not fail the goal.
    required: bool = True

    @property
    def fails(self) -> bool:
        return self.required and not self.ok


@dataclass(frozen=True)
class DoctorSection:
    title: str
    lines: tuple[DoctorLine, ...]


@dataclass(frozen=True)
class RustToolchainCheck:
    section: DoctorSection
    toolchain: RustToolchain | None


def _uses_rustup(toolchain: RustToolchain) -> bool:
    return f"{os.sep}toolchains{os.sep}" in toolchain.sysroot or ".rustup" in toolchain.sysroot


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _triple_fix(toolchain: RustToolchain, triple: str) -> str:
    if _uses_rustup(toolchain):
        return f"`rustup target add {triple}` (for the toolchain at {toolchain.sysroot})."
    return softwrap(
        f"""
        Install the standard library for `{triple}` into {toolchain.sysroot}: on Debian, the
        `libstd-rust-dev` package of the target's architecture (e.g. `libstd-rust-dev:arm64`,
        after `dpkg --add-architecture arm64`), matching rustc {toolchain.release}.
        """
    )


@rule(desc="Check the Rust toolchain for PyO3 builds", level=LogLevel.DEBUG)
async def check_rust_toolchain() -> RustToolchainCheck:
    title = "Rust toolchain"
    try:
        toolchain = await Get(RustToolchain)
    except RustToolchainNotFoundError as e:
        # The toolchain rule names the missing binary and how to install it.
        message = str(e)
        missing = next(
            (n for n in ("cargo", "rustc", "cc") if f"`{n}`" in message), "cargo/rustc/cc"
        )
        return RustToolchainCheck(
            DoctorSection(
                title,
                (DoctorLine(False, f"{missing}: not found", _error_text(e)),),
            ),
            None,
        )

    env = await Get(EnvironmentVars, EnvironmentVarsRequest(ENV_FOR_RUSTUP))
    cargo_version = await Get(
        FallibleProcessResult,
        Process(
            argv=(toolchain.cargo, "--version"),
            env={"PATH": os.pathsep.join(toolchain.path), **env},
            description="Identify cargo (cargo --version)",
            level=LogLevel.DEBUG,
            cache_scope=ProcessCacheScope.PER_SESSION,
        ),
    )
    lines = []
    if cargo_version.exit_code == 0:
        lines.append(
            DoctorLine(True, f"{_first_line(cargo_version.stdout.decode())}: {toolchain.cargo}")
        )
    else:
        lines.append(
            DoctorLine(
                False,
                f"cargo at {toolchain.cargo} does not run: {_first_line(cargo_version.stderr.decode())}",
                f"Reinstall the toolchain at {toolchain.sysroot} (with rustup: `rustup toolchain install`).",
            )
        )
    lines.append(DoctorLine(True, f"{_first_line(toolchain.version_info)}: {toolchain.rustc}"))
    toolchain_name = os.path.basename(toolchain.sysroot) if _uses_rustup(toolchain) else "system"
    lines.append(DoctorLine(True, f"toolchain {toolchain_name}: sysroot {toolchain.sysroot}"))
    linker = next(
        (os.path.join(d, "cc") for d in toolchain.path if os.path.exists(os.path.join(d, "cc"))),
        "cc",
    )
    lines.append(DoctorLine(True, f"linker cc: {linker}"))

    # Build scripts and proc macros always run on the host, whatever the targets are built for.
    host = f"host target {toolchain.host} (build scripts, proc macros, builds for this machine)"
    if toolchain.host in toolchain.installed:
        lines.append(DoctorLine(True, f"{host}: standard library installed"))
    else:
        lines.append(
            DoctorLine(
                False,
                f"{host}: no standard library in {toolchain.sysroot}/lib/rustlib "
                f"(installed: {', '.join(toolchain.installed) or 'none'})",
                _triple_fix(toolchain, toolchain.host),
            )
        )
    return RustToolchainCheck(DoctorSection(title, tuple(lines)), toolchain)


def _error_text(e: BaseException) -> str:
    """An error's message on one line (the engine hands a rule the original exception of a `Get`)."""
    return " ".join(str(e).split())


@dataclass(frozen=True)
class InterpreterProbeRequest:
    interpreter: Pyo3Interpreter


@dataclass(frozen=True)
class InterpreterProbe:
    """An interpreter with its full version, e.g. `3.11.7` (None if it did not run)."""

    interpreter: Pyo3Interpreter
    full_version: str | None


@rule(desc="Probe a Python interpreter for the doctor", level=LogLevel.DEBUG)
async def probe_interpreter(request: InterpreterProbeRequest) -> InterpreterProbe:
    python = request.interpreter.executable.path
    result = await Get(
        FallibleProcessResult,
        Process(
            argv=(python, "-c", "import platform; print(platform.python_version())"),
            description=f"Probe {python} for its version",
            level=LogLevel.DEBUG,
            # Per run: an interpreter upgraded in place must show up in the next report.
            cache_scope=ProcessCacheScope.PER_SESSION,
        ),
    )
    version = result.stdout.decode().strip() if result.exit_code == 0 else None
    return InterpreterProbe(request.interpreter, version or None)


def _describe(probe: InterpreterProbe) -> str:
    i = probe.interpreter
    name = "CPython" if i.implementation == "cpython" else i.implementation
    return f"{name} {probe.full_version or i.version}"


@dataclass(frozen=True)
class TripleCheckRequest:
    """Where an extension's build for one target triple gets its standard library and linker."""

    target: Target
    triple: str
    # The CPython versions built for the triple (for a cross toolchain's sysroot), or () for abi3.
    versions: tuple[str, ...]


@rule(desc="Check a target triple of a `pyo3_extension`", level=LogLevel.DEBUG)
async def check_triple(request: TripleCheckRequest, cross: Pyo3CrossSubsystem) -> DoctorSection:
    """The lines of one triple (a section without a title: the extension's section holds them)."""
    tgt, triple = request.target, request.triple
    try:
        configured = cross.toolchains().get(triple)
    except CrossToolchainError as e:
        line = DoctorLine(
            False,
            f"target {triple}: `[{cross.options_scope}].toolchains` is invalid",
            _error_text(e),
        )
        return DoctorSection("", (line,))
    if configured is None:
        try:
            toolchain = await Get(RustToolchain)
        except RustToolchainNotFoundError:
            return DoctorSection(
                "", (DoctorLine(False, f"target {triple}: not checked without a Rust toolchain"),)
            )
        problem = triple_problem(tgt, triple, toolchain, cross)
        if problem is not None:
            text = (
                f"target {triple}: no standard library and no `[{cross.options_scope}]` toolchain"
            )
            return DoctorSection("", (DoctorLine(False, text, _error_text(problem)),))
        where = (
            f"host toolchain, sysroot {toolchain.sysroot}"
            if triple == toolchain.host
            else f"standard library in the host toolchain's sysroot {toolchain.sysroot}, its default linker"
        )
        host = " (host)" if triple == toolchain.host else ""
        return DoctorSection("", (DoctorLine(True, f"target {triple}{host}: {where}"),))

    # A `[pyo3-cross]` toolchain: what is missing on disk, then (if its rustc runs) whether that rustc
    # has the triple's standard library, with the probe the build keys its cache on.
    source = (
        f"`[{cross.options_scope}]` toolchain: rustc {configured.rustc}, linker {configured.linker}"
    )
    problems = toolchain_problems(configured)
    if problems:
        return DoctorSection(
            "",
            tuple(
                DoctorLine(
                    False, f"target {triple}: {source}: {problem}", _cross_fix(cross, triple)
                )
                for problem in problems
            ),
        )
    probe = await Get(FallibleProcessResult, Process, cross_toolchain_probe(configured))
    if probe.exit_code != 0:
        return DoctorSection(
            "",
            (
                DoctorLine(
                    False,
                    f"target {triple}: {source}: that rustc has no standard library for `{triple}` "
                    f"({_first_line(probe.stderr.decode()) or f'exit code {probe.exit_code}'})",
                    _cross_fix(cross, triple),
                ),
            ),
        )
    sysroot = f", sysroot {configured.sysroot}" if configured.sysroot else ""
    lines = [DoctorLine(True, f"target {triple}: {source}{sysroot}")]
    # Without the target's CPython in the sysroot a version-specific module still builds (from
    # `PYO3_CROSS_PYTHON_VERSION`), but can't be tested: informational, one line for all versions.
    untested = [v for v in request.versions if toolchain_problems(configured, v)]
    if untested:
        lines.append(
            DoctorLine(
                False,
                f"target {triple} (informational): CPython {', '.join(untested)} modules build, but can't "
                f"be tested: {toolchain_problems(configured, untested[0])[0]}",
                softwrap(
                    f"""
                    Only to test them under emulation: put the `{triple}` CPython of those versions
                    into the sysroot (as `{CROSS_SETUP_SCRIPT}` does for 3.11; see docs/cross.md).
                    """
                ),
                required=False,
            )
        )
    return DoctorSection("", tuple(lines))


def _cross_fix(cross: Pyo3CrossSubsystem, triple: str) -> str:
    setup = (
        f"On Debian 12 run `{CROSS_SETUP_SCRIPT}` as root, then run Pants through `./pants`. Otherwise fix"
        if triple == "aarch64-unknown-linux-gnu"
        else "Fix"
    )
    return (
        f"{setup} the `{triple}` entry of `[{cross.options_scope}].toolchains`; see docs/cross.md."
    )


@dataclass(frozen=True)
class ExtensionCheckRequest:
    target: Target


@rule(desc="Check a `pyo3_extension` build", level=LogLevel.DEBUG)
async def check_extension(
    request: ExtensionCheckRequest,
    python_setup: PythonSetup,
    all_extensions: AllPyo3ExtensionTargets,
) -> DoctorSection:
    tgt = request.target
    module_name = tgt[Pyo3ModuleNameField].value
    features = tgt[Pyo3FeaturesField].value or ()
    title = (
        f"{tgt.address} (module {module_name}, profile {tgt[Pyo3ProfileField].value}"
        + (f", features {', '.join(features)}" if features else "")
        + ")"
    )
    lines: list[DoctorLine] = []

    clashing = sorted(
        str(other.address)
        for other in all_extensions
        if other.address != tgt.address and other[Pyo3ModuleNameField].value == module_name
    )
    if clashing:
        lines.append(
            DoctorLine(
                False,
                f"module {module_name} is also claimed by {', '.join(clashing)}",
                f"Give each `{Pyo3ExtensionTarget.alias}` a distinct `{Pyo3ModuleNameField.alias}`.",
            )
        )

    abi3_floor = None
    try:
        crate = await Get(Pyo3Crate, Pyo3CrateRequest(tgt))
    except (ResolveError, Pyo3ExtensionError) as e:
        # The same errors a build raises: a `crate` that is no `cargo_crate`, an unusable Cargo.toml.
        lines.append(
            DoctorLine(
                False,
                f"crate {tgt[Pyo3CrateField].value!r}: can't be built",
                _error_text(e),
            )
        )
    else:
        manifest = crate.manifest
        abi3_floor = manifest.abi3_floor
        abi = f"abi3 for CPython >= {_dotted(abi3_floor)}" if abi3_floor else "version-specific ABI"
        lines.append(
            DoctorLine(
                True,
                f"crate {crate.target.address}: {manifest.package_name} {manifest.version or '(no version)'}, "
                f"cdylib {manifest.lib_name}, {abi}",
            )
        )

    # The interpreters: the same partition, abi3 check and narrowing as the build (rules.py).
    constraints = extension_interpreter_constraints(tgt, python_setup)
    try:
        admitted = admitted_versions(tgt, constraints, python_setup)
    except Pyo3ExtensionError as e:
        admitted = ()
        lines.append(
            DoctorLine(False, f"interpreters for {constraints}: none admitted", _error_text(e))
        )
    else:
        lines.append(
            DoctorLine(
                True,
                f"interpreters for {constraints}: CPython {', '.join(admitted)} "
                f"(of `[python].interpreter_versions_universe`)",
            )
        )
    if abi3_floor and admitted:
        built_for = build_versions(admitted, abi3_floor)[0]
        try:
            check_abi3_floor(tgt, constraints, admitted, abi3_floor)
        except Pyo3ExtensionError as e:
            lines.append(
                DoctorLine(
                    False,
                    f"abi3 floor CPython {_dotted(abi3_floor)} is above admitted "
                    f"{', '.join(v for v in admitted if version_tuple(v) < abi3_floor)}",
                    _error_text(e),
                )
            )
        else:
            lines.append(
                DoctorLine(
                    True,
                    f"abi3 floor CPython {_dotted(abi3_floor)} <= every admitted version: one build, "
                    f"against CPython {built_for}, for all of them",
                )
            )
    versions = build_versions(admitted, abi3_floor)
    no_triples = None
    triples = tgt[Pyo3TargetTriplesField].value
    if not triples:
        try:
            triples = extension_triples(tgt, await Get(RustToolchain))
        except RustToolchainNotFoundError:
            triples = ()
            no_triples = DoctorLine(
                False, "target triples: the host's, unknown without a Rust toolchain"
            )
    # Every version's interpreter look-up and every triple's check side by side, then every found
    # interpreter's probe side by side.
    results = await MultiGet(
        *(
            Get(Pyo3InterpreterLookup, Pyo3InterpreterLookupRequest(constraints, v))
            for v in versions
        ),
        *(
            Get(DoctorSection, TripleCheckRequest(tgt, triple, () if abi3_floor else versions))
            for triple in triples
        ),
    )
    lookups = cast("tuple[Pyo3InterpreterLookup, ...]", results[: len(versions)])
    triple_sections = cast("tuple[DoctorSection, ...]", results[len(versions) :])
    found = [lookup.interpreter for lookup in lookups if lookup.interpreter is not None]
    probes = iter(
        await MultiGet(
            Get(InterpreterProbe, InterpreterProbeRequest(interpreter)) for interpreter in found
        )
    )
    for lookup in lookups:
        interpreter = lookup.interpreter
        if interpreter is None:
            error = interpreter_not_found(tgt, constraints, lookup.version)
            lines.append(
                DoctorLine(
                    False, f"CPython {lookup.version}: no interpreter found", _error_text(error)
                )
            )
            continue
        probe = next(probes)
        lines.append(
            DoctorLine(
                True,
                f"CPython {lookup.version}: {_describe(probe)} at {interpreter.executable.path} "
                f"(module suffix {'.abi3.so' if abi3_floor else interpreter.ext_suffix})",
            )
        )

    if no_triples:
        lines.append(no_triples)
    for triple_section in triple_sections:
        lines.extend(triple_section.lines)
    return DoctorSection(title, tuple(lines))


def _dotted(version: tuple[int, int]) -> str:
    return ".".join(map(str, version))


_LEGACY_POLICIES = {"manylinux2014": (2, 17), "manylinux2010": (2, 12), "manylinux1": (2, 5)}


def _policy_glibc(policy: str) -> tuple[int, int] | None:
    """The glibc version of a named manylinux policy (`manylinux_2_17` or an alias), else None."""
    if policy in _LEGACY_POLICIES:
        return _LEGACY_POLICIES[policy]
    parts = policy.split("_")
    if len(parts) == 3 and parts[0] == "manylinux":
        return int(parts[1]), int(parts[2])
    return None


def wheel_lines(pyo3: Pyo3Subsystem, host_glibc: str | None) -> tuple[DoctorLine, ...]:
    """What wheel tags `[pyo3].manylinux` asks for, and what that needs (nothing to install)."""
    scope = f"[{pyo3.options_scope}].manylinux"
    try:
        policy = pyo3.manylinux
    except OptionsError as e:
        return (DoctorLine(False, f"`{scope}`: invalid", _error_text(e)),)
    auditwheel = (
        f"auditwheel {AUDITWHEEL_VERSION}'s analysis, run in the wheel build (Pants fetches it as a "
        "build requirement; nothing to install)"
    )
    if policy == "off":
        return (
            DoctorLine(
                True, f'`{scope} = "off"`: plain `linux_<arch>` wheel tags (PyPI refuses them)'
            ),
        )
    if policy == "auto":
        return (
            DoctorLine(
                True,
                f'`{scope} = "auto"`: each wheel gets the most compatible manylinux tag its modules '
                f"comply with, by {auditwheel}",
            ),
        )
    lines = [
        DoctorLine(
            True,
            f'`{scope} = "{policy}"`: each wheel must comply with {policy}, checked by {auditwheel}; '
            "a module that needs newer glibc symbols fails the build",
        )
    ]
    wanted = _policy_glibc(policy)
    have = tuple(int(x) for x in host_glibc.split(".")[:2]) if host_glibc else None
    if wanted and have and have > wanted:
        lines.append(
            DoctorLine(
                False,
                f"{policy} (informational): modules linked against this machine's glibc {host_glibc} may "
                f"need symbols newer than glibc {_dotted(wanted)}",
                softwrap(
                    f"""
                    If the build says a module does not comply, link with an older glibc: e.g. zig
                    (`pip install ziglang`) as the `linker` of a `[{Pyo3CrossSubsystem.options_scope}]`
                    toolchain, as docs/cross.md shows for manylinux_2_17. The plugin does not run zig
                    itself.
                    """
                ),
                required=False,
            )
        )
    return tuple(lines)


def _human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _tree_size(path: str) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total


def cache_line(named_caches_dir: str) -> DoctorLine:
    """Where cargo's registry, target dir and the source mirror live, and how big they are."""
    path = os.path.join(named_caches_dir, NAMED_CACHE)
    if os.path.isdir(path):
        if not os.access(path, os.W_OK | os.X_OK):
            return DoctorLine(
                False,
                f"cargo cache {path}: not writable",
                f"Make it writable by this user (`chown -R $USER {path}`), or set `[GLOBAL].named_caches_dir`.",
            )
        return DoctorLine(True, f"cargo cache {path}: {_human_size(_tree_size(path))}")
    parent = next(p for p in (named_caches_dir, *_ancestors(named_caches_dir)) if os.path.exists(p))
    if not os.access(parent, os.W_OK | os.X_OK):
        return DoctorLine(
            False,
            f"cargo cache {path}: can't be created ({parent} is not writable)",
            f"Make {parent} writable by this user, or set `[GLOBAL].named_caches_dir`.",
        )
    return DoctorLine(True, f"cargo cache {path}: not created yet (the first build creates it)")


def _ancestors(path: str) -> Iterable[str]:
    while True:
        parent = os.path.dirname(path)
        if parent == path:
            return
        yield parent
        path = parent


def render(sections: Iterable[DoctorSection], console: Console) -> None:
    for section in sections:
        console.print_stdout(section.title)
        for line in section.lines:
            mark = console.green("✓") if line.ok else console.red("✗")
            console.print_stdout(f"  {mark} {line.text}")
            if not line.ok and line.fix:
                console.print_stdout(f"      fix: {line.fix}")
        console.print_stdout("")


def _host_glibc() -> str | None:
    """This machine's glibc version, e.g. `2.36` (None if it has none)."""
    try:
        name, _, version = os.confstr("CS_GNU_LIBC_VERSION").partition(" ")
    except (ValueError, OSError, AttributeError):
        return None
    return version if name == "glibc" and version else None


@goal_rule(desc="Check the PyO3 build setup")
async def pyo3_doctor(
    console: Console,
    targets: Targets,
    global_options: GlobalOptions,
    pyo3: Pyo3Subsystem,
) -> Pyo3DoctorGoal:
    extensions = [t for t in targets if t.has_field(Pyo3ModuleNameField)]
    toolchain_check, *extension_sections = await MultiGet(
        Get(RustToolchainCheck),
        *(Get(DoctorSection, ExtensionCheckRequest(t)) for t in extensions),
    )
    sections = [
        toolchain_check.section,
        *extension_sections,
        DoctorSection("Wheels", wheel_lines(pyo3, _host_glibc())),
        DoctorSection("Cache", (cache_line(str(global_options.named_caches_dir)),)),
    ]
    render(sections, console)

    failures = sum(line.fails for s in sections for line in s.lines)
    if not extensions:
        console.print_stdout(
            f"No `{Pyo3ExtensionTarget.alias}` targets in the given specs: checked the toolchain only "
            "(e.g. run `pyo3-doctor ::`)."
        )
    if failures:
        console.print_stderr(
            console.red(f"✗ {failures} problem(s): some builds cannot work; see the fixes above.")
        )
        return Pyo3DoctorGoal(exit_code=1)
    console.print_stdout(
        console.green(
            f"✓ {len(extensions)} `{Pyo3ExtensionTarget.alias}` target(s): every build can work."
        )
    )
    return Pyo3DoctorGoal(exit_code=0)


def rules():
    return collect_rules()
