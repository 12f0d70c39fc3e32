# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""Real-world crate layouts (issue #16), end to end: one temporary repo holds every fixture crate
of `testdata/crates/` (one per layout PyO3 projects use); for each, `pants package` builds its
wheel, pip installs it into a fresh venv (offline) where the fixture's Python test runs, `pants
test` runs the same test (and `cargo test`), and the wheel is compared with `maturin build
--release`'s wheel of the same crate: file list, `WHEEL` tags and `METADATA` fields. Where the two
differ on purpose, the fixture's entry below says so, and why.

The fixtures are data (their BUILD files are named `_BUILD`), so the repo's own `::` never builds
them; each one is a maturin project too (its `pyproject.toml`), which is what maturin builds.
"""

from __future__ import annotations

import email.parser
import os
import re
import shutil
import subprocess
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Mapping

import pytest
from pants_pyo3.testutil import (
    PANTS_TOML,
    PLUGIN_DIR,
    TempRepo,
    find_interpreter,
    make_venv,
    pip_install,
    run_in_fresh_venv,
)

FIXTURES_DIR = PLUGIN_DIR / "testdata" / "crates"
# maturin from PyPI (the newest the sdists' `build-system` admits, when written).
MATURIN = "maturin==1.16.0"
PYTHON_VERSION = "3.11"
# maturin's cargo output persists across runs, like the plugin's own named cache.
MATURIN_TARGET_DIR = os.path.expanduser("~/.cache/pants-pyo3-tests/maturin-crates-target")

# In every comparison. setuptools (the plugin's base wheel) writes `top_level.txt` and
# `namespace_packages.txt`, maturin doesn't; neither is read by pip or at import.
SETUPTOOLS_ONLY = frozenset({"DIST-INFO/top_level.txt", "DIST-INFO/namespace_packages.txt"})
# Both write a CycloneDX SBOM of the crate's dependencies (maturin >= 1.10; the plugin since #20),
# under the same name: nothing is maturin's alone.
MATURIN_ONLY: frozenset[str] = frozenset()
# Pants writes `Requires-Python` from the distribution's interpreter constraints (here
# `CPython==3.11.*`); maturin only from `requires-python` in `pyproject.toml`.
REQUIRES_PYTHON_FROM_CONSTRAINTS = {"Requires-Python": (("==3.11.*",), ())}
# maturin packs every file in the Python package's directory, the fixture's BUILD file too; Pants
# packs what its targets own.
MATURIN_PACKS_BUILD = "{}/BUILD"


@dataclass(frozen=True)
class Fixture:
    name: str
    # The `python_distribution` and the Python package/module its test imports.
    dist: str
    dist_name: str
    # The maturin projects (directories with `pyproject.toml`) whose wheels it's compared with.
    maturin_projects: tuple[str, ...]
    source_roots: tuple[str, ...]
    # Files only in the plugin's wheel / only in maturin's (normalized, see `wheel_summary`).
    only_pants: frozenset[str] = frozenset()
    only_maturin: frozenset[str] = frozenset()
    # METADATA fields that differ on purpose: field -> (plugin's value, maturin's value).
    metadata_differences: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = field(
        default_factory=lambda: REQUIRES_PYTHON_FROM_CONSTRAINTS
    )


def _package_wrapper(module: str) -> frozenset[str]:
    # maturin wraps a pure-Rust crate's top-level module in a package of the same name (an
    # `__init__.py` re-exporting the module); the plugin ships the module itself, as declared by
    # `module_name`. `import <module>` gives the same functions either way.
    return frozenset({f"{module}/__init__.py", f"{module}/{module}.SO"})


FIXTURES = [
    Fixture(
        name="mixed",
        dist="mixed/python/mixed:dist",
        dist_name="mixed",
        maturin_projects=("mixed",),
        source_roots=("/mixed/python",),
        only_maturin=frozenset({MATURIN_PACKS_BUILD.format("mixed")}),
    ),
    Fixture(
        name="srclayout",
        dist="srclayout/src/srclayout:dist",
        dist_name="srclayout",
        maturin_projects=("srclayout",),
        source_roots=("/srclayout/src",),
        only_maturin=frozenset({MATURIN_PACKS_BUILD.format("srclayout")}),
    ),
    Fixture(
        name="workspace",
        dist="workspace/crates/wsext:dist",
        dist_name="wsext",
        maturin_projects=("workspace/crates/wsext",),
        # `/workspace` holds the workspace root `Cargo.toml` (a `files` target).
        source_roots=("/workspace/crates/wsext", "/workspace"),
        only_pants=frozenset({"wsext.SO"}),
        only_maturin=_package_wrapper("wsext"),
    ),
    Fixture(
        name="toplevel",
        dist="toplevel:dist",
        dist_name="toplevel",
        maturin_projects=("toplevel",),
        source_roots=("/toplevel",),
        only_pants=frozenset({"toplevel.SO"}),
        only_maturin=_package_wrapper("toplevel"),
    ),
    Fixture(
        name="bareabi3",
        dist="bareabi3:dist",
        dist_name="bareabi3",
        maturin_projects=("bareabi3",),
        source_roots=("/bareabi3",),
        only_pants=frozenset({"bareabi3.SO"}),
        only_maturin=_package_wrapper("bareabi3"),
    ),
    Fixture(
        name="feature",
        dist="feature:dist",
        dist_name="gated",
        maturin_projects=("feature",),
        source_roots=("/feature",),
        only_pants=frozenset({"gated.SO"}),
        only_maturin=_package_wrapper("gated"),
    ),
    Fixture(
        name="twocrates",
        dist="twocrates/python/twocrates:dist",
        dist_name="twocrates",
        # maturin builds one extension per wheel: the plugin's one wheel is compared with the
        # union of maturin's two (each crate a maturin project of its own). maturin 1.16 puts a
        # pure-Rust crate's `module-name = "twocrates._alpha"` into a top-level package `_alpha`
        # (measured), so no maturin project can give the `twocrates` package both modules.
        maturin_projects=("twocrates/alpha", "twocrates/beta"),
        source_roots=("/twocrates/python",),
        only_pants=frozenset(
            {"twocrates/__init__.py", "twocrates/_alpha.SO", "twocrates/_beta.SO"}
        ),
        only_maturin=_package_wrapper("_alpha") | _package_wrapper("_beta"),
        metadata_differences={
            **REQUIRES_PYTHON_FROM_CONSTRAINTS,
            "Name": (("twocrates",), ("twocrates-alpha",)),
        },
    ),
    Fixture(
        name="maturinproject",
        dist="maturinproject/python/maturin_project:dist",
        dist_name="maturin_project",
        maturin_projects=("maturinproject",),
        source_roots=("/maturinproject/python",),
        only_maturin=frozenset({MATURIN_PACKS_BUILD.format("maturin_project")}),
        # `Requires-Python` comes from `requires-python` on both sides here. For a Markdown readme
        # maturin adds the charset and the variant (GFM) to the content type; setuptools writes
        # what `[project].readme` implies, `text/markdown` (PyPI renders both the same).
        metadata_differences={
            "Description-Content-Type": (
                ("text/markdown",),
                ("text/markdown; charset=UTF-8; variant=GFM",),
            ),
        },
    ),
]

TESTS_ROOT = "/*/tests"


def fixture_files() -> dict[str, str]:
    """Every fixture, at `<fixture>/...` in the repo, with its `_BUILD` files named `BUILD`."""
    files = {}
    for path in sorted(FIXTURES_DIR.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            rel = path.relative_to(FIXTURES_DIR)
            name = "BUILD" if rel.name == "_BUILD" else rel.name
            files[str(rel.parent / name)] = path.read_text()
    return files


def pants_toml() -> str:
    roots = [root for fixture in FIXTURES for root in fixture.source_roots] + [TESTS_ROOT]
    text = PANTS_TOML.replace(
        'root_patterns = ["/src/python", "/src/rust"]', f"root_patterns = {roots!r}"
    )
    # manylinux tags earned by auditwheel, as maturin's are.
    return text.replace('manylinux = "off"', 'manylinux = "auto"')


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TempRepo]:
    repo = TempRepo(tmp_path_factory.mktemp("crates"), fixture_files(), pants_toml=pants_toml())
    yield repo
    repo.stop_pantsd()


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pytest and its requirements (and `packaging`), for offline installs into fresh venvs."""
    out = tmp_path_factory.mktemp("wheelhouse")
    subprocess.run(
        [
            find_interpreter(PYTHON_VERSION),
            "-m",
            "pip",
            "download",
            "--quiet",
            "--only-binary=:all:",
            "--dest",
            str(out),
            "pytest",
            "packaging",
        ],
        check=True,
        env={**os.environ, "PIP_CONFIG_FILE": "/dev/null"},
    )
    return out


@pytest.fixture(scope="module")
def maturin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    python = make_venv(find_interpreter(PYTHON_VERSION), tmp_path_factory.mktemp("maturin"))
    pip_install(python, [MATURIN])
    return python.parent / "maturin"


def normalize(name: str) -> str:
    """A wheel's file name with what differs by tool alone replaced: the `.dist-info` directory's
    name, and a compiled module's suffix (`.cpython-311-x86_64-linux-gnu.so`, `.abi3.so`)."""
    name = re.sub(r"^[^/]+\.dist-info/", "DIST-INFO/", name)
    name = re.sub(r"^DIST-INFO/sboms/[^/]+\.cyclonedx\.json$", "DIST-INFO/sboms/SBOM", name)
    return re.sub(r"\.(cpython-\d+-[^.]+|abi3)\.so$", ".SO", name)


@dataclass(frozen=True)
class WheelSummary:
    files: frozenset[str]
    modules: frozenset[str]
    tags: tuple[str, ...]
    metadata: Mapping[str, tuple[str, ...]]


METADATA_FIELDS = (
    "Name",
    "Version",
    "Summary",
    "Requires-Python",
    "Requires-Dist",
    "Provides-Extra",
    "License",
    "Keywords",
    "Classifier",
    "Author",
    "Author-email",
    "Project-URL",
    "Description-Content-Type",
)


def _metadata_value(name: str, value: object) -> str:
    text = " ".join(str(value).split())
    if name == "Requires-Dist":
        # setuptools writes `packaging >=20`, maturin `packaging>=20`: the same requirement.
        requirement, marker = (text.split(";", 1) + [""])[:2]
        text = re.sub(r" (?=[<>=!~(])", "", requirement) + (f";{marker}" if marker else "")
    return text


def wheel_summary(wheels: list[Path]) -> WheelSummary:
    files: set[str] = set()
    modules: set[str] = set()
    tags: list[str] = []
    metadata: dict[str, tuple[str, ...]] = {}
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as zf:
            names = zf.namelist()
            files.update(normalize(n) for n in names)
            modules.update(n for n in names if n.endswith(".so"))
            dist_info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/WHEEL"))
            wheel_file = zf.read(f"{dist_info}/WHEEL").decode()
            tags.extend(
                line.split(": ", 1)[1]
                for line in wheel_file.splitlines()
                if line.startswith("Tag: ")
            )
            parsed = email.parser.Parser().parsestr(zf.read(f"{dist_info}/METADATA").decode())
            if not metadata:
                metadata = {
                    f: tuple(sorted(_metadata_value(f, v) for v in parsed.get_all(f) or ()))
                    for f in METADATA_FIELDS
                }
    return WheelSummary(frozenset(files), frozenset(modules), tuple(sorted(tags)), metadata)


def dist_wheels(directory: Path, dist_name: str) -> list[Path]:
    return sorted(directory.glob(f"{dist_name}-*.whl"))


def run_python_test(fixture: Fixture, repo: TempRepo, wheelhouse: Path, tmp_path: Path) -> None:
    # Outside the repo, with only the test files: the package comes from the venv.
    tests = tmp_path / "tests"
    shutil.copytree(
        repo.root / fixture.name / "tests", tests, ignore=shutil.ignore_patterns("BUILD")
    )
    out = run_in_fresh_venv(
        tmp_path / "venv",
        [fixture.dist_name, "pytest"],
        ["python", "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tests)],
        "--no-index",
        "--find-links",
        str(repo.root / "dist"),
        "--find-links",
        str(wheelhouse),
        python_version=PYTHON_VERSION,
    )
    assert " passed" in out


def maturin_build(fixture: Fixture, repo: TempRepo, maturin: Path, out: Path) -> list[Path]:
    env = {
        **os.environ,
        "CARGO_TARGET_DIR": MATURIN_TARGET_DIR,
        "PIP_CONFIG_FILE": "/dev/null",
    }
    for project in fixture.maturin_projects:
        proc = subprocess.run(
            [
                str(maturin),
                "build",
                "--release",
                "--interpreter",
                find_interpreter(PYTHON_VERSION),
                "--manifest-path",
                str(repo.root / project / "Cargo.toml"),
                "--out",
                str(out),
            ],
            env=env,
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, f"maturin failed on {project}:\n{proc.stdout}\n{proc.stderr}"
    return sorted(out.glob("*.whl"))


@pytest.mark.parametrize("fixture", [pytest.param(f, id=f.name) for f in FIXTURES])
def test_fixture_packages_installs_and_matches_maturin(
    fixture: Fixture, repo: TempRepo, wheelhouse: Path, maturin: Path, tmp_path: Path
) -> None:
    repo.pants("package", fixture.dist).assert_success()
    wheels = dist_wheels(repo.root / "dist", fixture.dist_name)
    assert len(wheels) == 1, wheels
    run_python_test(fixture, repo, wheelhouse, tmp_path)
    repo.pants("test", f"{fixture.name}::").assert_success()

    ours = wheel_summary(wheels)
    theirs = wheel_summary(maturin_build(fixture, repo, maturin, tmp_path / "maturin"))
    print(f"{fixture.name}: ours {ours}\n  maturin {theirs}")
    assert set(ours.tags) == set(theirs.tags)
    assert ours.files - theirs.files == SETUPTOOLS_ONLY | fixture.only_pants
    assert theirs.files - ours.files == MATURIN_ONLY | fixture.only_maturin
    differing = {
        f: (ours.metadata[f], theirs.metadata[f])
        for f in METADATA_FIELDS
        if ours.metadata[f] != theirs.metadata[f]
    }
    assert differing == dict(fixture.metadata_differences)


def test_top_level_module_sdist_pip_installs_with_maturin(
    repo: TempRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A top-level module has no Python package, so the sdist has nothing for `python/`: maturin
    # then must not be told `python-source = "python"` (it refuses a directory that doesn't exist).
    repo.pants("package", "toplevel:dist").assert_success()
    sdist = repo.root / "dist" / "toplevel-0.1.0.tar.gz"
    with tarfile.open(sdist) as tar:
        names = tar.getnames()
        pyproject = tar.extractfile("toplevel-0.1.0/pyproject.toml").read().decode()
    assert not [n for n in names if n.startswith("toplevel-0.1.0/python/")], names
    assert "python-source" not in pyproject
    monkeypatch.setenv("CARGO_TARGET_DIR", MATURIN_TARGET_DIR)
    out = run_in_fresh_venv(
        tmp_path / "venv",
        [str(sdist)],
        ["python", "-c", "import toplevel; print(toplevel.add(40, 2))"],
        python_version=PYTHON_VERSION,
    )
    assert out.strip() == "42"


def test_workspace_sdist_has_no_stray_files_in_python(repo: TempRepo) -> None:
    # The workspace's root `Cargo.toml` (a `files` target the crate depends on) belongs under
    # `rust/`, beside the crates, not in `python/`, where the wheel's files go.
    repo.pants("package", "workspace/crates/wsext:dist").assert_success()
    with tarfile.open(repo.root / "dist" / "wsext-0.1.0.tar.gz") as tar:
        names = sorted(n.split("/", 1)[1] for n in tar.getnames())
    assert [n for n in names if n.startswith("python/")] == []
    assert "rust/Cargo.toml" in names and "rust/crates/wsext/Cargo.toml" in names, names
