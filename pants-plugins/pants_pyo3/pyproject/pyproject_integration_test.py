# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""A maturin project packaged by Pants: its wheel's metadata comes from its `pyproject.toml`.

The project is a pure-Rust crate (maturin's commonest layout: a top-level module `demo`, which
maturin wraps into a package `demo/` with a generated `__init__.py`, the crate's `demo.pyi` and a
`py.typed`), declared the way the README's recipe does: the module is `demo.demo` in a package whose
`__init__.py` re-exports it, with the stub and `py.typed` beside it."""

from __future__ import annotations

import zipfile
from email.parser import Parser
from pathlib import Path
from textwrap import dedent

# `packaging` comes with Pants (a dependency of pantsbuild.pants).
from packaging.requirements import Requirement  # pants: no-infer-dep
from pants_pyo3.testutil import TempRepo, crate_files, run_in_fresh_venv

PYPROJECT = """\
[build-system]
requires = ["maturin>=1.9,<2"]
build-backend = "maturin"

[project]
name = "demo"
dynamic = ["version"]
description = "Adds numbers in Rust"
readme = "README.md"
requires-python = ">=3.9"
license = { text = "MIT" }
authors = [{ name = "Ann", email = "ann@example.com" }]
keywords = ["rust"]
classifiers = ["Programming Language :: Rust"]
dependencies = ["attrs>=21"]

[project.optional-dependencies]
test = ["pytest"]

[project.scripts]
demo-add = "demo.cli:main"

[project.urls]
Source = "https://example.com/demo"

[tool.maturin]
"""


def test_wheel_metadata_is_the_pyproject_project_table(tmp_path: Path) -> None:
    crate = crate_files("src/rust/demo", lib_name="demo", pymodule="demo")
    crate["src/rust/demo/Cargo.toml"] = crate["src/rust/demo/Cargo.toml"].replace(
        'version = "0.1.0"', 'version = "0.4.0-rc.1"', 1
    )
    repo = TempRepo(
        tmp_path / "repo",
        {
            **crate,
            "src/rust/demo/pyproject.toml": PYPROJECT,
            "src/rust/demo/README.md": "# demo\n\nAdds numbers.\n",
            # What maturin generates for a pure-Rust crate, written once.
            "src/python/demo/__init__.py": (
                "from .demo import *  # noqa: F401,F403\n\n__doc__ = demo.__doc__\n"
            ),
            "src/python/demo/demo.pyi": "def add(a: int, b: int) -> int: ...\n",
            "src/python/demo/py.typed": "",
            "src/python/demo/cli.py": (
                "from demo import add\n\n\ndef main():\n    print(add(1, 2))\n"
            ),
            "src/python/demo/BUILD": dedent(
                """\
                python_sources()
                resources(name="typing", sources=["py.typed"])
                pyo3_extension(name="native", crate="src/rust/demo", module_name="demo.demo")
                # Everything but the name (which Pants requires here) is in the pyproject.toml.
                python_distribution(
                    name="dist",
                    dependencies=[":demo", ":typing"],
                    provides=python_artifact(name="demo"),
                    pyproject="src/rust/demo/pyproject.toml",
                    sdist=False,
                )
                """
            ),
        },
    )
    repo.pants("package", "src/python/demo:dist").assert_success()
    # The version is Cargo's (`dynamic = ["version"]`), in the PEP 440 form maturin writes.
    (wheel,) = (repo.root / "dist").glob("demo-0.4.0rc1-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        metadata = Parser().parsestr(zf.read("demo-0.4.0rc1.dist-info/METADATA").decode())
        entry_points = zf.read("demo-0.4.0rc1.dist-info/entry_points.txt").decode()
    # maturin's package for a pure-Rust crate: module, re-exporting `__init__.py`, stub, marker.
    assert {
        "demo/__init__.py",
        "demo/demo.cpython-311-x86_64-linux-gnu.so",
        "demo/demo.pyi",
        "demo/py.typed",
    } <= names
    assert metadata["Summary"] == "Adds numbers in Rust"
    assert metadata["Requires-Python"] == ">=3.9"
    assert metadata["License"] == "MIT"
    assert metadata["Author-email"] == "Ann <ann@example.com>"
    assert metadata["Keywords"] == "rust"
    assert metadata.get_all("Classifier") == ["Programming Language :: Rust"]
    assert metadata.get_all("Project-URL") == ["Source, https://example.com/demo"]
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert "Adds numbers." in metadata.get_payload()
    assert metadata.get_all("Provides-Extra") == ["test"]
    # setuptools writes `attrs >=21`; compare the requirements, not their spelling.
    requires = sorted(str(Requirement(r)) for r in metadata.get_all("Requires-Dist"))
    assert requires == ["attrs>=21", 'pytest; extra == "test"']
    assert "demo-add = demo.cli:main" in entry_points

    # It installs and its script runs the Rust code.
    out = run_in_fresh_venv(
        tmp_path / "venv", [str(wheel)], ["demo-add"], "--no-index", "--no-deps"
    )
    assert out.strip() == "3"
