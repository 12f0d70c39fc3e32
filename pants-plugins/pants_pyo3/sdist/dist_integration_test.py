# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""End to end, on one temporary repo: `check` with the extension's stub, and the sdist, which pip
builds with maturin into a fresh venv."""

from __future__ import annotations

import os
import tarfile
import zipfile
from pathlib import Path
from textwrap import dedent
from typing import Iterator

import pytest
import toml
from pants_pyo3.testutil import PANTS_TOML, TempRepo, crate_files, run_in_fresh_venv

MYPY_PANTS_TOML = PANTS_TOML.replace(
    '"pants.backend.experimental.python", "pants_pyo3"]',
    '"pants.backend.experimental.python", "pants.backend.python.typecheck.mypy", "pants_pyo3"]',
)

# `demo` uses the plain Rust crate `helper` as a path dependency, one directory up.
_DEMO_CRATE = crate_files(
    "src/rust/demo",
    body="fn add(a: i64, b: i64) -> i64 {\n    helper::double(a) + b\n}",
    features='helper = { path = "../helper" }',
)

FILES = {
    **_DEMO_CRATE,
    "src/rust/demo/BUILD": 'cargo_crate(dependencies=["src/rust/helper"])\n',
    "src/rust/helper/BUILD": "cargo_crate()\n",
    "src/rust/helper/Cargo.toml": (
        '[package]\nname = "helper"\nversion = "0.3.0"\nedition = "2021"\n'
    ),
    "src/rust/helper/src/lib.rs": "pub fn double(x: i64) -> i64 {\n    2 * x\n}\n",
    "src/python/demo/__init__.py": 'from demo._native import add\n\n__version__ = "0.1.0"\n',
    "src/python/demo/_native.pyi": "def add(a: int, b: int) -> int: ...\n",
    "src/python/demo/py.typed": "",
    "src/python/demo/BUILD": dedent(
        """\
        python_sources()
        resources(name="typing", sources=["py.typed"])
        pyo3_extension(name="native", crate="src/rust/demo", module_name="demo._native")
        python_distribution(
            name="dist",
            dependencies=[":demo", ":typing"],
            provides=python_artifact(name="demo", version="0.1.0", python_requires=">=3.8"),
            sdist=True,
        )
        """
    ),
    "src/python/app/main.py": "from demo import add\n\ntotal: int = add(40, 2)\n",
    "src/python/app/BUILD": "python_sources()\n",
    "src/python/bad/main.py": 'from demo import add\n\ntotal = add("40", 2)\n',
    "src/python/bad/BUILD": "python_sources()\n",
}


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TempRepo]:
    repo = TempRepo(tmp_path_factory.mktemp("repo"), FILES, pants_toml=MYPY_PANTS_TOML)
    yield repo
    repo.stop_pantsd()


@pytest.fixture(scope="module")
def sdist(repo: TempRepo) -> Path:
    repo.pants("package", "src/python/demo:dist", pantsd=True).assert_success()
    return repo.root / "dist" / "demo-0.1.0.tar.gz"


def test_check_passes_against_the_stub(repo: TempRepo) -> None:
    result = repo.pants(
        "check", "src/python/demo::", "src/python/app::", pantsd=True
    ).assert_success()
    assert "mypy succeeded" in result.stderr


def test_check_fails_on_a_wrong_argument_type(repo: TempRepo) -> None:
    result = repo.pants("check", "src/python/bad::", pantsd=True).assert_failure()
    assert (
        'Argument 1 to "add" has incompatible type "str"; expected "int"'
        in result.stdout + result.stderr
    )


def test_sdist_holds_the_crates_and_a_maturin_project_but_not_the_module(
    repo: TempRepo, sdist: Path
) -> None:
    # The wheel is still built, with the module in it.
    (wheel,) = (repo.root / "dist").glob("demo-0.1.0-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        assert {
            "demo/_native.cpython-311-x86_64-linux-gnu.so",
            "demo/_native.pyi",
            "demo/py.typed",
        } <= set(zf.namelist())

    with tarfile.open(sdist) as tar:
        names = sorted(tar.getnames())
        pyproject = toml.loads(
            tar.extractfile("demo-0.1.0/pyproject.toml").read().decode()  # type: ignore[union-attr]
        )
        pkg_info = (
            tar.extractfile("demo-0.1.0/PKG-INFO").read().decode()  # type: ignore[union-attr]
        )
    assert names == [
        f"demo-0.1.0/{f}"
        for f in (
            "PKG-INFO",
            "pyproject.toml",
            "python/demo/__init__.py",
            "python/demo/_native.pyi",
            "python/demo/py.typed",
            "rust/demo/Cargo.toml",
            "rust/demo/src/lib.rs",
            "rust/helper/Cargo.toml",
            "rust/helper/src/lib.rs",
        )
    ]
    assert pyproject["build-system"] == {
        "requires": ["maturin>=1.9.4,<2"],
        "build-backend": "maturin",
    }
    assert pyproject["project"] == {
        "name": "demo",
        "version": "0.1.0",
        "requires-python": ">=3.8",
        "dependencies": [],
    }
    assert pyproject["tool"]["maturin"] == {
        "module-name": "demo._native",
        "manifest-path": "rust/demo/Cargo.toml",
        "python-source": "python",
        "bindings": "pyo3",
        "profile": "release",
    }
    assert "Name: demo\nVersion: 0.1.0\n" in pkg_info


def test_sdist_pip_installs_with_maturin_and_imports(
    sdist: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # maturin's cargo output persists across runs, like the plugin's own named cache.
    monkeypatch.setenv(
        "CARGO_TARGET_DIR", os.path.expanduser("~/.cache/pants-pyo3-tests/sdist-target")
    )
    out = run_in_fresh_venv(
        tmp_path / "venv",
        [str(sdist)],
        [
            "python",
            "-c",
            "import demo, demo._native as m; print(demo.add(20, 1), demo.__version__, m.__file__)",
        ],
    )
    total, version, module = out.split()
    assert (total, version) == ("41", "0.1.0")
    assert module.endswith(".cpython-311-x86_64-linux-gnu.so") and str(tmp_path / "venv") in module
