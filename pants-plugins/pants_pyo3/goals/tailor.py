# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""`pants tailor` adds `cargo_crate` and `pyo3_extension` targets for PyO3 crates."""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import toml
from pants.backend.python.target_types import PythonDistribution
from pants.core.goals.tailor import (
    AllOwnedSources,
    PutativeTarget,
    PutativeTargets,
    PutativeTargetsRequest,
)
from pants.engine.fs import DigestContents, PathGlobs, Paths
from pants.engine.internals.native_engine import AddressInput
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.engine.target import AllUnexpandedTargets
from pants.engine.unions import UnionRule
from pants.source.source_root import AllSourceRoots
from pants.util.logging import LogLevel
from pants_pyo3.target_types import (
    CargoCrateSourcesField,
    CargoCrateTarget,
    Pyo3CrateField,
    Pyo3ExtensionTarget,
    Pyo3PyprojectField,
)

logger = logging.getLogger(__name__)

# `#[pymodule]` (optionally with `#[pyo3(name = "...")]` before or after it) on `fn <name>` or
# `mod <name>` (the declarative form).
_PYMODULE_RE = re.compile(
    r"#\[pymodule\]\s*(?:#\[pyo3\(\s*name\s*=\s*\"(?P<renamed>[A-Za-z_][A-Za-z0-9_]*)\"\s*\)\]\s*)?"
    r"(?:pub(?:\([^)]*\))?\s+)?(?:fn|mod)\s+(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
)
_PYO3_RENAME_FIRST_RE = re.compile(
    r"#\[pyo3\(\s*name\s*=\s*\"(?P<renamed>[A-Za-z_][A-Za-z0-9_]*)\"\s*\)\]\s*#\[pymodule\]"
)


@dataclass(frozen=True)
class PutativePyo3TargetsRequest(PutativeTargetsRequest):
    pass


@dataclass(frozen=True)
class _PythonArtifact:
    """Written into a BUILD file as `python_artifact(name="...")`."""

    name: str

    def __repr__(self) -> str:
        return f'python_artifact(name="{self.name}")'


def is_maturin_project(pyproject: Mapping[str, Any] | None) -> bool:
    """Whether a parsed `pyproject.toml` has a `[project]` with a name and a `[tool.maturin]`."""
    project = (pyproject or {}).get("project")
    return (
        isinstance(project, dict)
        and isinstance(project.get("name"), str)
        and "maturin" in (pyproject or {}).get("tool", {})
    )


def distribution_dir(pyproject_dir: str, extension_dir: str) -> str:
    """Where a `python_distribution` owns the extension: the project's directory if it is the
    extension's or above it (Pants' ownership rule), else the extension's directory."""
    if pyproject_dir == "" or extension_dir == pyproject_dir:
        return pyproject_dir
    if extension_dir.startswith(pyproject_dir + "/"):
        return pyproject_dir
    return extension_dir


@dataclass(frozen=True)
class ModuleName:
    """The module a crate builds, and where the name came from (for the BUILD comment)."""

    name: str
    origin: str


def is_pyo3_cdylib(manifest: Mapping[str, Any]) -> bool:
    """Whether a parsed `Cargo.toml` builds a `cdylib` and depends on `pyo3`."""
    lib = manifest.get("lib")
    crate_types = lib.get("crate-type", []) if isinstance(lib, dict) else []
    deps = manifest.get("dependencies")
    return "cdylib" in crate_types and isinstance(deps, dict) and "pyo3" in deps


def pymodule_name(rust_source: str) -> str | None:
    """The Python name of the `#[pymodule]` in a crate's `lib.rs`, if there is one."""
    renamed = _PYO3_RENAME_FIRST_RE.search(rust_source)
    if renamed:
        return renamed.group("renamed")
    m = _PYMODULE_RE.search(rust_source)
    if not m:
        return None
    return m.group("renamed") or m.group("name")


def _maturin_table(pyproject: Mapping[str, Any] | None) -> Mapping[str, Any]:
    tool = (pyproject or {}).get("tool", {})
    maturin = tool.get("maturin", {}) if isinstance(tool, dict) else {}
    return maturin if isinstance(maturin, dict) else {}


def maturin_pyproject_for(
    crate_dir: str, pyprojects: Mapping[str, Mapping[str, Any]]
) -> str | None:
    """The `pyproject.toml` maturin would build the crate from: the one beside its `Cargo.toml`,
    else the nearest one above it (e.g. at a Cargo workspace's root) whose `[tool.maturin]
    manifest-path` names the crate's `Cargo.toml`."""
    own = os.path.join(crate_dir, "pyproject.toml")
    if own in pyprojects:
        return own
    manifest = os.path.join(crate_dir, "Cargo.toml")
    for path in sorted(pyprojects, key=lambda p: -len(p)):
        manifest_path = _maturin_table(pyprojects[path]).get("manifest-path")
        if isinstance(manifest_path, str):
            base = os.path.dirname(path)
            if os.path.normpath(os.path.join(base, manifest_path)) == manifest:
                return path
    return None


def python_source_dir(pyproject_path: str, pyproject: Mapping[str, Any] | None) -> str:
    """maturin's `python-source` directory (default: the `pyproject.toml`'s own directory)."""
    source = _maturin_table(pyproject).get("python-source")
    base = os.path.dirname(pyproject_path)
    return os.path.normpath(os.path.join(base, source)) if isinstance(source, str) else base


def derive_module_name(
    manifest: Mapping[str, Any],
    pyproject: Mapping[str, Any] | None,
    lib_rs: str | None,
    python_packages: Iterable[str] = (),
) -> ModuleName | None:
    """The module name maturin would build: `[tool.maturin] module-name`, else `[lib] name`,
    else the `#[pymodule]` function's name, else the package name.

    A top-level name `<name>` becomes `<name>.<name>` when `<name>` is one of `python_packages`
    (the packages in maturin's `python-source` directory): maturin's mixed Rust/Python layout puts
    the module inside the Python package named like it.
    """
    module = _base_module_name(manifest, pyproject, lib_rs)
    if module is not None and "." not in module.name and module.name in set(python_packages):
        return ModuleName(
            f"{module.name}.{module.name}",
            f"{module.origin}, inside the Python package `{module.name}/` beside the crate "
            "(maturin's mixed layout)",
        )
    return module


def _base_module_name(
    manifest: Mapping[str, Any], pyproject: Mapping[str, Any] | None, lib_rs: str | None
) -> ModuleName | None:
    maturin = _maturin_table(pyproject)
    if isinstance(maturin.get("module-name"), str):
        return ModuleName(maturin["module-name"], "`[tool.maturin] module-name` in pyproject.toml")
    lib = manifest.get("lib")
    if isinstance(lib, dict) and isinstance(lib.get("name"), str):
        return ModuleName(lib["name"], "`[lib] name` in Cargo.toml")
    if lib_rs:
        name = pymodule_name(lib_rs)
        if name:
            return ModuleName(name, "the `#[pymodule]` in src/lib.rs")
    package = manifest.get("package")
    if isinstance(package, dict) and isinstance(package.get("name"), str):
        return ModuleName(package["name"].replace("-", "_"), "`[package] name` in Cargo.toml")
    return None


def extension_target_name(module_name: str) -> str:
    """`myext._native` -> `native`: the last segment without leading underscores."""
    return module_name.rpartition(".")[2].lstrip("_") or "native"


def crate_dirs_with_extensions(targets: Iterable[Any]) -> set[str]:
    """The directories of the crates that some `pyo3_extension` already names in `crate`."""
    result = set()
    for tgt in targets:
        if not tgt.has_field(Pyo3CrateField):
            continue
        field = tgt[Pyo3CrateField]
        try:
            parsed = AddressInput.parse(
                field.value,
                relative_to=tgt.address.spec_path,
                description_of_origin=f"the `{field.alias}` field of {tgt.address}",
            )
        except Exception:
            # A malformed address is reported by the build; it must not stop `tailor`.
            continue
        result.add(parsed.path_component)
    return result


def _read_toml(contents: DigestContents, path: str) -> dict | None:
    for fc in contents:
        if fc.path == path:
            try:
                return toml.loads(fc.content.decode())
            except (UnicodeDecodeError, toml.TomlDecodeError):
                return None
    return None


def _ancestors(path: str) -> list[str]:
    """`path` and every directory above it, up to the build root ("")."""
    dirs = [path]
    while dirs[-1]:
        dirs.append(os.path.dirname(dirs[-1]))
    return dirs


@rule(level=LogLevel.DEBUG, desc="Determine candidate PyO3 targets to create")
async def find_putative_pyo3_targets(
    request: PutativePyo3TargetsRequest,
    all_owned_sources: AllOwnedSources,
    all_targets: AllUnexpandedTargets,
    source_roots: AllSourceRoots,
) -> PutativeTargets:
    manifest_paths = await Get(Paths, PathGlobs, request.path_globs("Cargo.toml"))
    crate_dirs = sorted(os.path.dirname(p) for p in manifest_paths.files)
    if not crate_dirs:
        return PutativeTargets()
    # A crate's `pyproject.toml` may sit beside it or above it (e.g. at its workspace's root,
    # naming the crate with `[tool.maturin] manifest-path`).
    ancestors = {a for d in crate_dirs for a in _ancestors(d)}
    contents = await Get(
        DigestContents,
        PathGlobs(
            [
                *(
                    os.path.join(d, name)
                    for d in crate_dirs
                    for name in ("Cargo.toml", "src/lib.rs")
                ),
                *(os.path.join(a, "pyproject.toml") for a in sorted(ancestors)),
            ]
        ),
    )
    pyprojects = {
        fc.path: parsed
        for fc in contents
        if os.path.basename(fc.path) == "pyproject.toml"
        for parsed in [_read_toml(contents, fc.path)]
        if parsed is not None
    }
    named_crates = crate_dirs_with_extensions(all_targets)
    owner_of_manifest = {
        os.path.join(tgt.address.spec_path, "Cargo.toml"): tgt.address
        for tgt in all_targets
        if tgt.has_field(CargoCrateSourcesField)
    }

    crates: list[tuple[str, ModuleName, str | None]] = []
    putative: list[PutativeTarget] = []
    pyo3_crates: list[tuple[str, dict, str | None]] = []
    for crate_dir in crate_dirs:
        manifest_path = os.path.join(crate_dir, "Cargo.toml")
        manifest = _read_toml(contents, manifest_path)
        if manifest is None or not is_pyo3_cdylib(manifest):
            continue
        if manifest_path not in all_owned_sources:
            putative.append(
                PutativeTarget.for_target_type(
                    CargoCrateTarget,
                    path=crate_dir,
                    name=None,
                    triggering_sources=["Cargo.toml"],
                )
            )
        if crate_dir in named_crates:
            continue
        pyo3_crates.append((crate_dir, manifest, maturin_pyproject_for(crate_dir, pyprojects)))
    # The packages in each crate's maturin `python-source` directory (maturin's mixed layout).
    source_dirs = [
        python_source_dir(path, pyprojects[path]) if path else crate_dir
        for crate_dir, _, path in pyo3_crates
    ]
    init_files = await MultiGet(
        Get(Paths, PathGlobs([os.path.join(d, "*", "__init__.py")])) for d in source_dirs
    )
    for (crate_dir, manifest, pyproject_path), found_inits in zip(pyo3_crates, init_files):
        lib_rs = next(
            (
                fc.content.decode(errors="replace")
                for fc in contents
                if fc.path == os.path.join(crate_dir, "src/lib.rs")
            ),
            None,
        )
        module = derive_module_name(
            manifest,
            pyprojects.get(pyproject_path) if pyproject_path else None,
            lib_rs,
            python_packages=[os.path.basename(os.path.dirname(f)) for f in found_inits.files],
        )
        if module is not None:
            crates.append((crate_dir, module, pyproject_path))

    # Where each dotted module's parent package lives: a directory with Python files under a source
    # root (`src/python/myext/` for `myext._native`).
    candidates = {
        (crate_dir, root.path): os.path.join(root.path, *module.name.split(".")[:-1])
        for crate_dir, module, _ in crates
        if "." in module.name
        for root in source_roots
    }
    package_files = await MultiGet(
        Get(Paths, PathGlobs([os.path.join(pkg_dir, "*.py"), os.path.join(pkg_dir, "*.pyi")]))
        for pkg_dir in candidates.values()
    )
    package_dirs: dict[str, list[str]] = {}
    for (crate_dir, _root), pkg_dir, found in zip(candidates, candidates.values(), package_files):
        if found.files:
            package_dirs.setdefault(crate_dir, []).append(pkg_dir)

    # Maturin projects that no `python_distribution` reads its metadata from yet.
    pyprojects_with_dists = {
        tgt[Pyo3PyprojectField].value for tgt in all_targets if tgt.has_field(Pyo3PyprojectField)
    }
    for crate_dir, module, pyproject_path in crates:
        crate_spec = owner_of_manifest.get(os.path.join(crate_dir, "Cargo.toml"))
        crate_address = crate_spec.spec if crate_spec else crate_dir
        found_dirs = sorted(set(package_dirs.get(crate_dir, [])))
        comments = [f"# Built from {crate_address}; the module name is {module.origin}."]
        if len(found_dirs) == 1:
            path = found_dirs[0]
        else:
            path = crate_dir
            package = module.name.rpartition(".")[0]
            where = (
                f"no Python package `{package}` was found under a source root"
                if package and not found_dirs
                else f"`{package}` is in several source roots ({', '.join(found_dirs)})"
                if package
                else f"`{module.name}` is a top-level module"
            )
            comments.append(
                f"# Placed next to the crate because {where}: move it into the Python package "
                "that imports it, so that the package's python_distribution owns it."
            )
        ext_name = extension_target_name(module.name)
        putative.append(
            PutativeTarget.for_target_type(
                Pyo3ExtensionTarget,
                path=path,
                name=ext_name,
                triggering_sources=(),
                kwargs={"crate": crate_address, "module_name": module.name},
                comments=comments,
            )
        )
        pyproject = pyprojects.get(pyproject_path) if pyproject_path else None
        if pyproject_path and pyproject_path not in pyprojects_with_dists:
            if is_maturin_project(pyproject):
                assert pyproject is not None
                putative.append(
                    PutativeTarget.for_target_type(
                        PythonDistribution,
                        path=distribution_dir(os.path.dirname(pyproject_path), path),
                        name="dist",
                        triggering_sources=(),
                        kwargs={
                            "dependencies": (f"{path}:{ext_name}",),
                            "provides": _PythonArtifact(pyproject["project"]["name"]),
                            Pyo3PyprojectField.alias: pyproject_path,
                        },
                        comments=[
                            f"# The metadata (version, dependencies, ...) is `[project]` in "
                            f"{pyproject_path}."
                        ],
                    )
                )
    return PutativeTargets(putative)


def rules():
    return [
        *collect_rules(),
        UnionRule(PutativeTargetsRequest, PutativePyo3TargetsRequest),
    ]
