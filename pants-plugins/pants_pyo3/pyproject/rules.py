# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""A maturin project's `pyproject.toml` `[project]` table as the metadata of its distribution.

A `python_distribution` with `pyproject="path/to/pyproject.toml"` gets its `setup()` keywords (and
so its wheels' METADATA and its sdist's `[project]`) from that table, through Pants'
`SetupKwargsRequest` union: one source of truth, as for maturin. A version listed in `dynamic` is
the `[package] version` of the crate beside it (`[tool.maturin] manifest-path`, else `Cargo.toml`),
as maturin takes it.
"""

from __future__ import annotations

import logging
import posixpath
from dataclasses import dataclass
from typing import Any, Mapping

import toml

# `packaging` comes with Pants (a dependency of pantsbuild.pants), like `pants` itself.
from packaging.utils import canonicalize_name  # pants: no-infer-dep
from packaging.version import InvalidVersion, Version  # pants: no-infer-dep
from pants.backend.python.target_types import PythonDistribution, PythonProvidesField
from pants.backend.python.util_rules.package_dists import SetupKwargs, SetupKwargsRequest
from pants.engine.fs import DigestContents, PathGlobs
from pants.engine.rules import Get, collect_rules, rule
from pants.engine.target import Target
from pants.engine.unions import UnionRule
from pants.util.logging import LogLevel
from pants.util.strutil import softwrap
from pants_pyo3.crate.workspace import CargoWorkspace, CargoWorkspaceRequest
from pants_pyo3.errors import Pyo3PyprojectError
from pants_pyo3.target_types import Pyo3PyprojectField

logger = logging.getLogger(__name__)

_README_TYPES = {".md": "text/markdown", ".rst": "text/x-rst"}
# The `[project]` keys maturin can fill from `Cargo.toml` when `dynamic` lists them.
_CARGO_DYNAMIC = {"version", "description", "license", "authors", "keywords", "urls", "readme"}


def cargo_version_to_pep440(version: str) -> str:
    """Cargo's SemVer as PEP 440, the way maturin writes it: `0.2.0-rc.1` is `0.2.0rc1`."""
    try:
        return str(Version(version))
    except InvalidVersion:
        raise ValueError(f"the Cargo version {version!r} has no PEP 440 form")


def _people(people: Any) -> tuple[str | None, str | None]:
    """PEP 621 `authors`/`maintainers` as setuptools' `author` and `author_email` (core metadata's
    `Author` holds the names without email, `Author-email` the `Name <email>` entries)."""
    names: list[str] = []
    emails: list[str] = []
    for person in people or []:
        name, email = person.get("name"), person.get("email")
        if email:
            emails.append(f"{name} <{email}>" if name else email)
        elif name:
            names.append(name)
    return (", ".join(names) or None, ", ".join(emails) or None)


@dataclass(frozen=True)
class CargoPackageMetadata:
    """What maturin takes from `Cargo.toml` for `[project]` keys listed in `dynamic`."""

    manifest_path: str
    package: Mapping[str, Any]

    def get(self, key: str, workspace: Mapping[str, Any]) -> Any:
        value = self.package.get(key)
        # `key.workspace = true` inherits `[workspace.package] key`.
        if isinstance(value, dict) and value.get("workspace") is True:
            return workspace.get("package", {}).get(key)
        return value


def setup_kwargs_from_pyproject(
    pyproject: Mapping[str, Any],
    *,
    path: str,
    files: Mapping[str, bytes],
    cargo: CargoPackageMetadata | None,
    cargo_workspace: Mapping[str, Any],
) -> dict[str, Any]:
    """`setup()` keywords from a `[project]` table (PEP 621), reading files relative to `path`."""
    project = pyproject.get("project")
    if not isinstance(project, dict):
        raise ValueError(f"`{path}` has no `[project]` table")
    base = posixpath.dirname(path)
    dynamic = set(project.get("dynamic", []))
    unknown = sorted(dynamic - _CARGO_DYNAMIC)
    if unknown:
        raise ValueError(
            f"`{path}` lists {unknown} in `dynamic`, which only maturin's build fills; write them "
            "in `[project]`"
        )
    if dynamic and cargo is None:
        raise ValueError(
            f"`{path}` lists {sorted(dynamic)} in `dynamic` but has no crate beside it"
        )

    def from_cargo(key: str) -> Any:
        assert cargo is not None
        return cargo.get(key, cargo_workspace)

    def read(relative: str) -> str:
        file_path = posixpath.normpath(posixpath.join(base, relative))
        if file_path not in files:
            raise ValueError(f"`{path}` names `{relative}`, but `{file_path}` doesn't exist")
        return files[file_path].decode()

    kwargs: dict[str, Any] = {}
    if "name" in project:
        kwargs["name"] = project["name"]
    if "version" in dynamic:
        version = from_cargo("version")
        if not isinstance(version, str):
            assert cargo is not None
            raise ValueError(
                f"`{path}` has a dynamic version but `{cargo.manifest_path}` has no "
                "`[package] version`"
            )
        kwargs["version"] = cargo_version_to_pep440(version)
    elif "version" in project:
        kwargs["version"] = project["version"]
    description = from_cargo("description") if "description" in dynamic else None
    if "description" in project or description:
        kwargs["description"] = project.get("description", description)

    readme = project.get("readme")
    if readme is None and "readme" in dynamic:
        cargo_readme = from_cargo("readme")
        readme = cargo_readme if isinstance(cargo_readme, str) else None
        if readme:
            assert cargo is not None
            readme = posixpath.relpath(
                posixpath.join(posixpath.dirname(cargo.manifest_path), readme), base
            )
    if isinstance(readme, str):
        kwargs["long_description"] = read(readme)
        suffix = posixpath.splitext(readme)[1].lower()
        kwargs["long_description_content_type"] = _README_TYPES.get(suffix, "text/plain")
    elif isinstance(readme, dict):
        kwargs["long_description"] = (
            read(readme["file"]) if "file" in readme else readme.get("text", "")
        )
        if "content-type" in readme:
            kwargs["long_description_content_type"] = readme["content-type"]

    if "requires-python" in project:
        kwargs["python_requires"] = project["requires-python"]
    license = project.get("license")
    if license is None and "license" in dynamic:
        license = from_cargo("license")
    if isinstance(license, str):
        kwargs["license"] = license
    elif isinstance(license, dict):
        kwargs["license"] = read(license["file"]) if "file" in license else license.get("text")

    authors = project.get("authors")
    if authors is None and "authors" in dynamic:
        # Cargo writes `Name <email>` strings.
        authors = [
            {"name": a.split("<")[0].strip(), "email": a.split("<")[1].rstrip(">").strip()}
            if "<" in a
            else {"name": a}
            for a in from_cargo("authors") or []
        ]
    author, author_email = _people(authors)
    maintainer, maintainer_email = _people(project.get("maintainers"))
    for key, value in (
        ("author", author),
        ("author_email", author_email),
        ("maintainer", maintainer),
        ("maintainer_email", maintainer_email),
    ):
        if value:
            kwargs[key] = value
    keywords = project.get("keywords")
    if keywords is None and "keywords" in dynamic:
        keywords = from_cargo("keywords")
    if keywords:
        kwargs["keywords"] = list(keywords)
    if project.get("classifiers"):
        kwargs["classifiers"] = list(project["classifiers"])
    urls = dict(project.get("urls", {}))
    if not urls and "urls" in dynamic:
        for key, label in (
            ("homepage", "Homepage"),
            ("documentation", "Documentation"),
            ("repository", "Source Code"),
        ):
            if from_cargo(key):
                urls[label] = from_cargo(key)
    if urls:
        kwargs["project_urls"] = urls
    if project.get("dependencies"):
        kwargs["install_requires"] = list(project["dependencies"])
    if project.get("optional-dependencies"):
        kwargs["extras_require"] = {k: list(v) for k, v in project["optional-dependencies"].items()}
    entry_points: dict[str, list[str]] = {}
    for key, group in (("scripts", "console_scripts"), ("gui-scripts", "gui_scripts")):
        if project.get(key):
            entry_points[group] = [f"{n} = {ep}" for n, ep in project[key].items()]
    for group, eps in project.get("entry-points", {}).items():
        entry_points[group] = [f"{n} = {ep}" for n, ep in eps.items()]
    if entry_points:
        kwargs["entry_points"] = entry_points
    return kwargs


class Pyo3PyprojectSetupKwargsRequest(SetupKwargsRequest):
    @classmethod
    def is_applicable(cls, target: Target) -> bool:
        return bool(target.get(Pyo3PyprojectField).value)


def _error(tgt: Target, msg: str) -> Pyo3PyprojectError:
    return Pyo3PyprojectError(
        softwrap(
            f"""
            The `{Pyo3PyprojectField.alias}` of the `{tgt.alias}` target {tgt.address}: {msg}.
            """
        )
    )


@rule(desc="Read a distribution's metadata from its pyproject.toml", level=LogLevel.DEBUG)
async def setup_kwargs_from_pyproject_toml(request: Pyo3PyprojectSetupKwargsRequest) -> SetupKwargs:
    tgt = request.target
    path = tgt[Pyo3PyprojectField].value
    assert path is not None, "is_applicable checks the field, which is a bug in pants-pyo3"
    base = posixpath.dirname(path)
    contents = await Get(DigestContents, PathGlobs([path]))
    if not contents:
        raise _error(tgt, f"`{path}` doesn't exist. Give the path from the build root")
    try:
        pyproject = toml.loads(contents[0].content.decode())
    except (UnicodeDecodeError, toml.TomlDecodeError) as e:
        raise _error(tgt, f"`{path}` is not valid TOML: {e}")
    maturin = pyproject.get("tool", {}).get("maturin", {})
    manifest_path = posixpath.normpath(
        posixpath.join(base, maturin.get("manifest-path", "Cargo.toml"))
    )
    project = pyproject.get("project", {}) if isinstance(pyproject.get("project"), dict) else {}
    readme = project.get("readme")
    license = project.get("license")
    relative = [
        *([readme] if isinstance(readme, str) else []),
        *([readme["file"]] if isinstance(readme, dict) and "file" in readme else []),
        *([license["file"]] if isinstance(license, dict) and "file" in license else []),
    ]
    files_contents = await Get(
        DigestContents,
        PathGlobs(
            [manifest_path, *(posixpath.normpath(posixpath.join(base, r)) for r in relative)]
        ),
    )
    files = {fc.path: fc.content for fc in files_contents}
    cargo = None
    workspace: Mapping[str, Any] = {}
    if manifest_path in files:
        package = toml.loads(files[manifest_path].decode()).get("package", {})
        cargo = CargoPackageMetadata(manifest_path, package)
        cargo_workspace = await Get(
            CargoWorkspace, CargoWorkspaceRequest(posixpath.dirname(manifest_path))
        )
        if cargo_workspace.root is not None:
            workspace = toml.loads(cargo_workspace.root_manifest.decode()).get("workspace", {})
        cargo_readme = package.get("readme")
        if "readme" in project.get("dynamic", []) and isinstance(cargo_readme, str):
            readme_path = posixpath.join(posixpath.dirname(manifest_path), cargo_readme)
            extra = await Get(DigestContents, PathGlobs([readme_path]))
            files.update({fc.path: fc.content for fc in extra})
    try:
        kwargs = setup_kwargs_from_pyproject(
            pyproject, path=path, files=files, cargo=cargo, cargo_workspace=workspace
        )
    except ValueError as e:
        raise _error(tgt, str(e))

    explicit = dict(tgt[PythonProvidesField].value.kwargs)
    if canonicalize_name(explicit.get("name", "")) != canonicalize_name(kwargs.get("name", "")):
        raise _error(
            tgt,
            f"its `python_artifact(name={explicit.get('name')!r})` differs from the `[project]` "
            f"name {kwargs.get('name')!r} in `{path}`. Give both the same name",
        )
    conflicts = sorted(
        k for k, v in explicit.items() if k != "name" and k in kwargs and kwargs[k] != v
    )
    if conflicts:
        raise _error(
            tgt,
            f"its `python_artifact` sets {conflicts}, which `{path}` also sets, differently. "
            f"Keep them in `{path}` only (one source of truth)",
        )
    # `install_requires` is Pants' to fill from the distribution's requirements; the project's own
    # `dependencies` are added to those.
    return SetupKwargs({**kwargs, **explicit}, address=tgt.address, _allow_banned_keys=True)


def rules():
    return [
        *collect_rules(),
        UnionRule(SetupKwargsRequest, Pyo3PyprojectSetupKwargsRequest),
        PythonDistribution.register_plugin_field(Pyo3PyprojectField),
    ]
