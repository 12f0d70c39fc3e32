# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""What cargo reads beyond a crate's own files: its Cargo workspace (the root manifest, lockfile and
every member's manifest) and its path dependencies (inferred as dependencies on their owners)."""

from __future__ import annotations

import logging
import posixpath
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import toml
from pants.engine.addresses import Address, Addresses
from pants.engine.fs import DigestContents, PathGlobs, Snapshot
from pants.engine.internals.graph import Owners, OwnersRequest
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.engine.target import FieldSet, InferDependenciesRequest, InferredDependencies, Targets
from pants.engine.unions import UnionRule
from pants.util.logging import LogLevel
from pants.util.strutil import softwrap
from pants_pyo3.errors import CargoManifestError, CargoPathDependencyError
from pants_pyo3.target_types import (
    CargoCrateDependenciesField,
    CargoCrateSourcesField,
    CargoCrateTarget,
)

logger = logging.getLogger(__name__)

# The files cargo opens to load a workspace member it doesn't build: its manifest, and the files
# its target auto-discovery looks for (without any, cargo refuses the manifest).
_MEMBER_FILES = ("Cargo.toml", "build.rs", "src/lib.rs", "src/main.rs")
_DEPENDENCY_TABLES = ("dependencies", "dev-dependencies", "build-dependencies")


def _load_toml(content: bytes, path: str, owner: Address | None = None) -> Mapping[str, Any]:
    try:
        return toml.loads(content.decode())
    except (UnicodeDecodeError, toml.TomlDecodeError) as e:
        of = f"The `{CargoCrateTarget.alias}` target {owner}: " if owner else ""
        raise CargoManifestError(f"{of}`{path}` is not valid TOML: {e}. Fix the syntax error.")


def _ancestors(crate_dir: str) -> list[str]:
    """The crate's directory and each one above it, up to the build root (""), nearest first."""
    dirs = [crate_dir]
    while dirs[-1]:
        dirs.append(posixpath.dirname(dirs[-1]))
    return dirs


def _normalize(base: str, relative: str) -> str | None:
    """`relative` resolved against `base`, or None if it leaves the build root."""
    joined = posixpath.normpath(posixpath.join(base, relative))
    if joined == ".":
        return ""
    if joined.startswith("../") or joined == ".." or posixpath.isabs(joined):
        return None
    return joined


def dependency_tables(manifest: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    """Every dependency table of a manifest, including the `[target.'cfg(...)'.*]` ones."""
    for name in _DEPENDENCY_TABLES:
        table = manifest.get(name)
        if isinstance(table, dict):
            yield table
    for target in (manifest.get("target") or {}).values():
        if isinstance(target, dict):
            for name in _DEPENDENCY_TABLES:
                table = target.get(name)
                if isinstance(table, dict):
                    yield table


@dataclass(frozen=True)
class CargoWorkspaceRequest:
    crate_dir: str


@dataclass(frozen=True)
class CargoWorkspace:
    """The Cargo workspace a crate belongs to, found the way cargo finds it."""

    # The directory of the workspace root's `Cargo.toml`, or None if the crate is on its own.
    root: str | None
    # The root manifest's content (empty without a workspace).
    root_manifest: bytes
    # The directories of the workspace members (`members` globs minus `exclude`), sorted.
    members: tuple[str, ...]

    def root_dependency_path(self, name: str) -> str | None:
        """The path of `[workspace.dependencies] <name>` if it is a path dependency."""
        if self.root is None:
            return None
        workspace = _load_toml(self.root_manifest, "Cargo.toml").get("workspace", {})
        dep = (workspace.get("dependencies") or {}).get(name)
        if isinstance(dep, dict) and isinstance(dep.get("path"), str):
            return _normalize(self.root, dep["path"])
        return None


@rule(desc="Find the Cargo workspace of a crate", level=LogLevel.DEBUG)
async def find_cargo_workspace(request: CargoWorkspaceRequest) -> CargoWorkspace:
    # Like cargo: `package.workspace` names the root; else the nearest manifest at or above the
    # crate's directory that has a `[workspace]` table.
    ancestors = _ancestors(request.crate_dir)
    contents = await Get(
        DigestContents, PathGlobs([posixpath.join(d, "Cargo.toml") for d in ancestors])
    )
    by_dir = {posixpath.dirname(fc.path): fc.content for fc in contents}
    candidates = ancestors
    own = by_dir.get(request.crate_dir)
    if own is not None:
        package = _load_toml(own, posixpath.join(request.crate_dir, "Cargo.toml")).get("package")
        explicit = package.get("workspace") if isinstance(package, dict) else None
        if isinstance(explicit, str):
            root_dir = _normalize(request.crate_dir, explicit)
            if root_dir is not None and root_dir not in by_dir:
                explicit_contents = await Get(
                    DigestContents, PathGlobs([posixpath.join(root_dir, "Cargo.toml")])
                )
                by_dir.update({posixpath.dirname(fc.path): fc.content for fc in explicit_contents})
            candidates = [root_dir] if root_dir is not None else []
    root = None
    for d in candidates:
        content = by_dir.get(d)
        if content is not None and "workspace" in _load_toml(
            content, posixpath.join(d, "Cargo.toml")
        ):
            root = d
            break
    if root is None:
        return CargoWorkspace(None, b"", ())
    workspace = _load_toml(by_dir[root], posixpath.join(root, "Cargo.toml"))["workspace"]
    patterns = [m for m in workspace.get("members", []) if isinstance(m, str)]
    excluded = {_normalize(root, e) for e in workspace.get("exclude", []) if isinstance(e, str)}
    # Members may sit outside the root's directory (`"../cli"`); PathGlobs needs normal paths.
    member_globs = [_normalize(root, posixpath.join(p, "Cargo.toml")) for p in patterns]
    member_manifests = await Get(Snapshot, PathGlobs([g for g in member_globs if g is not None]))
    members = sorted(
        {posixpath.dirname(f) for f in member_manifests.files}
        - {e for e in excluded if e is not None}
    )
    return CargoWorkspace(root, by_dir[root], tuple(members))


@dataclass(frozen=True)
class CargoWorkspaceFilesRequest:
    crate_dir: str


@dataclass(frozen=True)
class CargoWorkspaceFiles:
    """The workspace files cargo opens to build one of its members: the root's `Cargo.toml` and
    `Cargo.lock`, and each other member's manifest with the files its target discovery needs."""

    snapshot: Snapshot


@rule(desc="Find the workspace files of a crate", level=LogLevel.DEBUG)
async def cargo_workspace_files(request: CargoWorkspaceFilesRequest) -> CargoWorkspaceFiles:
    workspace = await Get(CargoWorkspace, CargoWorkspaceRequest(request.crate_dir))
    if workspace.root is None:
        return CargoWorkspaceFiles(await Get(Snapshot, PathGlobs([])))
    globs = [
        posixpath.join(workspace.root, "Cargo.toml"),
        posixpath.join(workspace.root, "Cargo.lock"),
        *(posixpath.join(m, f) for m in workspace.members for f in _MEMBER_FILES),
    ]
    return CargoWorkspaceFiles(await Get(Snapshot, PathGlobs(globs)))


@dataclass(frozen=True)
class CargoPathDependenciesFieldSet(FieldSet):
    required_fields = (CargoCrateSourcesField, CargoCrateDependenciesField)

    sources: CargoCrateSourcesField
    dependencies: CargoCrateDependenciesField


class InferCargoPathDependencies(InferDependenciesRequest):
    infer_from = CargoPathDependenciesFieldSet


def path_dependencies(
    manifest: Mapping[str, Any], crate_dir: str, workspace: CargoWorkspace
) -> dict[str, str | None]:
    """Each path dependency's name mapped to its directory (None if outside the build root)."""
    result: dict[str, str | None] = {}
    for table in dependency_tables(manifest):
        for name, spec in table.items():
            if not isinstance(spec, dict):
                continue
            if isinstance(spec.get("path"), str):
                result[name] = _normalize(crate_dir, spec["path"])
            elif spec.get("workspace") is True:
                path = workspace.root_dependency_path(spec.get("package", name))
                if path is not None:
                    result[name] = path
    return result


@rule(desc="Infer the path dependencies of a `cargo_crate`", level=LogLevel.DEBUG)
async def infer_cargo_path_dependencies(
    request: InferCargoPathDependencies,
) -> InferredDependencies:
    address = request.field_set.address
    crate_dir = address.spec_path
    manifest_path = posixpath.join(crate_dir, "Cargo.toml")
    contents = await Get(DigestContents, PathGlobs([manifest_path]))
    if not contents:
        # The build names a missing manifest with its own error.
        return InferredDependencies([])
    # Read before the workspace is looked for (which reads it too), so that a syntax error names
    # this target.
    manifest = _load_toml(contents[0].content, manifest_path, address)
    workspace = await Get(CargoWorkspace, CargoWorkspaceRequest(crate_dir))
    deps = path_dependencies(manifest, crate_dir, workspace)
    outside = sorted(name for name, d in deps.items() if d is None)
    if outside:
        raise CargoPathDependencyError(
            softwrap(
                f"""
                The `{CargoCrateTarget.alias}` target {address} has path dependencies outside the
                build root in `{manifest_path}`: {', '.join(outside)}. Pants builds crates in a
                sandbox that only holds files of this repository: move the crates into it.
                """
            )
        )
    dep_dirs = {name: d for name, d in deps.items() if d is not None and d != crate_dir}
    manifests = {name: posixpath.join(d, "Cargo.toml") for name, d in dep_dirs.items()}
    owners_per_dep = await MultiGet(
        Get(Owners, OwnersRequest((path,))) for path in manifests.values()
    )
    # A path dependency owned by this crate's own `sources` needs no edge.
    owned = dict(zip(manifests, owners_per_dep))
    missing = sorted(
        f"`{name}` (`{manifests[name]}`)" for name, owners in owned.items() if not owners
    )
    if missing:
        raise CargoPathDependencyError(
            softwrap(
                f"""
                The `{CargoCrateTarget.alias}` target {address} has path dependencies in
                `{manifest_path}` whose files no target owns: {', '.join(missing)}. Cargo needs
                their sources in the build sandbox. Add `{CargoCrateTarget.alias}()` to a BUILD
                file in each of their directories (`./pants tailor ::` writes them): the plugin
                then infers the dependency, as it would list it in
                `{CargoCrateTarget.alias}(dependencies=[...])`.
                """
            )
        )
    candidates = sorted({a for owners in owned.values() for a in owners if a != address})
    targets = await Get(Targets, Addresses(candidates))
    # Prefer the `cargo_crate` owning a dependency's manifest; else whatever owns it (e.g. `files`).
    inferred: set[Address] = set()
    for name, owners in owned.items():
        if address in owners:
            continue
        crates = [
            t.address
            for t in targets
            if t.address in owners and t.has_field(CargoCrateSourcesField)
        ]
        inferred.update(crates or owners)
    return InferredDependencies(sorted(inferred))


def rules():
    return [*collect_rules(), UnionRule(InferDependenciesRequest, InferCargoPathDependencies)]
