# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

from __future__ import annotations

import hashlib
import tarfile
from pathlib import Path
from textwrap import dedent

import pytest
import toml
from pants.backend.python.util_rules.interpreter_constraints import InterpreterConstraints
from pants.engine.addresses import Address
from pants.engine.internals.scheduler import ExecutionError
from pants.testutil.rule_runner import QueryRule
from pants_pyo3.errors import Pyo3SdistError
from pants_pyo3.sandbox.sdist_backend import write_sdist
from pants_pyo3.sdist.rules import (
    MATURIN_REQUIREMENT,
    Pyo3SdistInputs,
    Pyo3SdistRequest,
    crates_root,
    is_extension_binary,
    packaged_files,
    project_table,
    render_pkg_info,
    render_pyproject,
    sdist_base_name,
)
from pants_pyo3.testutil import (
    RULE_RUNNER_ENV_INHERIT,
    RULE_RUNNER_GLOBAL_ARGS,
    crate_files,
    plugin_rule_runner,
    rule_runner_env,
)


@pytest.mark.parametrize(
    "files, crate_dirs, expected",
    [
        pytest.param(
            ["src/rust/a/Cargo.toml", "src/rust/a/src/lib.rs"],
            ["src/rust/a"],
            "src/rust",
            id="one-crate",
        ),
        pytest.param(
            ["src/rust/a/Cargo.toml", "src/rust/a/src/lib.rs", "src/rust/common/util/Cargo.toml"],
            ["src/rust/a", "src/rust/common/util"],
            "src/rust",
            id="path-dependency",
        ),
        pytest.param(["Cargo.toml", "src/lib.rs"], [""], "", id="crate-at-repo-root"),
    ],
)
def test_crates_root_keeps_the_relative_layout(
    files: list[str], crate_dirs: list[str], expected: str
) -> None:
    assert crates_root(files, crate_dirs) == expected


@pytest.mark.parametrize(
    "path, expected",
    [
        ("myext/_native.cpython-311-x86_64-linux-gnu.so", True),
        ("myext/_native.abi3.so", True),
        ("myext/_native.pyi", False),
        ("myext/_native_helpers.py", False),
        ("other/_native.cpython-311-x86_64-linux-gnu.so", False),
    ],
)
def test_only_the_compiled_module_is_left_out(path: str, expected: bool) -> None:
    assert is_extension_binary(path, "myext._native") is expected


def test_only_what_the_wheel_holds_goes_into_python() -> None:
    files = [
        "Cargo.toml",  # A Cargo workspace's root manifest (a `files` target), in no package.
        "ws/member/Cargo.toml",
        "myext/__init__.py",
        "myext/_native.pyi",
        "myext/py.typed",
        "myext/sub/helpers.py",
        "toplevel.py",
    ]
    packages = ["", "myext", "myext.sub"]
    package_data = [("myext", ("_native.pyi", "py.typed"))]
    assert packaged_files(files, packages, package_data) == [
        "myext/__init__.py",
        "myext/_native.pyi",
        "myext/py.typed",
        "myext/sub/helpers.py",
        "toplevel.py",
    ]
    # A top-level module alone: nothing for `python/`.
    assert packaged_files(["Cargo.toml"], [], []) == []


def test_sdist_name_is_normalized() -> None:
    assert sdist_base_name("My.Ext-Pkg", "1.0.0") == "my_ext_pkg-1.0.0"


def test_pyproject_uses_maturin_and_the_dists_metadata() -> None:
    project = project_table(
        {
            "name": "myext",
            "version": "0.1.0",
            "description": "An example",
            "python_requires": ">=3.8",
            "install_requires": ("pp3greet==0.1.0",),
            "author": "Ann",
            "author_email": "ann@example.com",
            "url": "https://example.com",
            "entry_points": {"console_scripts": ["myext-cli = myext.cli:main"]},
        }
    )
    maturin = {
        "module-name": "myext._native",
        "manifest-path": "rust/myext/Cargo.toml",
        "python-source": "python",
    }
    parsed = toml.loads(render_pyproject(project, maturin))
    assert parsed["build-system"] == {"requires": [MATURIN_REQUIREMENT], "build-backend": "maturin"}
    assert parsed["project"] == {
        "name": "myext",
        "version": "0.1.0",
        "description": "An example",
        "requires-python": ">=3.8",
        "dependencies": ["pp3greet==0.1.0"],
        "authors": [{"name": "Ann", "email": "ann@example.com"}],
        "urls": {"Homepage": "https://example.com"},
        "scripts": {"myext-cli": "myext.cli:main"},
    }
    assert parsed["tool"]["maturin"] == maturin
    pkg_info = render_pkg_info(project)
    assert pkg_info.startswith("Metadata-Version: 2.1\nName: myext\nVersion: 0.1.0\n")
    assert "Requires-Dist: pp3greet==0.1.0\n" in pkg_info


def test_pkg_info_carries_the_long_description() -> None:
    project = project_table(
        {
            "name": "x",
            "version": "1.0.0",
            "long_description": "# X\n\nText.\n",
            "long_description_content_type": "text/markdown",
        }
    )
    assert render_pkg_info(project).endswith(
        "Description-Content-Type: text/markdown\n\n# X\n\nText.\n"
    )


def test_sdist_archive_is_deterministic(tmp_path: Path) -> None:
    config = {
        "base_name": "demo-0.1.0",
        "generated": {"PKG-INFO": "Metadata-Version: 2.1\n", "pyproject.toml": "[project]\n"},
        "files": {"python/demo/__init__.py": "a", "rust/demo/Cargo.toml": "b"},
    }
    contents = {"a": (b"print(1)\n", False), "b": (b"[package]\n", False)}
    digests = set()
    for out in ("one", "two"):
        name = write_sdist(str(tmp_path / out), config, contents.__getitem__, 315532800)
        assert name == "demo-0.1.0.tar.gz"
        digests.add(hashlib.sha256((tmp_path / out / name).read_bytes()).hexdigest())
    assert len(digests) == 1
    with tarfile.open(tmp_path / "one" / "demo-0.1.0.tar.gz") as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == [
            "demo-0.1.0/PKG-INFO",
            "demo-0.1.0/pyproject.toml",
            "demo-0.1.0/python/demo/__init__.py",
            "demo-0.1.0/rust/demo/Cargo.toml",
        ]
        assert {(m.mtime, m.uid, m.uname, m.mode) for m in members} == {(315532800, 0, "", 0o644)}
        assert (
            tar.extractfile("demo-0.1.0/python/demo/__init__.py").read()  # type: ignore[union-attr]
            == b"print(1)\n"
        )


def test_several_extensions_in_one_sdist_are_refused() -> None:
    rule_runner = plugin_rule_runner(QueryRule(Pyo3SdistInputs, [Pyo3SdistRequest]))
    rule_runner.set_options(
        list(RULE_RUNNER_GLOBAL_ARGS),
        env=rule_runner_env(),
        env_inherit=set(RULE_RUNNER_ENV_INHERIT),
    )
    rule_runner.write_files(
        {
            **crate_files("src/rust/one", lib_name="_one", pymodule="_one"),
            **crate_files("src/rust/two", package="two", lib_name="_two", pymodule="_two"),
            "src/python/demo/__init__.py": "from demo import _one, _two\n",
            "src/python/demo/BUILD": dedent(
                """\
                python_sources()
                pyo3_extension(name="one", crate="src/rust/one", module_name="demo._one")
                pyo3_extension(name="two", crate="src/rust/two", module_name="demo._two")
                python_distribution(
                    name="dist",
                    dependencies=[":demo"],
                    provides=python_artifact(name="demo", version="0.1.0"),
                )
                """
            ),
        }
    )
    dist = rule_runner.get_target(Address("src/python/demo", target_name="dist"))
    # The error comes before the sources are hydrated: nothing is built.
    with pytest.raises(ExecutionError) as exc:
        rule_runner.request(
            Pyo3SdistInputs, [Pyo3SdistRequest(dist, InterpreterConstraints(["CPython==3.11.*"]))]
        )
    (error,) = exc.value.wrapped_exceptions
    assert isinstance(error, Pyo3SdistError)
    assert "src/python/demo:one, src/python/demo:two" in str(error)
    assert "Set `sdist=False`" in str(error)
