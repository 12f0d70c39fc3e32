# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""End to end: `pants pyo3-bump-version` on a copy of the example repo, then `pants package`."""

from __future__ import annotations

import tarfile
import zipfile
from pathlib import Path

from pants_pyo3.testutil import TempRepo, repo_files

# The example's files come into the sandbox through the root BUILD's `example` target.
EXAMPLE_DIRS = ("src/python/myext", "src/python/pp3greet", "src/rust/myext")
VERSIONED = {
    "src/python/myext/BUILD": ('version="0.1.0"', 'version="{}"'),
    "src/python/myext/__init__.py": ('__version__ = "0.1.0"', '__version__ = "{}"'),
    "src/rust/myext/Cargo.toml": ('\nversion = "0.1.0"\n', '\nversion = "{}"\n'),
    "src/rust/myext/Cargo.lock": (
        'name = "myext"\nversion = "0.1.0"\n',
        'name = "myext"\nversion = "{}"\n',
    ),
}


def example_files() -> dict[str, str]:
    files = repo_files(*EXAMPLE_DIRS)
    assert set(VERSIONED) <= set(files), sorted(files)
    return files


def snapshot(repo: TempRepo, paths: list[str]) -> dict[str, str]:
    return {p: (repo.root / p).read_text() for p in paths}


def test_bump_then_package_the_example(tmp_path: Path) -> None:
    files = example_files()
    for path, (old, _) in VERSIONED.items():
        assert files[path].count(old) == 1, f"{path} no longer has {old!r} once"
    inconsistent = {
        **files,
        "src/python/myext/__init__.py": files["src/python/myext/__init__.py"].replace(
            "0.1.0", "0.1.1"
        ),
    }
    repo = TempRepo(tmp_path, inconsistent)

    # 1. Disagreeing versions: refused with every place listed, and nothing written.
    result = repo.pants("pyo3-bump-version", "--to=0.2.0", "src/python/myext:dist").assert_failure()
    for expected in (
        "0.1.0        src/python/myext/BUILD",
        "0.1.0        src/rust/myext/Cargo.toml",
        "0.1.0        src/rust/myext/Cargo.lock",
        "0.1.1        src/python/myext/__init__.py",
        "Nothing was written.",
    ):
        assert expected in result.stderr, result.stderr
    assert snapshot(repo, list(files)) == inconsistent

    # 2. Agreeing versions: `--part=minor` rewrites exactly the version in each place.
    repo.write({"src/python/myext/__init__.py": files["src/python/myext/__init__.py"]})
    result = repo.pants(
        "pyo3-bump-version", "--part=minor", "src/python/myext:dist"
    ).assert_success()
    assert "src/python/myext:dist: 0.1.0 → 0.2.0" in result.stdout, result.stdout
    expected = dict(files)
    for path, (old, new) in VERSIONED.items():
        expected[path] = files[path].replace(old, new.format("0.2.0"))
    after = snapshot(repo, list(files))
    assert sorted(p for p in files if after[p] != files[p]) == sorted(VERSIONED)
    assert after == expected

    # 3. The wheel now has the new version, inside and out.
    repo.pants("package", "src/python/myext:dist").assert_success()
    # The example's extension builds for this machine and, cross-compiled, for aarch64 Linux.
    wheels = sorted(w.name for w in (repo.root / "dist").glob("*.whl"))
    assert wheels == [
        "myext-0.2.0-cp311-cp311-linux_aarch64.whl",
        "myext-0.2.0-cp311-cp311-linux_x86_64.whl",
    ], wheels
    with zipfile.ZipFile(repo.root / "dist" / wheels[0]) as zf:
        assert '__version__ = "0.2.0"' in zf.read("myext/__init__.py").decode()
        assert "\nVersion: 0.2.0\n" in zf.read("myext-0.2.0.dist-info/METADATA").decode()
        # The extension's type stub and the PEP 561 marker ship with the module.
        assert {"myext/_native.pyi", "myext/py.typed"} <= set(zf.namelist())
    # So has the sdist, which holds the bumped crate (the package step also checked that the three
    # versions agree).
    with tarfile.open(repo.root / "dist" / "myext-0.2.0.tar.gz") as tar:
        assert '\nversion = "0.2.0"\n' in (
            tar.extractfile("myext-0.2.0/rust/myext/Cargo.toml")  # type: ignore[union-attr]
            .read()
            .decode()
        )
        names = tar.getnames()
    assert "myext-0.2.0/python/myext/_native.pyi" in names
    assert not any(n.endswith(".so") for n in names), names
