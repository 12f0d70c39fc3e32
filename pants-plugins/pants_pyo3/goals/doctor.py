# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""`pants pyo3-doctor`: what a `pyo3_extension` build will use, and whether it can work.

Nothing is built: every check is a lookup or a `--version`-style probe, run once per Pants run.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Iterable

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
from pants_pyo3.build.plan import Pyo3ExtensionBuildsRequest, Pyo3ExtensionPlanReport, version_tuple
from pants_pyo3.errors import CrossToolchainError, RustToolchainNotFoundError
from pants_pyo3.subsystems.auditwheel import Pyo3AuditwheelSubsystem
from pants_pyo3.subsystems.cross import SETUP_SCRIPT as CROSS_SETUP_SCRIPT
from pants_pyo3.subsystems.cross import Pyo3CrossSubsystem
from pants_pyo3.subsystems.pyo3 import Pyo3Subsystem
from pants_pyo3.target_types import (
    Pyo3CrateField,
    Pyo3ExtensionTarget,
    Pyo3FeaturesField,
    Pyo3ModuleNameField,
    Pyo3ProfileField,
)
from pants_pyo3.toolchain.cross import toolchain_problems
from pants_pyo3.toolchain.interpreter import Pyo3Interpreter
from pants_pyo3.toolchain.rust import ENV_FOR_RUSTUP, RustToolchain
from pants_pyo3.toolchain.zig import ZIG_NAMED_CACHE, ZIG_REQUIREMENTS, ZIG_VERSION, policy_glibc

logger = logging.getLogger(__name__)

# What the wheel build installs (from `[pyo3-auditwheel]`'s lockfile) to judge manylinux compliance.
AUDITWHEEL_VERSION = Pyo3AuditwheelSubsystem.default_version.partition("==")[2]


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
                f"cargo at {toolchain.cargo} does not run: "
                f"{_first_line(cargo_version.stderr.decode())}",
                f"Reinstall the toolchain at {toolchain.sysroot} "
                "(with rustup: `rustup toolchain install`).",
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
    """An error's message on one line (the engine hands a rule the original exception of a
    `Get`)."""
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

    triple: str
    # The CPython versions built for the triple (for a cross toolchain's sysroot), or () for abi3.
    versions: tuple[str, ...]
    # What the build plan found wrong with the triple (no standard library, unknown triple).
    problem: Exception | None = None


@rule(desc="Check a target triple of a `pyo3_extension`", level=LogLevel.DEBUG)
async def check_triple(request: TripleCheckRequest, cross: Pyo3CrossSubsystem) -> DoctorSection:
    """The lines of one triple (a section without a title: the extension's section holds them)."""
    triple = request.triple
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
        problem = request.problem
        if problem is not None:
            text = (
                f"target {triple}: no standard library and no `[{cross.options_scope}]` toolchain"
            )
            return DoctorSection("", (DoctorLine(False, text, _error_text(problem)),))
        where = (
            f"host toolchain, sysroot {toolchain.sysroot}"
            if triple == toolchain.host
            else f"standard library in the host toolchain's sysroot {toolchain.sysroot}, "
            "its default linker"
        )
        host = " (host)" if triple == toolchain.host else ""
        return DoctorSection("", (DoctorLine(True, f"target {triple}{host}: {where}"),))

    # A `[pyo3-cross]` toolchain: what is missing on disk, then (if its rustc runs) whether that
    # rustc has the triple's standard library, with the probe the build keys its cache on.
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
                f"target {triple} (informational): CPython {', '.join(untested)} modules build, "
                f"but can't be tested: {toolchain_problems(configured, untested[0])[0]}",
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
        f"On Debian 12 run `{CROSS_SETUP_SCRIPT}` as root, then run Pants through `./pants`. "
        "Otherwise fix"
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
async def check_extension(request: ExtensionCheckRequest) -> DoctorSection:
    """The build plan's own report, line by line: what it found, and each problem with its fix."""
    tgt = request.target
    report = await Get(Pyo3ExtensionPlanReport, Pyo3ExtensionBuildsRequest(tgt))
    module_name = tgt[Pyo3ModuleNameField].value
    features = tgt[Pyo3FeaturesField].value or ()
    title = (
        f"{tgt.address} (module {module_name}, profile {tgt[Pyo3ProfileField].value}"
        + (f", features {', '.join(features)}" if features else "")
        + ")"
    )
    lines: list[DoctorLine] = []

    clash = report.problem("module")
    if clash is not None:
        lines.append(
            DoctorLine(False, f"module {module_name} is claimed twice", _error_text(clash))
        )

    crate_problem = report.problem("crate")
    if crate_problem is not None or report.crate is None:
        lines.append(
            DoctorLine(
                False,
                f"crate {tgt[Pyo3CrateField].value!r}: can't be built",
                _error_text(crate_problem) if crate_problem else "",
            )
        )
    else:
        manifest = report.crate.manifest
        floor = report.abi3_floor
        abi = (
            f"abi3 for CPython >= {_dotted(manifest.abi3_floor)}"
            if manifest.abi3_floor
            else "abi3 for the CPython it is built with (pyo3's bare `abi3`)"
            if manifest.abi3
            else "version-specific ABI"
        )
        lines.append(
            DoctorLine(
                True,
                f"crate {report.crate.target.address}: {manifest.package_name} "
                f"{manifest.version or '(no version)'}, cdylib {manifest.lib_name}, {abi}",
            )
        )

    constraints = report.interpreter_constraints
    admitted_problem = report.problem("interpreters")
    if admitted_problem is not None:
        lines.append(
            DoctorLine(
                False,
                f"interpreters for {constraints}: none admitted",
                _error_text(admitted_problem),
            )
        )
    else:
        lines.append(
            DoctorLine(
                True,
                f"interpreters for {constraints}: CPython {', '.join(report.admitted)} "
                f"(of `[python].interpreter_versions_universe`)",
            )
        )
    floor = report.abi3_floor
    if floor and report.admitted:
        abi3_problem = report.problem("abi3")
        if abi3_problem is not None:
            below = ", ".join(v for v in report.admitted if version_tuple(v) < floor)
            lines.append(
                DoctorLine(
                    False,
                    f"abi3 floor CPython {_dotted(floor)} is above admitted {below}",
                    _error_text(abi3_problem),
                )
            )
        else:
            lines.append(
                DoctorLine(
                    True,
                    f"abi3 floor CPython {_dotted(floor)} <= every admitted version: one build, "
                    f"against CPython {report.versions[0]}, for all of them",
                )
            )
    found = {i.version: i for i in report.interpreters}
    probes = await MultiGet(
        Get(InterpreterProbe, InterpreterProbeRequest(i)) for i in report.interpreters
    )
    described = {p.interpreter.version: _describe(p) for p in probes}
    for version in report.versions:
        missing = report.problem(f"CPython {version}")
        if missing is not None:
            lines.append(
                DoctorLine(False, f"CPython {version}: no interpreter found", _error_text(missing))
            )
            continue
        interpreter = found[version]
        suffix = ".abi3.so" if floor else interpreter.ext_suffix
        lines.append(
            DoctorLine(
                True,
                f"CPython {version}: {described[version]} at {interpreter.executable.path} "
                f"(module suffix {suffix})",
            )
        )

    if report.problem("toolchain") is not None:
        lines.append(
            DoctorLine(False, "target triples: the host's, unknown without a Rust toolchain")
        )
    host_missing = report.problem("target triples")
    if host_missing is not None:
        lines.append(
            DoctorLine(False, "target triples: none is this machine's", _error_text(host_missing))
        )
    triple_sections = await MultiGet(
        Get(
            DoctorSection,
            TripleCheckRequest(
                triple,
                () if floor else report.versions,
                report.problem(f"target {triple}"),
            ),
        )
        for triple in report.triples
    )
    for triple_section in triple_sections:
        lines.extend(triple_section.lines)
    lines.extend(
        DoctorLine(True, f"target {triple}: left out (`[pyo3].host_only`)")
        for triple in report.left_out
    )
    return DoctorSection(title, tuple(lines))


def _dotted(version: tuple[int, int]) -> str:
    return ".".join(map(str, version))


def wheel_lines(
    pyo3: Pyo3Subsystem, host_glibc: str | None, named_caches_dir: str = ""
) -> tuple[DoctorLine, ...]:
    """What wheel tags `[pyo3].manylinux` asks for, and what that needs (zig for a policy)."""
    scope = f"[{pyo3.options_scope}].manylinux"
    try:
        policy = pyo3.manylinux
    except OptionsError as e:
        return (DoctorLine(False, f"`{scope}`: invalid", _error_text(e)),)
    auditwheel = (
        f"auditwheel {AUDITWHEEL_VERSION}'s analysis, run in the wheel build (installed from "
        "`[pyo3-auditwheel]`'s lockfile; nothing to install)"
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
                f'`{scope} = "auto"`: each wheel gets the most compatible manylinux tag its '
                f"modules comply with, by {auditwheel}",
            ),
        )
    wanted = policy_glibc(policy)
    glibc = f"glibc {_dotted(wanted)}" if wanted else "its glibc"
    lines = [
        DoctorLine(
            True,
            f'`{scope} = "{policy}"`: modules for glibc Linux triples are linked, and their C code '
            f"compiled, for {glibc} with zig; each wheel must comply with {policy}, checked by "
            f"{auditwheel}",
        ),
        zig_line(named_caches_dir),
    ]
    have = tuple(int(x) for x in host_glibc.split(".")[:2]) if host_glibc else None
    if wanted and have and wanted > have:
        lines.append(
            DoctorLine(
                False,
                f"{policy} (informational): glibc {_dotted(wanted)} is newer than this machine's "
                f"({host_glibc}), so modules built here can't be imported here",
                f"Tests import this machine's builds: set `{scope}` to `auto` or a policy at most "
                f"manylinux_{have[0]}_{have[1]}.",
                required=False,
            )
        )
    return tuple(lines)


def _installed_zig(named_caches_dir: str) -> str | None:
    """The pinned zig in Pants' pex cache, if a build installed it already (a lookup only)."""
    wheels = os.path.join(named_caches_dir, "pex_root", "installed_wheels")
    try:
        for digest in os.listdir(wheels):
            for name in os.listdir(os.path.join(wheels, digest)):
                zig = os.path.join(wheels, digest, name, "ziglang", "zig")
                if name.startswith(f"ziglang-{ZIG_VERSION}-") and os.path.isfile(zig):
                    return zig
    except OSError:
        pass
    return None


def zig_line(named_caches_dir: str) -> DoctorLine:
    """Where zig comes from (the plugin installs it: never a ✗), and its cache."""
    cache = os.path.join(named_caches_dir, ZIG_NAMED_CACHE)
    cache_text = (
        f"its cache {cache}: {_human_size(_tree_size(cache))}"
        if os.path.isdir(cache)
        else f"its cache {cache}: not created yet"
    )
    found = _installed_zig(named_caches_dir) if named_caches_dir else None
    where = (
        f"installed at {found}"
        if found
        else "not installed yet: the first build installs it from PyPI (~100 MB, once)"
    )
    return DoctorLine(True, f"zig {ZIG_VERSION} ({ZIG_REQUIREMENTS[0]}): {where}; {cache_text}")


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
                f"Make it writable by this user (`chown -R $USER {path}`), "
                "or set `[GLOBAL].named_caches_dir`.",
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
        DoctorSection(
            "Wheels", wheel_lines(pyo3, _host_glibc(), str(global_options.named_caches_dir))
        ),
        DoctorSection("Cache", (cache_line(str(global_options.named_caches_dir)),)),
    ]
    render(sections, console)

    failures = sum(line.fails for s in sections for line in s.lines)
    if not extensions:
        console.print_stdout(
            f"No `{Pyo3ExtensionTarget.alias}` targets in the given specs: "
            "checked the toolchain only (e.g. run `pyo3-doctor ::`)."
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
