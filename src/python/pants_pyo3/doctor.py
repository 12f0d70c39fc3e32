# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""`pants pyo3-doctor`: what a `pyo3_extension` build will use, and whether it can work.

Nothing is built: every check is a lookup or a `--version`-style probe, run once per Pants run.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from typing import Iterable

from pants.backend.python.subsystems.setup import PythonSetup
from pants.build_graph.address import ResolveError
from pants.engine.console import Console
from pants.engine.env_vars import EnvironmentVars, EnvironmentVarsRequest
from pants.engine.fs import DigestContents, PathGlobs
from pants.engine.goal import Goal, GoalSubsystem
from pants.engine.process import (
    FallibleProcessResult,
    Process,
    ProcessCacheScope,
    ProcessExecutionFailure,
)
from pants.engine.rules import Get, MultiGet, collect_rules, goal_rule, rule
from pants.engine.target import Target, Targets
from pants.option.global_options import GlobalOptions
from pants.option.option_types import StrListOption
from pants.util.logging import LogLevel
from pants.util.strutil import softwrap

from pants_pyo3.cargo_manifest import CargoManifestError, parse_cargo_manifest
from pants_pyo3.rules import (
    NAMED_CACHE,
    AllPyo3ExtensionTargets,
    Pyo3ExtensionError,
    _crate_target,
    extension_interpreter_constraints,
)
from pants_pyo3.subsystems import Pyo3Subsystem
from pants_pyo3.target_types import (
    Pyo3CrateField,
    Pyo3DefaultFeaturesField,
    Pyo3ExtensionTarget,
    Pyo3FeaturesField,
    Pyo3InterpreterConstraintsField,
    Pyo3ModuleNameField,
    Pyo3ProfileField,
)
from pants_pyo3.toolchain import (
    _ENV_FOR_RUSTUP,
    Pyo3Interpreter,
    Pyo3InterpreterRequest,
    RustToolchain,
    RustToolchainNotFoundError,
)

logger = logging.getLogger(__name__)


class Pyo3DoctorSubsystem(GoalSubsystem):
    name = "pyo3-doctor"
    help = softwrap(
        """
        Report what building the given `pyo3_extension` targets will use (cargo, rustc, the
        toolchain, the Rust target triple, the Python interpreter, the cargo cache) and whether the
        build can work, with the fix for each problem. Builds nothing.

        Exits non-zero if any of the builds cannot work. Lines about wheel tooling (zig,
        auditwheel) are informational and never fail the goal.
        """
    )

    target_triples = StrListOption(
        default=[],
        help=lambda cls: softwrap(
            f"""
            Rust target triples to check besides the host's, e.g. `aarch64-unknown-linux-gnu`:
            each must have its standard library installed in the toolchain's sysroot. Builds use the
            host triple only today (cross builds are issue #3), so use this to prepare a machine
            for them: `{cls.name} --target-triples="['aarch64-unknown-linux-gnu']" ::`.
            """
        ),
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
class RustToolchainCheckRequest:
    target_triples: tuple[str, ...]


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
async def check_rust_toolchain(request: RustToolchainCheckRequest) -> RustToolchainCheck:
    title = "Rust toolchain"
    try:
        toolchain = await Get(RustToolchain)
    except RustToolchainNotFoundError as e:
        # The toolchain rule names the missing binary and how to install it.
        message = str(e)
        missing = next((n for n in ("cargo", "rustc", "cc") if f"`{n}`" in message), "cargo/rustc/cc")
        return RustToolchainCheck(
            DoctorSection(
                title,
                (DoctorLine(False, f"{missing}: not found", _error_text(e)),),
            ),
            None,
        )

    env = await Get(EnvironmentVars, EnvironmentVarsRequest(_ENV_FOR_RUSTUP))
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
        lines.append(DoctorLine(True, f"{_first_line(cargo_version.stdout.decode())}: {toolchain.cargo}"))
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

    installed = toolchain.installed
    installed_text = ", ".join(installed) or "none"
    if toolchain.host in installed:
        lines.append(
            DoctorLine(
                True,
                f"target {toolchain.host} (host; builds use the host triple): standard library installed",
            )
        )
    else:
        lines.append(
            DoctorLine(
                False,
                f"target {toolchain.host} (host; builds use the host triple): no standard library in "
                f"{toolchain.sysroot}/lib/rustlib (installed: {installed_text})",
                _triple_fix(toolchain, toolchain.host),
            )
        )
    for triple in request.target_triples:
        if triple == toolchain.host:
            continue
        if triple in installed:
            lines.append(DoctorLine(True, f"target {triple} (requested): standard library installed"))
        else:
            lines.append(
                DoctorLine(
                    False,
                    f"target {triple} (requested): not installed (installed: {installed_text})",
                    _triple_fix(toolchain, triple),
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
    """What the doctor reports about an interpreter beyond what builds need."""

    interpreter: Pyo3Interpreter
    # The full version, e.g. `3.11.7`, or None if the interpreter did not run.
    full_version: str | None
    importable: tuple[str, ...]


_PROBED_MODULES = ("ziglang", "auditwheel")
_INTERPRETER_PROBE = (
    "import importlib.util, json, platform, sys; print(json.dumps({"
    "'version': platform.python_version(), "
    "'importable': [m for m in sys.argv[1:] if importlib.util.find_spec(m) is not None]}))"
)


@rule(desc="Probe a Python interpreter for the doctor", level=LogLevel.DEBUG)
async def probe_interpreter(request: InterpreterProbeRequest) -> InterpreterProbe:
    python = request.interpreter.executable.path
    result = await Get(
        FallibleProcessResult,
        Process(
            argv=(python, "-c", _INTERPRETER_PROBE, *_PROBED_MODULES),
            description=f"Probe {python} for its version, ziglang and auditwheel",
            level=LogLevel.DEBUG,
            # Per run: installing a module must show up in the next report.
            cache_scope=ProcessCacheScope.PER_SESSION,
        ),
    )
    if result.exit_code != 0:
        return InterpreterProbe(request.interpreter, None, ())
    info = json.loads(result.stdout)
    return InterpreterProbe(request.interpreter, info["version"], tuple(info["importable"]))


def _describe(probe: InterpreterProbe) -> str:
    i = probe.interpreter
    name = "CPython" if i.implementation == "cpython" else i.implementation
    return f"{name} {probe.full_version or i.version}"


@dataclass(frozen=True)
class ExtensionCheckRequest:
    target: Target


@dataclass(frozen=True)
class ExtensionCheck:
    section: DoctorSection
    interpreter: Pyo3Interpreter | None


@rule(desc="Check a `pyo3_extension` build", level=LogLevel.DEBUG)
async def check_extension(
    request: ExtensionCheckRequest,
    python_setup: PythonSetup,
    all_extensions: AllPyo3ExtensionTargets,
) -> ExtensionCheck:
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
        crate = await _crate_target(tgt)
    except (ResolveError, Pyo3ExtensionError) as e:
        lines.append(
            DoctorLine(
                False,
                f"crate {tgt[Pyo3CrateField].value!r}: not a usable `cargo_crate` target",
                _error_text(e),
            )
        )
    else:
        manifest_path = os.path.join(crate.address.spec_path, "Cargo.toml")
        contents = await Get(DigestContents, PathGlobs([manifest_path]))
        if not contents:
            lines.append(
                DoctorLine(
                    False,
                    f"crate {crate.address}: no {manifest_path}",
                    "Put the `cargo_crate` target next to the crate's `Cargo.toml`.",
                )
            )
        else:
            try:
                manifest = parse_cargo_manifest(
                    contents[0].content,
                    path=manifest_path,
                    features=features,
                    default_features=tgt[Pyo3DefaultFeaturesField].value,
                )
            except CargoManifestError as e:
                lines.append(DoctorLine(False, f"crate {crate.address}: {manifest_path} is unusable", str(e)))
            else:
                abi3_floor = manifest.abi3_floor
                abi = (
                    f"abi3 for CPython >= {'.'.join(map(str, abi3_floor))}"
                    if abi3_floor
                    else "version-specific ABI"
                )
                lines.append(
                    DoctorLine(
                        True,
                        f"crate {crate.address}: {manifest.package_name} {manifest.version or '(no version)'}, "
                        f"cdylib {manifest.lib_name}, {abi}",
                    )
                )

    constraints = extension_interpreter_constraints(tgt, python_setup)
    interpreter: Pyo3Interpreter | None
    try:
        interpreter = await Get(Pyo3Interpreter, Pyo3InterpreterRequest(constraints))
    except ProcessExecutionFailure:
        # Pex found no interpreter for the constraints (the engine hands a rule the original
        # exception of a failed `Get`).
        interpreter = None
        lines.append(
            DoctorLine(
                False,
                f"Python for {constraints}: no installed interpreter matches",
                softwrap(
                    f"""
                    Install a Python that satisfies {constraints} where
                    `[python-bootstrap].search_path` looks (e.g. with pyenv), or change the
                    `{Pyo3InterpreterConstraintsField.alias}` of {tgt.address} (default:
                    `[python].interpreter_constraints`).
                    """
                ),
            )
        )
    else:
        probe = await Get(InterpreterProbe, InterpreterProbeRequest(interpreter))
        lines.append(
            DoctorLine(
                True,
                f"Python for {constraints}: {_describe(probe)} at {interpreter.executable.path} "
                f"(module suffix {interpreter.ext_suffix})",
            )
        )
        if abi3_floor and (interpreter.major, interpreter.minor) < abi3_floor:
            floor = ".".join(map(str, abi3_floor))
            lines.append(
                DoctorLine(
                    False,
                    f"abi3 module for CPython >= {floor}, but the interpreter is {interpreter.version}",
                    f"Raise the `{Pyo3InterpreterConstraintsField.alias}` to `>={floor}` or lower the abi3 feature.",
                )
            )
    return ExtensionCheck(DoctorSection(title, tuple(lines)), interpreter)


@dataclass(frozen=True)
class WheelToolingCheckRequest:
    interpreters: tuple[Pyo3Interpreter, ...]


_WHICH = 'for n in "$@"; do command -v "$n" || echo; done'


@rule(desc="Check the tooling for manylinux wheels", level=LogLevel.DEBUG)
async def check_wheel_tooling(request: WheelToolingCheckRequest, pyo3: Pyo3Subsystem) -> DoctorSection:
    env = await Get(EnvironmentVars, EnvironmentVarsRequest(["PATH"]))
    search_path = os.pathsep.join(pyo3.expanded_search_paths(env.get("PATH")))
    which, *probes = await MultiGet(
        Get(
            FallibleProcessResult,
            Process(
                argv=("/bin/sh", "-c", _WHICH, "which", "zig", "auditwheel"),
                env={"PATH": search_path},
                description="Look for zig and auditwheel",
                level=LogLevel.DEBUG,
                cache_scope=ProcessCacheScope.PER_SESSION,
            ),
        ),
        *(Get(InterpreterProbe, InterpreterProbeRequest(i)) for i in request.interpreters),
    )
    found = dict(zip(("zig", "auditwheel"), (which.stdout.decode() + "\n\n").splitlines()))
    importable: dict[str, list[str]] = {m: [] for m in _PROBED_MODULES}
    for probe in probes:
        for module in probe.importable:
            importable[module].append(_describe(probe))
    pip_hint = (
        f"`{request.interpreters[0].executable.path} -m pip install {{}}`"
        if request.interpreters
        else "`pip install {}`"
    )

    def line(tool: str, module: str, install: str) -> DoctorLine:
        where = []
        if found.get(tool):
            where.append(f"`{tool}` at {found[tool]}")
        if importable[module]:
            where.append(f"`{module}` importable by {', '.join(importable[module])}")
        if where:
            return DoctorLine(True, f"{tool} (optional): {'; '.join(where)}", required=False)
        return DoctorLine(
            False,
            f"{tool} (optional): not on `[{Pyo3Subsystem.options_scope}].search_paths` and `{module}` not importable",
            install,
            required=False,
        )

    return DoctorSection(
        "Wheel tooling (informational: manylinux wheels are issue #3; builds don't need these yet)",
        (
            line(
                "zig",
                "ziglang",
                f"{pip_hint.format('ziglang')}, or put `zig` on PATH (a linker for older manylinux glibc).",
            ),
            line(
                "auditwheel",
                "auditwheel",
                f"{pip_hint.format('auditwheel')}, or put `auditwheel` on PATH (checks and repairs manylinux wheels).",
            ),
        ),
    )


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


@goal_rule(desc="Check the PyO3 build setup")
async def pyo3_doctor(
    console: Console,
    doctor: Pyo3DoctorSubsystem,
    targets: Targets,
    global_options: GlobalOptions,
) -> Pyo3DoctorGoal:
    extensions = [t for t in targets if t.has_field(Pyo3ModuleNameField)]
    toolchain_check, *extension_checks = await MultiGet(
        Get(RustToolchainCheck, RustToolchainCheckRequest(tuple(doctor.target_triples))),
        *(Get(ExtensionCheck, ExtensionCheckRequest(t)) for t in extensions),
    )
    interpreters = tuple(
        dict.fromkeys(c.interpreter for c in extension_checks if c.interpreter is not None)
    )
    tooling = await Get(DoctorSection, WheelToolingCheckRequest(interpreters))
    sections = [
        toolchain_check.section,
        *(c.section for c in extension_checks),
        tooling,
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
        console.green(f"✓ {len(extensions)} `{Pyo3ExtensionTarget.alias}` build(s) can work.")
    )
    return Pyo3DoctorGoal(exit_code=0)


def rules():
    return collect_rules()
