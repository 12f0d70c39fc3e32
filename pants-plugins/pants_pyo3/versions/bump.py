# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""`pants pyo3-bump-version`: set a distribution's version everywhere it is written down.

A `python_distribution` holding PyO3 extensions has its version in several files: the
`python_artifact(version=...)` in its BUILD file, the `[package] version` of each crate behind its
extensions (and that package's entry in the crate's `Cargo.lock`), and `__version__` in its
packages' `__init__.py`. This goal finds them through the dist's owned targets, refuses if they
disagree, and rewrites only the version literals, keeping every other byte of the files.
"""

from __future__ import annotations

import ast
import logging
import os
import re
from collections import defaultdict
from dataclasses import dataclass
from enum import Enum
from typing import DefaultDict, Iterable, Iterator, Mapping

import toml
from pants.backend.python.target_types import PythonProvidesField, PythonSourceField
from pants.backend.python.util_rules.package_dists import (
    DependencyOwner,
    ExportedTarget,
    OwnedDependencies,
)
from pants.engine.console import Console
from pants.engine.fs import CreateDigest, Digest, DigestContents, FileContent, PathGlobs, Workspace
from pants.engine.goal import Goal, GoalSubsystem
from pants.engine.internals.build_files import BuildFileOptions
from pants.engine.rules import Get, MultiGet, collect_rules, goal_rule, rule
from pants.engine.target import Target, Targets
from pants.option.option_types import EnumOption, StrOption
from pants.util.logging import LogLevel
from pants.util.strutil import softwrap
from pants_pyo3.crate.crate import crate_target
from pants_pyo3.errors import InconsistentVersionsError, Pyo3VersionBumpError
from pants_pyo3.target_types import Pyo3ModuleNameField, Pyo3PyprojectField

logger = logging.getLogger(__name__)

_VERSION_RE = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")


class VersionPart(Enum):
    major = "major"
    minor = "minor"
    patch = "patch"


class Pyo3BumpVersionSubsystem(GoalSubsystem):
    name = "pyo3-bump-version"
    help = softwrap(
        """
        Set the version of the given `python_distribution` targets everywhere it is written: the
        `python_artifact(version=...)` in the BUILD file, the `[package] version` in the
        `Cargo.toml` of each crate behind a `pyo3_extension` the distribution owns (and that
        package's entry in the crate's `Cargo.lock`), and `__version__ = "..."` in the
        distribution's `__init__.py` files that define it.

        Refuses, and writes nothing, if those places disagree before the bump. Versions are
        `MAJOR.MINOR.PATCH`, which both Cargo and Python accept as written.
        """
    )

    to = StrOption(
        default=None,
        help=lambda cls: softwrap(
            f"""
            The new version, e.g. `0.2.0` (`MAJOR.MINOR.PATCH`). Give this or
            `[{cls.options_scope}].part`.
            """
        ),
    )
    part = EnumOption(
        enum_type=VersionPart,
        default=None,
        help=lambda cls: softwrap(
            f"""
            Bump this part of the current version: `major` (1.4.2 → 2.0.0), `minor`
            (1.4.2 → 1.5.0) or `patch` (1.4.2 → 1.4.3). Give this or `[{cls.options_scope}].to`.
            """
        ),
    )


class Pyo3BumpVersionGoal(Goal):
    subsystem_cls = Pyo3BumpVersionSubsystem
    environment_behavior = Goal.EnvironmentBehavior.LOCAL_ONLY


# ------------------------------------------------------------------------------------------
# Finding version literals in file text. Each finder returns the exact span of the version
# (without its quotes), so a bump replaces those characters and nothing else.
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VersionPlace:
    """A version literal in a file: `text[start:end] == version`."""

    path: str
    what: str
    version: str
    start: int
    end: int


def _line_offsets(text: str) -> list[int]:
    offsets = [0]
    for line in text.splitlines(keepends=True):
        offsets.append(offsets[-1] + len(line))
    return offsets


def find_artifact_version(
    path: str, text: str, *, target_alias: str, target_name: str, default_name: str, address: str
) -> VersionPlace | None:
    """The `version="..."` of `<target_alias>(name=<target_name>, provides=...(version=...))`.

    Returns None if the file declares no such target.
    """
    try:
        tree = ast.parse(text, filename=path)
    except SyntaxError:
        return None
    lines = text.splitlines(keepends=True)
    offsets = _line_offsets(text)

    def char_offset(lineno: int, col_offset: int) -> int:
        # `ast` columns count UTF-8 bytes.
        return offsets[lineno - 1] + len(lines[lineno - 1].encode()[:col_offset].decode())

    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == target_alias
        ):
            continue
        kwargs = {kw.arg: kw.value for kw in node.keywords if kw.arg}
        name = kwargs.get("name")
        if name is None:
            if target_name != default_name:
                continue
        elif not (isinstance(name, ast.Constant) and name.value == target_name):
            continue
        provides = kwargs.get("provides")
        version = None
        if isinstance(provides, ast.Call):
            version = next((kw.value for kw in provides.keywords if kw.arg == "version"), None)
        if not (isinstance(version, ast.Constant) and isinstance(version.value, str)):
            raise Pyo3VersionBumpError(
                softwrap(
                    f"""
                    The `provides` of {address} in {path} has no `version="..."` written as a
                    plain string. Write it as `provides=python_artifact(..., version="0.1.0")`.
                    """
                )
            )
        assert version.end_lineno is not None and version.end_col_offset is not None
        start = char_offset(version.lineno, version.col_offset)
        end = char_offset(version.end_lineno, version.end_col_offset)
        literal = text[start:end]
        if len(literal) < 2 or literal[0] not in "\"'" or literal[1:-1] != version.value:
            raise Pyo3VersionBumpError(
                softwrap(
                    f"""
                    The version of {address} in {path} is written as {literal}, which this goal
                    can't rewrite in place. Write it as a plain string: `version="{version.value}"`.
                    """
                )
            )
        return VersionPlace(
            path, f"python_artifact(version=...) of {address}", version.value, start + 1, end - 1
        )
    return None


_TABLE_RE = re.compile(r"^\s*\[\[?\s*([A-Za-z0-9_.\"' -]+?)\s*\]\]?\s*(?:#.*)?$")
_CARGO_VERSION_RE = re.compile(r"^(\s*version\s*=\s*)\"([^\"\\\n]*)\"")
_CARGO_INHERITED_RE = re.compile(r"^\s*version\s*(?:\.\s*workspace\s*=|=\s*\{)")


def _table_lines(text: str) -> Iterator[tuple[str | None, int, str]]:
    """Each line of a TOML file that is not a table header, with the table it is in (None before
    the first header) and its offset in `text`."""
    table = None
    offset = 0
    for line in text.splitlines(keepends=True):
        header = _TABLE_RE.match(line)
        if header:
            table = header.group(1)
        else:
            yield table, offset, line
        offset += len(line)


def find_pyproject_version(path: str, text: str) -> VersionPlace | None:
    """The `[project] version = "..."` of a `pyproject.toml`, or None if `dynamic` lists it (the
    crate's `Cargo.toml` then holds the version, as for maturin)."""
    try:
        project = toml.loads(text).get("project", {})
    except toml.TomlDecodeError as e:
        raise Pyo3VersionBumpError(f"`{path}` is not valid TOML: {e}. Fix the syntax error.")
    if "version" in project.get("dynamic", []):
        return None
    for table, offset, line in _table_lines(text):
        m = _CARGO_VERSION_RE.match(line) if table == "project" else None
        if m and project.get("version") == m.group(2):
            start = offset + len(m.group(1)) + 1
            return VersionPlace(
                path, "[project] version", m.group(2), start, start + len(m.group(2))
            )
    raise Pyo3VersionBumpError(
        softwrap(
            f"""
            `{path}` has neither a `version = "..."` line in its `[project]` table that this goal
            can rewrite nor `dynamic = ["version"]`. Add one of them.
            """
        )
    )


def find_cargo_toml_version(path: str, text: str) -> tuple[str, VersionPlace]:
    """The package name and the `[package] version = "..."` of a crate's `Cargo.toml`."""
    try:
        package = toml.loads(text).get("package", {})
    except toml.TomlDecodeError as e:
        raise Pyo3VersionBumpError(f"`{path}` is not valid TOML: {e}. Fix the syntax error.")
    name = package.get("name")
    for table, offset, line in _table_lines(text):
        if table != "package":
            continue
        if _CARGO_INHERITED_RE.match(line):
            raise Pyo3VersionBumpError(
                softwrap(
                    f"""
                    `{path}` inherits its version from the Cargo workspace
                    (`version.workspace = true`), which this goal does not edit. Write the version
                    in the crate's `[package]` table, or bump the workspace's `[workspace.package]
                    version` by hand.
                    """
                )
            )
        m = _CARGO_VERSION_RE.match(line)
        if m:
            start = offset + len(m.group(1)) + 1
            place = VersionPlace(
                path,
                f"[package] version of crate {name}",
                m.group(2),
                start,
                start + len(m.group(2)),
            )
            if package.get("version") != place.version:
                break
            return name, place
    raise Pyo3VersionBumpError(
        softwrap(
            f"""
            `{path}` has no `version = "..."` line in its `[package]` table that this goal can
            rewrite. Add one on its own line, e.g. `version = "0.1.0"`.
            """
        )
    )


_LOCK_HEADER_RE = re.compile(r"^\[\[?[^\]]*\]\]?\s*$", re.M)
_LOCK_NAME_RE = re.compile(r'^name = "([^"]*)"\s*$', re.M)
_LOCK_VERSION_RE = re.compile(r'^(version = ")([^"]*)"\s*$', re.M)
_LOCK_SOURCE_RE = re.compile(r"^source = ", re.M)


def find_cargo_lock_version(path: str, text: str, package: str) -> VersionPlace | None:
    """The `version` of the local (source-less) `[[package]]` named `package` in a `Cargo.lock`."""
    headers = list(_LOCK_HEADER_RE.finditer(text))
    for i, header in enumerate(headers):
        if header.group(0).strip() != "[[package]]":
            continue
        start = header.end()
        end = headers[i + 1].start() if i + 1 < len(headers) else len(text)
        block = text[start:end]
        name = _LOCK_NAME_RE.search(block)
        version = _LOCK_VERSION_RE.search(block)
        if name and version and name.group(1) == package and not _LOCK_SOURCE_RE.search(block):
            v_start = start + version.start(2)
            return VersionPlace(
                path,
                f"Cargo.lock entry of package {package}",
                version.group(2),
                v_start,
                v_start + len(version.group(2)),
            )
    return None


_DUNDER_VERSION_RE = re.compile(
    r"^__version__\s*(?::\s*str\s*)?=\s*(?P<q>[\"'])(?P<v>[^\"'\\\n]*)(?P=q)", re.M
)


def find_dunder_versions(path: str, text: str) -> tuple[VersionPlace, ...]:
    """Module-level `__version__ = "..."` assignments (others, e.g. computed ones, are left
    alone)."""
    return tuple(
        VersionPlace(path, "__version__", m.group("v"), m.start("v"), m.end("v"))
        for m in _DUNDER_VERSION_RE.finditer(text)
    )


def rewrite(
    text: str, places: Iterable[VersionPlace], new_version: Mapping[VersionPlace, str]
) -> str:
    for place in sorted(places, key=lambda p: p.start, reverse=True):
        assert (
            text[place.start : place.end] == place.version
        ), f"{place} does not match its file, which is a bug in the pants-pyo3 plugin"
        text = text[: place.start] + new_version[place] + text[place.end :]
    return text


def bump(version: str, part: VersionPart) -> str:
    m = _VERSION_RE.match(version)
    if not m:
        raise Pyo3VersionBumpError(
            f"The current version {version!r} is not `MAJOR.MINOR.PATCH`, so it has no "
            f"{part.value} part to bump. Give the new version with `--to`."
        )
    major, minor, patch = (int(g) for g in m.groups())
    if part is VersionPart.major:
        return f"{major + 1}.0.0"
    if part is VersionPart.minor:
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


# ------------------------------------------------------------------------------------------
# Rules
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DistVersionPlacesRequest:
    target: Target


@dataclass(frozen=True)
class DistVersionPlaces:
    address: str
    places: tuple[VersionPlace, ...]
    # Files read, by path: every place's file, with its current text.
    texts: tuple[tuple[str, str], ...]
    notes: tuple[str, ...]


def _artifact_place(
    dist: Target, address: str, build_dir: str, texts: dict[str, str], init_files: list[str]
) -> VersionPlace:
    """The `python_artifact(version=...)` of a distribution in its BUILD file."""
    build_files = sorted(
        p for p in texts if os.path.dirname(p) == build_dir and p not in init_files
    )
    artifact = None
    for path in build_files:
        artifact = find_artifact_version(
            path,
            texts[path],
            target_alias=dist.alias,
            target_name=dist.address.target_name,
            default_name=os.path.basename(build_dir),
            address=address,
        )
        if artifact:
            break
    if artifact is None:
        raise Pyo3VersionBumpError(
            softwrap(
                f"""
                Can't find the `{dist.alias}` call of {address} in
                {', '.join(build_files) or build_dir} to edit its version (is it made by a macro?).
                Bump it by hand, or declare it directly in the BUILD file with
                `provides=python_artifact(..., version="...")`.
                """
            )
        )
    declared = dist[PythonProvidesField].value.kwargs.get("version")
    assert declared == artifact.version, (
        f"{address} declares version {declared!r} but its BUILD file says {artifact.version!r}, "
        "which is a bug in the pants-pyo3 plugin"
    )
    return artifact


@rule(desc="Find where a distribution's version is written", level=LogLevel.DEBUG)
async def find_dist_version_places(
    request: DistVersionPlacesRequest, build_file_options: BuildFileOptions
) -> DistVersionPlaces:
    dist = request.target
    address = str(dist.address)
    owned = await Get(OwnedDependencies, DependencyOwner(ExportedTarget(dist)))
    owned_targets = [o.target for o in owned]
    crate_dirs = []
    for tgt in owned_targets:
        if tgt.has_field(Pyo3ModuleNameField):
            crate = await crate_target(tgt)
            crate_dirs.append(crate.address.spec_path)
    crate_dirs = sorted(set(crate_dirs))
    init_files = sorted(
        {
            t[PythonSourceField].file_path
            for t in owned_targets
            if t.has_field(PythonSourceField)
            and os.path.basename(t[PythonSourceField].file_path) == "__init__.py"
        }
    )
    build_dir = dist.address.spec_path
    build_globs = [os.path.join(build_dir, p) for p in build_file_options.patterns]
    pyproject = dist.get(Pyo3PyprojectField).value
    contents = await Get(
        DigestContents,
        PathGlobs(
            [
                *build_globs,
                *(os.path.join(d, f) for d in crate_dirs for f in ("Cargo.toml", "Cargo.lock")),
                *init_files,
                *([pyproject] if pyproject else []),
                *(f"!{i}" for i in build_file_options.ignores),
            ]
        ),
    )
    texts = {fc.path: fc.content.decode() for fc in contents}
    places: list[VersionPlace] = []
    notes: list[str] = []

    if pyproject:
        # The distribution's metadata is its `pyproject.toml`'s: its `[project] version`, or with
        # `dynamic = ["version"]` the crate's, which is among the places below.
        if pyproject not in texts:
            raise Pyo3VersionBumpError(f"`{pyproject}`, the `pyproject` of {address}, is missing.")
        pyproject_place = find_pyproject_version(pyproject, texts[pyproject])
        if pyproject_place:
            places.append(pyproject_place)
    else:
        places.append(_artifact_place(dist, address, build_dir, texts, init_files))

    for crate_dir in crate_dirs:
        toml_path = os.path.join(crate_dir, "Cargo.toml")
        if toml_path not in texts:
            raise Pyo3VersionBumpError(
                f"The crate in {crate_dir} has no `Cargo.toml`. "
                "Put the `cargo_crate` target next to it."
            )
        package, place = find_cargo_toml_version(toml_path, texts[toml_path])
        places.append(place)
        lock_path = os.path.join(crate_dir, "Cargo.lock")
        if lock_path in texts:
            lock_place = find_cargo_lock_version(lock_path, texts[lock_path], package)
            if lock_place:
                places.append(lock_place)
            else:
                notes.append(
                    f"{lock_path} has no entry for {package}: cargo adds it at the next build."
                )
        else:
            notes.append(f"{crate_dir} has no Cargo.lock: nothing to update there.")

    for path in init_files:
        places.extend(find_dunder_versions(path, texts[path]))

    return DistVersionPlaces(
        address=address,
        places=tuple(places),
        texts=tuple(sorted((p, texts[p]) for p in {pl.path for pl in places})),
        notes=tuple(notes),
    )


def _new_version(current: str, subsystem: Pyo3BumpVersionSubsystem) -> str:
    if subsystem.to is not None:
        return subsystem.to
    assert subsystem.part is not None, "checked by the goal rule"
    return bump(current, subsystem.part)


@goal_rule(desc="Bump the version of Python distributions and their crates")
async def pyo3_bump_version(
    console: Console,
    subsystem: Pyo3BumpVersionSubsystem,
    targets: Targets,
    workspace: Workspace,
) -> Pyo3BumpVersionGoal:
    scope = subsystem.options_scope
    if (subsystem.to is None) == (subsystem.part is None):
        raise Pyo3VersionBumpError(
            f"Give exactly one of `--{scope}-to=X.Y.Z` and `--{scope}-part=major|minor|patch`, "
            f"e.g. `{scope} --to=0.2.0 src/python/myext:dist`."
        )
    if subsystem.to is not None and not _VERSION_RE.match(subsystem.to):
        raise Pyo3VersionBumpError(
            f"`--to={subsystem.to}` is not a `MAJOR.MINOR.PATCH` version (like `0.2.0`), which is "
            "the form both Cargo and Python accept unchanged. Give one."
        )
    dists = [t for t in targets if t.has_field(PythonProvidesField)]
    if not dists:
        raise Pyo3VersionBumpError(
            f"No `python_distribution` targets in the given specs. Name one, e.g. "
            f"`{scope} --to=0.2.0 src/python/myext:dist`."
        )
    found = await MultiGet(Get(DistVersionPlaces, DistVersionPlacesRequest(t)) for t in dists)

    inconsistent = [d for d in found if len({p.version for p in d.places}) > 1]
    if inconsistent:
        listing = "\n".join(
            f"\n{d.address}:\n"
            + "\n".join(f"  {p.version:<12} {p.path}  ({p.what})" for p in d.places)
            for d in inconsistent
        )
        raise InconsistentVersionsError(
            "The version is written differently in these places, so there is no current version "
            f"to bump from:\n{listing}\n\nMake them agree (edit the odd ones out), then run "
            f"`{scope}` again. Nothing was written."
        )

    new_versions: dict[VersionPlace, str] = {}
    claimed_by: dict[VersionPlace, str] = {}
    texts: dict[str, str] = {}
    summary: list[str] = []
    for d in found:
        current = d.places[0].version
        new = _new_version(current, subsystem)
        for place in d.places:
            if place in new_versions and new_versions[place] != new:
                raise Pyo3VersionBumpError(
                    f"{place.path} ({place.what}) belongs to both {claimed_by[place]} and "
                    f"{d.address}, which would get different versions ({new_versions[place]} and "
                    f"{new}). Bump them with one `--to`, or one at a time."
                )
            new_versions[place] = new
            claimed_by[place] = d.address
        texts.update(d.texts)
        if new == current:
            summary.append(f"{d.address} is already at {new}: nothing to change.")
            continue
        summary.append(f"{d.address}: {current} → {new}")
        summary.extend(f"  {p.path}  ({p.what})" for p in d.places)
        summary.extend(f"  note: {n}" for n in d.notes)

    places_by_path: DefaultDict[str, list[VersionPlace]] = defaultdict(list)
    for place in new_versions:
        places_by_path[place.path].append(place)
    changed = {
        path: rewrite(texts[path], places, new_versions)
        for path, places in sorted(places_by_path.items())
    }
    changed = {path: text for path, text in changed.items() if text != texts[path]}
    if changed:
        digest = await Get(
            Digest,
            CreateDigest(FileContent(path, text.encode()) for path, text in changed.items()),
        )
        workspace.write_digest(digest)
    for line in summary:
        console.print_stdout(line)
    return Pyo3BumpVersionGoal(exit_code=0)


def rules():
    return collect_rules()
