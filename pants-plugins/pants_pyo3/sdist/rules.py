# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""Source distributions of `python_distribution` targets that hold a PyO3 extension.

The sdist of such a distribution must not hold the compiled module (it is for another machine),
but the Rust sources and a build backend that compiles them. It is laid out as a maturin project:

```
myext-0.1.0/
  PKG-INFO
  pyproject.toml          # build-backend = "maturin"; [project] from the dist; [tool.maturin]
  python/myext/...        # the distribution's Python files, without the compiled module
  rust/myext/...          # the crate and its path-dependency crates, in their relative layout
```

so that `pip install myext-0.1.0.tar.gz` on a machine with Rust builds the same extension with
maturin. The plugin computes every file and the `pyproject.toml` here, adds them to the build
chroot (through the same `DistBuildEnvironmentRequest` hook as the wheel backend) under a private
directory, and the backend's `build_sdist` (`sdist_backend.py`) only packs them.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import toml
from pants.backend.python.subsystems.setuptools import PythonDistributionFieldSet
from pants.backend.python.target_types import GenerateSetupField, SDistField
from pants.backend.python.util_rules.interpreter_constraints import InterpreterConstraints
from pants.backend.python.util_rules.package_dists import (
    DependencyOwner,
    DistBuildChrootRequest,
    DistBuildEnvironment,
    DistBuildEnvironmentRequest,
    DistBuildSources,
    ExportedTarget,
    FinalizedSetupKwargs,
    GenerateSetupPyRequest,
    OwnedDependencies,
)
from pants.engine.addresses import Addresses
from pants.engine.fs import (
    EMPTY_DIGEST,
    AddPrefix,
    CreateDigest,
    Digest,
    FileContent,
    MergeDigests,
    RemovePrefix,
    Snapshot,
)
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.engine.target import Target, Targets
from pants.engine.unions import UnionRule
from pants.util.logging import LogLevel
from pants.util.strutil import softwrap
from pants_pyo3.crate.crate import Pyo3Crate, Pyo3CrateRequest
from pants_pyo3.errors import Pyo3SdistError
from pants_pyo3.sandbox import sdist_backend
from pants_pyo3.sandbox.programs import SandboxPrograms
from pants_pyo3.target_types import (
    Pyo3CargoArgsField,
    Pyo3DefaultFeaturesField,
    Pyo3ExtensionTarget,
    Pyo3FeaturesField,
    Pyo3ModuleNameField,
    Pyo3ProfileField,
    dist_of_closure,
)

logger = logging.getLogger(__name__)

# maturin 1.9.4 is the first that sets `PYO3_BUILD_EXTENSION_MODULE` itself, which crates without
# pyo3's deprecated `extension-module` feature (like the example's) need so as not to link
# libpython; it also reads every `[tool.maturin]` key written here.
MATURIN_REQUIREMENT = "maturin>=1.9.4,<2"
# Where the chroot holds the sdist's config and crate files, and the module that packs them (next to
# the wheel backend, which imports it).
PRIVATE_DIR = os.path.dirname(sdist_backend.CONFIG)
SDIST_MODULE = "_pants_pyo3_sdist"
PYTHON_DIR = "python"
RUST_DIR = "rust"

# `setup()` keywords that the sdist's layout or `[project]` table already carries.
_HANDLED_KWARGS = frozenset(
    {
        "name",
        "version",
        "description",
        "python_requires",
        "install_requires",
        "extras_require",
        "author",
        "author_email",
        "maintainer",
        "maintainer_email",
        "license",
        "keywords",
        "classifiers",
        "url",
        "project_urls",
        "long_description",
        "long_description_content_type",
        "entry_points",
        "packages",
        "namespace_packages",
        "package_data",
        "zip_safe",
    }
)


def sdist_base_name(name: str, version: str) -> str:
    """`{name}-{version}` with the name normalized as PEP 625 asks (`My.Ext` -> `my_ext`)."""
    return f"{re.sub(r'[-_.]+', '_', name).lower()}-{version}"


def crates_root(files: Iterable[str], crate_dirs: Iterable[str]) -> str:
    """The directory whose contents go under `rust/`: the deepest one holding every crate file,
    but never a crate itself, so a lone crate keeps its directory name (`rust/myext/...`)."""
    dirs = [os.path.dirname(f) for f in files]
    root = os.path.commonpath(dirs) if dirs else ""
    if root in set(crate_dirs):
        root = os.path.dirname(root)
    return root


def _people(names: Any, emails: Any) -> list[dict[str, str]]:
    person = {}
    if names:
        person["name"] = str(names)
    if emails:
        person["email"] = str(emails)
    return [person] if person else []


def project_table(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The PEP 621 `[project]` table for a distribution's finalized `setup()` keywords."""
    project: dict[str, Any] = {"name": kwargs["name"], "version": str(kwargs["version"])}
    if kwargs.get("description"):
        project["description"] = kwargs["description"]
    if kwargs.get("python_requires"):
        project["requires-python"] = str(kwargs["python_requires"])
    project["dependencies"] = sorted(str(r) for r in kwargs.get("install_requires", ()))
    if kwargs.get("extras_require"):
        project["optional-dependencies"] = {
            extra: sorted(str(r) for r in reqs)
            for extra, reqs in sorted(kwargs["extras_require"].items())
        }
    authors = _people(kwargs.get("author"), kwargs.get("author_email"))
    if authors:
        project["authors"] = authors
    maintainers = _people(kwargs.get("maintainer"), kwargs.get("maintainer_email"))
    if maintainers:
        project["maintainers"] = maintainers
    if kwargs.get("license"):
        project["license"] = {"text": str(kwargs["license"])}
    keywords = kwargs.get("keywords")
    if keywords:
        project["keywords"] = (
            keywords.replace(",", " ").split() if isinstance(keywords, str) else list(keywords)
        )
    if kwargs.get("classifiers"):
        project["classifiers"] = list(kwargs["classifiers"])
    urls = dict(kwargs.get("project_urls") or {})
    if kwargs.get("url"):
        urls.setdefault("Homepage", kwargs["url"])
    if urls:
        project["urls"] = urls
    if kwargs.get("long_description"):
        project["readme"] = {
            "text": kwargs["long_description"],
            "content-type": kwargs.get("long_description_content_type") or "text/plain",
        }
    entry_points = {
        group: dict(e.replace(" ", "").split("=", 1) for e in entries)
        for group, entries in (kwargs.get("entry_points") or {}).items()
    }
    if "console_scripts" in entry_points:
        project["scripts"] = entry_points.pop("console_scripts")
    if "gui_scripts" in entry_points:
        project["gui-scripts"] = entry_points.pop("gui_scripts")
    if entry_points:
        project["entry-points"] = entry_points
    return project


def render_pyproject(project: Mapping[str, Any], maturin: Mapping[str, Any]) -> str:
    return (
        "# Written by pants-pyo3 for the sdist: `pip install` builds the extension with maturin.\n"
        + toml.dumps(
            {
                "build-system": {"requires": [MATURIN_REQUIREMENT], "build-backend": "maturin"},
                "project": dict(project),
                "tool": {"maturin": dict(maturin)},
            }
        )
    )


def render_pkg_info(project: Mapping[str, Any]) -> str:
    """Core metadata 2.1 for the sdist's `PKG-INFO` (the build recomputes the wheel's own)."""
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {project['name']}",
        f"Version: {project['version']}",
    ]
    if "description" in project:
        lines.append(f"Summary: {project['description']}")
    for person in project.get("authors", []):
        if "name" in person:
            lines.append(f"Author: {person['name']}")
        if "email" in person:
            lines.append(f"Author-email: {person['email']}")
    if "license" in project:
        lines.append(f"License: {project['license']['text']}")
    if "keywords" in project:
        lines.append(f"Keywords: {','.join(project['keywords'])}")
    lines.extend(f"Classifier: {c}" for c in project.get("classifiers", []))
    if "requires-python" in project:
        lines.append(f"Requires-Python: {project['requires-python']}")
    lines.extend(f"Requires-Dist: {r}" for r in project["dependencies"])
    for extra, reqs in project.get("optional-dependencies", {}).items():
        lines.append(f"Provides-Extra: {extra}")
        lines.extend(f'Requires-Dist: {r}; extra == "{extra}"' for r in reqs)
    readme = project.get("readme")
    if readme:
        # The long description is the message body, after a blank line (core metadata 2.1).
        lines.append(f"Description-Content-Type: {readme['content-type']}")
        return "\n".join(lines) + "\n\n" + readme["text"].rstrip("\n") + "\n"
    return "\n".join(lines) + "\n"


def is_extension_binary(path: str, module_name: str) -> bool:
    """Whether `path` (relative to the source root) is a compiled file of `module_name`."""
    package, _, last = module_name.rpartition(".")
    directory, name = os.path.split(path)
    return (
        directory == package.replace(".", "/")
        and name.startswith(last + ".")
        and name.endswith((".so", ".pyd", ".dylib"))
    )


def packaged_files(
    files: Iterable[str],
    packages: Iterable[str],
    package_data: Iterable[tuple[str, Iterable[str]]],
) -> list[str]:
    """The files (relative to the source root) that the distribution's wheel holds: the Python
    files of its packages and their package data, as setuptools packs them. Not `files` targets
    outside every package (e.g. a Cargo workspace's root `Cargo.toml`): the wheel doesn't hold them,
    and in the sdist's `python/` they would be stray files."""
    package_set = set(packages)
    data = {
        os.path.normpath(os.path.join(package.replace(".", "/"), name))
        for package, names in package_data
        for name in names
    }
    return sorted(
        f
        for f in files
        if f in data or (f.endswith(".py") and os.path.dirname(f).replace("/", ".") in package_set)
    )


@dataclass(frozen=True)
class Pyo3SdistRequest:
    dist: Target
    interpreter_constraints: InterpreterConstraints


@dataclass(frozen=True)
class Pyo3SdistInputs:
    """Files to add to the build chroot so that `build_sdist` writes a maturin sdist.

    Empty if the distribution owns no extension (setuptools then writes its usual sdist).
    """

    digest: Digest


@rule(desc="Prepare the sdist of a distribution holding a PyO3 extension", level=LogLevel.DEBUG)
async def pyo3_sdist_inputs(request: Pyo3SdistRequest) -> Pyo3SdistInputs:
    dist = request.dist
    exported = ExportedTarget(dist)
    # The owned targets first: the sources hydrate (build) the extensions, which an error can spare.
    owned = await Get(OwnedDependencies, DependencyOwner(exported))
    extensions = [o.target for o in owned if o.target.has_field(Pyo3ModuleNameField)]
    if not extensions:
        return Pyo3SdistInputs(EMPTY_DIGEST)
    if len(extensions) > 1:
        raise Pyo3SdistError(
            softwrap(
                f"""
                The `{dist.alias}` {dist.address} has `{SDistField.alias}=True` and holds
                several `{Pyo3ExtensionTarget.alias}` targets
                ({', '.join(str(e.address) for e in extensions)}), but its sdist is built by
                maturin, which builds one extension module per package.
                Set `{SDistField.alias}=False` on it (wheels are unaffected), or split it into one
                `{dist.alias}` per extension.
                """
            )
        )
    ext = extensions[0]
    sources = await Get(
        DistBuildSources, DistBuildChrootRequest(exported, request.interpreter_constraints)
    )
    crate, setup_kwargs, sources_snapshot = await MultiGet(
        Get(Pyo3Crate, Pyo3CrateRequest(ext)),
        Get(
            FinalizedSetupKwargs,
            GenerateSetupPyRequest(exported, sources, request.interpreter_constraints),
        ),
        Get(Snapshot, Digest, sources.digest),
    )
    root = crates_root(crate.sources.snapshot.files, crate.crate_dirs)
    crate_digest = crate.sources.snapshot.digest
    if root:
        crate_digest = await Get(Digest, RemovePrefix(crate_digest, root))
    crate_files = sorted(os.path.relpath(f, root or ".") for f in crate.sources.snapshot.files)

    module_name = ext[Pyo3ModuleNameField].value
    python_files = [
        f
        for f in packaged_files(sources_snapshot.files, sources.packages, sources.package_data)
        if not is_extension_binary(f, module_name)
    ]
    top_package = module_name.split(".")[0]
    other_packages = sorted(
        {f.split("/")[0] for f in python_files if "/" in f and f.endswith(".py")} - {top_package}
    )

    kwargs = setup_kwargs.kwargs
    ignored = sorted(set(kwargs) - _HANDLED_KWARGS)
    if ignored:
        logger.warning(
            f"The sdist of {dist.address} has no `pyproject.toml` equivalent for these "
            f"`python_artifact` keywords, which only its wheel carries: {', '.join(ignored)}."
        )
    project = project_table(kwargs)
    cargo_args = ext[Pyo3CargoArgsField].value or ()
    unmapped = [a for a in cargo_args if a not in ("--locked", "--frozen")]
    if unmapped:
        logger.warning(
            f"The sdist of {dist.address} builds {ext.address} with maturin, which does not get "
            f"its `{Pyo3CargoArgsField.alias}` {unmapped} (only `--locked` and `--frozen` are "
            "carried)."
        )
    maturin: dict[str, Any] = {
        "module-name": module_name,
        "manifest-path": os.path.normpath(
            os.path.join(
                RUST_DIR,
                os.path.relpath(crate.target.address.spec_path or ".", root or "."),
                "Cargo.toml",
            )
        ),
        "bindings": "pyo3",
        "profile": ext[Pyo3ProfileField].value,
    }
    if python_files:
        # maturin refuses a `python-source` directory that doesn't exist: a top-level module with
        # no Python files beside it is a pure-Rust maturin project.
        maturin["python-source"] = PYTHON_DIR
    if other_packages:
        maturin["python-packages"] = other_packages
    if ext[Pyo3FeaturesField].value:
        maturin["features"] = list(ext[Pyo3FeaturesField].value)
    if not ext[Pyo3DefaultFeaturesField].value:
        maturin["no-default-features"] = True
    if "--locked" in cargo_args:
        maturin["locked"] = True
    if "--frozen" in cargo_args:
        maturin["frozen"] = True

    config = {
        "base_name": sdist_base_name(project["name"], project["version"]),
        "generated": {
            "PKG-INFO": render_pkg_info(project),
            "pyproject.toml": render_pyproject(project, maturin),
        },
        "files": {
            **{f"{PYTHON_DIR}/{f}": f for f in python_files},
            **{f"{RUST_DIR}/{f}": f"{PRIVATE_DIR}/{RUST_DIR}/{f}" for f in crate_files},
        },
    }
    program, generated, prefixed_crates = await MultiGet(
        Get(
            Digest,
            SandboxPrograms,
            SandboxPrograms.of(**{f"{SDIST_MODULE}.py": "sdist_backend.py"}),
        ),
        Get(
            Digest,
            CreateDigest(
                [
                    FileContent(
                        sdist_backend.CONFIG, json.dumps(config, indent=1, sort_keys=True).encode()
                    )
                ]
            ),
        ),
        Get(Digest, AddPrefix(crate_digest, f"{PRIVATE_DIR}/{RUST_DIR}")),
    )
    return Pyo3SdistInputs(await Get(Digest, MergeDigests([program, generated, prefixed_crates])))


@dataclass(frozen=True)
class Pyo3SdistBuildEnvironmentRequest(DistBuildEnvironmentRequest):
    @classmethod
    def is_applicable(cls, tgt: Target) -> bool:
        return (
            PythonDistributionFieldSet.is_applicable(tgt)
            and tgt[GenerateSetupField].value is not False
            and bool(tgt[SDistField].value)
        )


@rule(desc="Add the crate sources for a PyO3 distribution's sdist", level=LogLevel.DEBUG)
async def pyo3_sdist_build_environment(
    request: Pyo3SdistBuildEnvironmentRequest,
) -> DistBuildEnvironment:
    targets = await Get(Targets, Addresses(request.target_addresses))
    dist = dist_of_closure(targets)
    inputs = await Get(Pyo3SdistInputs, Pyo3SdistRequest(dist, request.interpreter_constraints))
    return DistBuildEnvironment((), inputs.digest)


def rules():
    return [
        *collect_rules(),
        UnionRule(DistBuildEnvironmentRequest, Pyo3SdistBuildEnvironmentRequest),
    ]
