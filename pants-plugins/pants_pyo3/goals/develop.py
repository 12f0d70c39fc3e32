# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""`pants pyo3-develop`: maturin's `develop` for the editor loop. Builds each `pyo3_extension`'s
module for this machine and one interpreter, and writes it beside its package in the source tree,
so an IDE, a REPL and plain `python` with the source root on `PYTHONPATH` import it."""

from __future__ import annotations

import glob
import logging
import os
from dataclasses import dataclass

from pants.base.build_root import BuildRoot
from pants.engine.console import Console
from pants.engine.env_vars import EnvironmentVars, EnvironmentVarsRequest
from pants.engine.fs import Digest, MergeDigests, Workspace
from pants.engine.goal import Goal, GoalSubsystem
from pants.engine.process import FallibleProcessResult, Process, ProcessCacheScope
from pants.engine.rules import Get, MultiGet, collect_rules, goal_rule, rule
from pants.engine.target import Target, Targets
from pants.option.option_types import BoolOption, StrOption
from pants.source.source_root import SourceRoot, SourceRootRequest
from pants.util.logging import LogLevel
from pants.util.strutil import help_text, softwrap
from pants_pyo3.build.extension import BuiltPyo3Extension
from pants_pyo3.build.plan import (
    Pyo3ExtensionBuildRequest,
    Pyo3ExtensionBuildsRequest,
    Pyo3ExtensionPlanReport,
)
from pants_pyo3.errors import Pyo3DevelopError
from pants_pyo3.target_types import Pyo3ExtensionTarget, Pyo3ModuleNameField
from pants_pyo3.toolchain.rust import RustToolchain

logger = logging.getLogger(__name__)

ALL = "all"


class Pyo3DevelopSubsystem(GoalSubsystem):
    name = "pyo3-develop"
    help = help_text(
        """
        Build the module of each given `pyo3_extension` for this machine and write it beside its
        package in the source tree (e.g.
        `src/python/myext/_native.cpython-311-x86_64-linux-gnu.so`), so that
        `PYTHONPATH=src/python python -c "import myext"`, a REPL and an IDE import it outside
        Pants: maturin's `develop`, without a virtualenv. The build is the same one `package` and
        `test` run (same cargo target directories), so a run after an edit is
        incremental. Git-ignore the written files (e.g. `/src/python/**/*.so` in `.gitignore`),
        which also keeps Pants from seeing them; `--clean` removes them.
        """
    )

    python = StrOption(
        default=None,
        help=help_text(
            f"""
            The CPython version (`major.minor`, e.g. `3.11`) to build the module for, or `{ALL}`
            for every version the extension's interpreter constraints admit (each gets its own
            file: the names differ by interpreter). Default: the version of the `python3` first on
            the `PATH` Pants runs with, which must be one the constraints admit. An abi3 module is
            built once, against its floor, whatever this says.
            """
        ),
    )
    clean = BoolOption(
        default=False,
        help=help_text(
            """
            Remove the modules this goal wrote for the given targets (every interpreter's) from the
            source tree instead of building them.
            """
        ),
    )

    @property
    def python_version(self) -> str | None:
        return self.options.python or None


class Pyo3DevelopGoal(Goal):
    subsystem_cls = Pyo3DevelopSubsystem
    environment_behavior = Goal.EnvironmentBehavior.LOCAL_ONLY


@dataclass(frozen=True)
class PathPython:
    """The `major.minor` of the `python3` first on the `PATH` (None if there is none)."""

    version: str | None


# What a pyenv shim needs to pick its interpreter, besides PATH.
_PYTHON_ENV = ("PATH", "HOME", "PYENV_ROOT", "PYENV_VERSION")


@rule(desc="Find the version of `python3` on the PATH", level=LogLevel.DEBUG)
async def path_python() -> PathPython:
    env = await Get(EnvironmentVars, EnvironmentVarsRequest(_PYTHON_ENV))
    result = await Get(
        FallibleProcessResult,
        Process(
            argv=(
                "/bin/sh",
                "-c",
                "exec python3 -c 'import sys; print(\"%d.%d\" % sys.version_info[:2])'",
            ),
            env=dict(env),
            description="Find the version of `python3` on the PATH",
            level=LogLevel.DEBUG,
            # Per run: a user who switches interpreters (pyenv, a venv) gets the new one's module.
            cache_scope=ProcessCacheScope.PER_SESSION,
        ),
    )
    version = result.stdout.decode().strip() if result.exit_code == 0 else ""
    return PathPython(version or None)


@dataclass(frozen=True)
class DevelopRequest:
    target: Target
    python: str | None


@dataclass(frozen=True)
class DevelopBuilds:
    builds: tuple[BuiltPyo3Extension, ...]


def _chosen_versions(
    tgt: Target, admitted: tuple[str, ...], asked: str | None, on_path: str | None
) -> tuple[str, ...]:
    """The versions to build, from `--python` (or `python3` on the PATH): an error if the
    constraints don't admit it."""
    if asked == ALL:
        return admitted
    version = asked or on_path
    if version in admitted:
        return (version,)
    how = (
        f"`--{Pyo3DevelopSubsystem.name}-python={version}` asks for CPython {version}"
        if asked
        else (
            f"`python3` on the PATH is CPython {version}"
            if on_path
            else "no `python3` was found on the PATH"
        )
    )
    raise Pyo3DevelopError(
        softwrap(
            f"""
            `{Pyo3DevelopSubsystem.name}` builds the `{Pyo3ExtensionTarget.alias}` target
            {tgt.address} for one interpreter, and {how}, which its interpreter constraints
            (CPython {', '.join(admitted)}) don't admit. Pass one of them, e.g.
            `--{Pyo3DevelopSubsystem.name}-python={admitted[-1]}`, or
            `--{Pyo3DevelopSubsystem.name}-python={ALL}` for every one.
            """
        )
    )


@rule(desc="Build a PyO3 extension for `pyo3-develop`", level=LogLevel.DEBUG)
async def develop_builds(request: DevelopRequest, toolchain: RustToolchain) -> DevelopBuilds:
    tgt = request.target
    report = await Get(Pyo3ExtensionPlanReport, Pyo3ExtensionBuildsRequest(tgt))
    if report.abi3_floor:
        versions = report.versions
    else:
        on_path = None
        if request.python is None:
            on_path = (await Get(PathPython)).version
        versions = _chosen_versions(tgt, report.admitted, request.python, on_path)
    # The plan's problems, but for other triples and for interpreters this goal doesn't build.
    ignored = {f"CPython {v}" for v in report.versions if v not in versions} | {
        f"target {t}" for t in report.triples if t != toolchain.host
    }
    problems = [p for p in report.problems if p.subject not in ignored]
    if problems:
        raise problems[0].error
    interpreters = [i for i in report.interpreters if i.version in versions]
    builds = await MultiGet(
        Get(BuiltPyo3Extension, Pyo3ExtensionBuildRequest(tgt, interpreter, toolchain.host))
        for interpreter in interpreters
    )
    return DevelopBuilds(tuple(builds))


def module_files(python_root: str, module_name: str) -> tuple[str, str]:
    """The directory (relative to the build root) a module's files go in, and the glob of every
    interpreter's file for it (`_native.cpython-311-x86_64-linux-gnu.so`, `_native.abi3.so`)."""
    package, _, name = module_name.rpartition(".")
    directory = os.path.normpath(os.path.join(python_root, *package.split(".")))
    return directory, f"{glob.escape(name)}.*so"


@goal_rule(desc="Build PyO3 modules into the source tree")
async def pyo3_develop(
    console: Console,
    targets: Targets,
    subsystem: Pyo3DevelopSubsystem,
    workspace: Workspace,
    build_root: BuildRoot,
) -> Pyo3DevelopGoal:
    extensions = [t for t in targets if t.has_field(Pyo3ModuleNameField)]
    if not extensions:
        console.print_stderr(
            f"No `{Pyo3ExtensionTarget.alias}` targets in the given specs (e.g. run "
            f"`pants {Pyo3DevelopSubsystem.name} ::`)."
        )
        return Pyo3DevelopGoal(exit_code=0)

    roots = await MultiGet(
        Get(SourceRoot, SourceRootRequest, SourceRootRequest.for_target(t)) for t in extensions
    )
    if subsystem.options.clean:
        for tgt, root in zip(extensions, roots):
            directory, pattern = module_files(root.path, tgt[Pyo3ModuleNameField].value)
            # The files are git-ignored, so Pants' own view of the file system doesn't see them.
            for path in sorted(glob.glob(os.path.join(build_root.path, directory, pattern))):
                os.remove(path)
                console.print_stdout(f"Removed {os.path.relpath(path, build_root.path)}")
        return Pyo3DevelopGoal(exit_code=0)

    results = await MultiGet(
        Get(DevelopBuilds, DevelopRequest(t, subsystem.python_version)) for t in extensions
    )
    workspace.write_digest(
        await Get(Digest, MergeDigests(b.digest for r in results for b in r.builds))
    )
    for root, result in zip(roots, results):
        for build in result.builds:
            python = (
                "abi3"
                if build.abi3_floor
                else f"CPython {build.interpreter.version}, {build.interpreter.executable.path}"
            )
            path = os.path.normpath(os.path.join(root.path, build.module_path))
            console.print_stdout(f"Wrote {path} ({build.address}, {python})")
    return Pyo3DevelopGoal(exit_code=0)


def rules():
    return collect_rules()
