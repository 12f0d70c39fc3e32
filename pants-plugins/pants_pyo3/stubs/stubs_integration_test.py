# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""End to end, on one temporary repo whose extension has no stub written by hand: `check` (mypy)
passes on code calling it correctly and fails, naming the call, on code calling it wrongly, through
the stub generated from the crate; the wheel and the sdist carry that stub."""

from __future__ import annotations

import tarfile
import zipfile
from pathlib import Path
from textwrap import dedent
from typing import Iterator

import pytest
from pants_pyo3.testutil import PANTS_TOML, TempRepo, inline_module_crate_files

MYPY_PANTS_TOML = PANTS_TOML.replace(
    '"pants.backend.experimental.python", "pants_pyo3"]',
    '"pants.backend.experimental.python", "pants.backend.python.typecheck.mypy", "pants_pyo3"]',
)

FILES = {
    **inline_module_crate_files(),
    # No `_native.pyi` here: the stub is generated.
    "src/python/demo/__init__.py": (
        "from demo._native import Total, add, greet\n\n"
        '__all__ = ["Total", "add", "greet"]\n__version__ = "0.1.0"\n'
    ),
    "src/python/demo/py.typed": "",
    "src/python/demo/BUILD": dedent(
        """\
        python_sources()
        resources(name="typing", sources=["py.typed"])
        pyo3_extension(
            name="native",
            crate="src/rust/demo",
            module_name="demo._native",
            generate_stubs=True,
        )
        python_distribution(
            name="dist",
            dependencies=[":demo", ":typing"],
            provides=python_artifact(name="demo", version="0.1.0", python_requires=">=3.8"),
            sdist=True,
        )
        """
    ),
    "src/python/app/main.py": dedent(
        """\
        from demo import Total, add, greet

        total: int = add(40) + add(1, b=1)
        running = Total(start=1)
        now: int = running.add(2)
        hello: str = greet() + greet("you")
        """
    ),
    "src/python/app/BUILD": "python_sources()\n",
    "src/python/bad/main.py": dedent(
        """\
        from demo import Total, add, greet

        total = add("40", 2)
        now = Total().add(2.5)
        hello = greet(3)
        """
    ),
    "src/python/bad/BUILD": "python_sources()\n",
}


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TempRepo]:
    repo = TempRepo(tmp_path_factory.mktemp("stubs"), FILES, pants_toml=MYPY_PANTS_TOML)
    yield repo
    repo.stop_pantsd()


def test_check_passes_through_the_generated_stub(repo: TempRepo) -> None:
    result = repo.pants(
        "check", "src/python/demo::", "src/python/app::", pantsd=True
    ).assert_success()
    assert "mypy succeeded" in result.stderr


def test_check_fails_on_each_wrong_call(repo: TempRepo) -> None:
    result = repo.pants("check", "src/python/bad::", pantsd=True).assert_failure()
    output = result.stdout + result.stderr
    for error in (
        'bad/main.py:3: error: Argument 1 to "add" has incompatible type "str"; expected "int"',
        'bad/main.py:4: error: Argument 1 to "add" of "Total" has incompatible type "float"; '
        'expected "int"',
        'bad/main.py:5: error: Argument 1 to "greet" has incompatible type "int"',
    ):
        assert error in output, output


def test_the_wheel_and_the_sdist_carry_the_stub(repo: TempRepo) -> None:
    repo.pants("package", "src/python/demo:dist", pantsd=True).assert_success()
    dist = repo.root / "dist"
    (wheel,) = dist.glob("demo-0.1.0-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        assert {"demo/_native.abi3.so", "demo/_native.pyi", "demo/py.typed"} <= set(zf.namelist())
        stub = zf.read("demo/_native.pyi").decode()
    assert "def add(a: int, b: int = 2) -> int: ..." in stub.splitlines(), stub
    with tarfile.open(dist / "demo-0.1.0.tar.gz") as tar:
        member = tar.extractfile("demo-0.1.0/python/demo/_native.pyi")
        assert member is not None
        assert member.read().decode() == stub
    # Nothing was written into the source tree: the stub exists only as generated.
    assert not Path(repo.root, "src/python/demo/_native.pyi").exists()
