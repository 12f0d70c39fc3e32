# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""One version per distribution: the wheel's, the crate's and the package's `__version__` agree.

A `python_distribution` holding PyO3 extensions has its version written in three places: its
`provides=python_artifact(version=...)` (the wheel's and sdist's version), the `[package] version`
of each crate behind its extensions (what `cargo` and the sdist's maturin build see) and
`__version__` in its packages' `__init__.py` (what code reports at run time). They are checked when
the distribution is built, so no package can claim one version in its metadata and another in its
code. They are checked rather than derived from one place so that every file stays true as written
for the tools that read it directly (cargo, IDEs, `import`), and `pants pyo3-bump-version` changes
all of them at once.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

# `packaging` comes with Pants (a dependency of pantsbuild.pants), like `pants` itself.
from packaging.version import InvalidVersion, Version  # pants: no-infer-dep
from pants.backend.python.subsystems.setuptools import PythonDistributionFieldSet
from pants.backend.python.target_types import PythonSourceField
from pants.backend.python.util_rules.package_dists import (
    DependencyOwner,
    DistBuildEnvironment,
    DistBuildEnvironmentRequest,
    ExportedTarget,
    OwnedDependencies,
    SetupKwargs,
)
from pants.engine.addresses import Addresses
from pants.engine.fs import EMPTY_DIGEST, DigestContents, PathGlobs
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.engine.target import Target, Targets
from pants.engine.unions import UnionRule
from pants.util.logging import LogLevel
from pants_pyo3.crate.crate import Pyo3Crate, Pyo3CrateRequest
from pants_pyo3.errors import Pyo3VersionMismatchError
from pants_pyo3.target_types import Pyo3ModuleNameField, Pyo3PyprojectField, dist_of_closure
from pants_pyo3.versions.bump import Pyo3BumpVersionSubsystem, find_dunder_versions

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DistVersionCheckRequest:
    dist: Target


@dataclass(frozen=True)
class CheckedDistVersion:
    """The one version of a distribution, and where it was found written."""

    version: str
    places: tuple[tuple[str, str], ...]  # (version as written, where)


def _normalized(version: str) -> str:
    """The PEP 440 form of a version, so that Cargo's `0.2.0-rc.1` equals Python's `0.2.0rc1`."""
    try:
        return str(Version(version))
    except InvalidVersion:
        return version


@rule(desc="Check that a distribution's versions agree", level=LogLevel.DEBUG)
async def check_dist_version(request: DistVersionCheckRequest) -> CheckedDistVersion:
    dist = request.dist
    exported = ExportedTarget(dist)
    setup_kwargs, owned = await MultiGet(
        Get(SetupKwargs, ExportedTarget, exported),
        Get(OwnedDependencies, DependencyOwner(exported)),
    )
    declared = str(setup_kwargs.version)
    pyproject = dist.get(Pyo3PyprojectField).value
    places = [
        (
            declared,
            f"the `[project]` of `{pyproject}` (the `pyproject` of {dist.address})"
            if pyproject
            else f"`provides=python_artifact(version=...)` of {dist.address}",
        )
    ]
    owned_targets = [o.target for o in owned]
    extensions = [t for t in owned_targets if t.has_field(Pyo3ModuleNameField)]
    if not extensions:
        return CheckedDistVersion(declared, tuple(places))

    crates = await MultiGet(Get(Pyo3Crate, Pyo3CrateRequest(ext)) for ext in extensions)
    init_files = sorted(
        {
            t[PythonSourceField].file_path
            for t in owned_targets
            if t.has_field(PythonSourceField)
            and os.path.basename(t[PythonSourceField].file_path) == "__init__.py"
        }
    )
    contents = await Get(DigestContents, PathGlobs(init_files))
    texts = {fc.path: fc.content for fc in contents}
    # Two extensions may build one crate: list each crate once.
    crate_versions = {
        os.path.join(c.target.address.spec_path, "Cargo.toml"): c.manifest.version for c in crates
    }
    for path, version in sorted(crate_versions.items()):
        # A version inherited from a Cargo workspace (`version.workspace = true`) is not written
        # in the crate; there is nothing here to compare.
        if version is not None:
            places.append((version, f"`[package] version` in {path}"))
    for path in init_files:
        if path in texts:
            places.extend(
                (p.version, f"`__version__` in {path}")
                for p in find_dunder_versions(path, texts[path].decode(errors="replace"))
            )

    if len({_normalized(v) for v, _ in places}) > 1:
        width = max(len(v) for v, _ in places)
        listing = "\n".join(f"  {v:<{width}}  {where}" for v, where in places)
        goal = Pyo3BumpVersionSubsystem.name
        raise Pyo3VersionMismatchError(
            f"The `{dist.alias}` {dist.address} has its version written differently in these "
            f"places, so its wheel would claim one version while its code or crate reports "
            f"another:\n\n{listing}\n\n"
            "Make them agree: edit the odd ones out to the version you mean. From then on, change "
            f"the version with `pants {goal} --to=X.Y.Z {dist.address}` (or `--part=patch`), "
            "which rewrites all of them at once."
        )
    return CheckedDistVersion(declared, tuple(places))


@dataclass(frozen=True)
class Pyo3VersionCheckBuildEnvironmentRequest(DistBuildEnvironmentRequest):
    @classmethod
    def is_applicable(cls, tgt: Target) -> bool:
        return PythonDistributionFieldSet.is_applicable(tgt)


@rule(desc="Check a distribution's versions before building it", level=LogLevel.DEBUG)
async def check_version_before_dist_build(
    request: Pyo3VersionCheckBuildEnvironmentRequest,
) -> DistBuildEnvironment:
    targets = await Get(Targets, Addresses(request.target_addresses))
    dist = dist_of_closure(targets)
    await Get(CheckedDistVersion, DistVersionCheckRequest(dist))
    return DistBuildEnvironment((), EMPTY_DIGEST)


def rules():
    return [
        *collect_rules(),
        UnionRule(DistBuildEnvironmentRequest, Pyo3VersionCheckBuildEnvironmentRequest),
    ]
