# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""End to end: `pants pyo3-develop` writes the module into the source tree, where plain `python`
imports it outside Pants; an edit and a re-run update it; `--clean` removes it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Iterator

import pytest
from pants_pyo3.testutil import TempRepo, find_interpreter, package_files

ADDRESS = "src/python/demo:native"
PACKAGE = "src/python/demo"


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TempRepo]:
    repo = TempRepo(
        tmp_path_factory.mktemp("develop"),
        {**package_files("demo"), ".gitignore": "/src/python/**/*.so\n"},
    )
    yield repo


def _modules(repo: TempRepo) -> list[str]:
    return sorted(p.name for p in (repo.root / PACKAGE).glob("_native.*so"))


def _python_add(repo: TempRepo, python: str) -> subprocess.CompletedProcess[str]:
    """`demo.add(2, 3)` with plain `python`, the source root on PYTHONPATH, outside Pants."""
    return subprocess.run(
        [python, "-c", "import demo; print(demo.add(2, 3))"],
        cwd=repo.root,
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(repo.root / "src/python")},
        capture_output=True,
        text=True,
    )


def test_develop_builds_into_the_source_tree_and_cleans(repo: TempRepo, tmp_path: Path) -> None:
    python = find_interpreter("3.11")
    assert _python_add(repo, python).returncode != 0, "nothing is built before `pyo3-develop`"

    # The default interpreter is the `python3` first on the PATH Pants runs with.
    path_bin = tmp_path / "bin"
    path_bin.mkdir()
    (path_bin / "python3").symlink_to(python)
    env = {"PATH": f"{path_bin}{os.pathsep}{os.environ['PATH']}"}
    result = repo.pants("pyo3-develop", ADDRESS, extra_env=env).assert_success()
    assert _modules(repo) == ["_native.cpython-311-x86_64-linux-gnu.so"], result.stderr
    assert "Wrote src/python/demo/_native.cpython-311-x86_64-linux-gnu.so" in result.stdout
    ran = _python_add(repo, python)
    assert (ran.returncode, ran.stdout.strip()) == (0, "5"), ran.stderr

    # An edit of the crate, then the same command: the module in the tree is the new one.
    lib_rs = repo.root / "src/rust/demo/src/lib.rs"
    lib_rs.write_text(lib_rs.read_text().replace("a + b", "a + b + 100"))
    repo.pants("pyo3-develop", ADDRESS, extra_env=env).assert_success()
    ran = _python_add(repo, python)
    assert (ran.returncode, ran.stdout.strip()) == (0, "105"), ran.stderr

    # An interpreter the constraints (CPython 3.11) don't admit: a named error with the fix.
    failed = repo.pants("pyo3-develop", "--pyo3-develop-python=3.9", ADDRESS).assert_failure()
    assert "Pyo3DevelopError" in failed.stderr and "--pyo3-develop-python=3.11" in failed.stderr

    cleaned = repo.pants("pyo3-develop", "--clean", ADDRESS).assert_success()
    assert "Removed src/python/demo/_native.cpython-311-x86_64-linux-gnu.so" in cleaned.stdout
    assert _modules(repo) == []
    assert _python_add(repo, python).returncode != 0
