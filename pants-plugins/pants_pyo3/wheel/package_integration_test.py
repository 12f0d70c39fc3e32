# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""End to end: real Pants runs on a temporary repo, as a user runs them."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path
from textwrap import dedent

import pytest
from pants_pyo3.testutil import PANTS_TOML, TempRepo, package_files, run_in_fresh_venv

DEMO_FILES = {
    **package_files("demo", extra_build='python_tests(name="tests")\n'),
    "src/python/demo/demo_test.py": dedent(
        """\
        import demo


        def test_add_runs_in_rust() -> None:
            assert demo.add(2, 3) == 5
            assert demo._native.__file__.endswith(".so")
        """
    ),
    "src/python/app/main.py": "from demo import add\n\nprint(f'answer={add(40, 2)}')\n",
    "src/python/app/BUILD": (
        'python_sources(name="lib")\npex_binary(name="app", entry_point="main.py")\n'
    ),
}


@pytest.fixture(scope="module")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> TempRepo:
    repo = TempRepo(tmp_path_factory.mktemp("repo"), DEMO_FILES)
    repo.pants("package", "::").assert_success()
    return repo


def test_wheel_is_platform_tagged_and_holds_the_module(packaged: TempRepo) -> None:
    wheels = sorted((packaged.root / "dist").glob("demo-0.1.0-*.whl"))
    assert [w.name for w in wheels] == ["demo-0.1.0-cp311-cp311-linux_x86_64.whl"]
    with zipfile.ZipFile(wheels[0]) as zf:
        names = set(zf.namelist())
        wheel_metadata = zf.read("demo-0.1.0.dist-info/WHEEL").decode()
    assert {"demo/__init__.py", "demo/_native.cpython-311-x86_64-linux-gnu.so"} <= names
    # Nothing of the build machinery leaks into the wheel.
    assert not any(n.endswith(("Cargo.toml", ".rs", "_pants_pyo3_backend.py")) for n in names)
    assert "Root-Is-Purelib: false" in wheel_metadata
    assert "Tag: cp311-cp311-linux_x86_64" in wheel_metadata


def test_wheel_installs_into_a_fresh_venv_and_imports(packaged: TempRepo, tmp_path: Path) -> None:
    (wheel,) = (packaged.root / "dist").glob("demo-0.1.0-*.whl")
    out = run_in_fresh_venv(
        tmp_path / "venv",
        [str(wheel)],
        ["python", "-c", "import demo; print(demo.add(20, 22))"],
        "--no-index",
    )
    assert out.strip() == "42"


def test_pex_runs_and_computes_in_rust(packaged: TempRepo) -> None:
    pex = packaged.root / "dist" / "src.python.app" / "app.pex"
    out = subprocess.run([str(pex)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "answer=42"


def test_python_tests_import_the_freshly_built_module(packaged: TempRepo) -> None:
    result = packaged.pants("test", "src/python/demo:tests").assert_success()
    assert "src/python/demo/demo_test.py:tests succeeded" in result.stderr


def test_failed_build_writes_nothing_to_dist(tmp_path: Path) -> None:
    broken = package_files("broken", body='fn add(a: i64) -> i64 {\n    a + "1"\n}')
    repo = TempRepo(tmp_path, {**DEMO_FILES, **broken})
    result = repo.pants("package", "::").assert_failure()
    # cargo's own diagnostic, the target and the fix are shown; no Python traceback.
    assert "error[E0277]" in result.stderr, result.stderr
    assert "src/python/broken:native" in result.stderr
    assert "Fix the errors cargo reported above." in result.stderr
    assert "Traceback (most recent call last)" not in result.stderr
    # The good distribution was built too, but nothing was written: dist/ is all or nothing.
    assert not (repo.root / "dist").exists() or not any((repo.root / "dist").iterdir())


def test_manylinux_policy_links_with_zig_and_auto_keeps_the_host_linker(tmp_path: Path) -> None:
    # Linked by this machine's cc, Rust's std needs glibc symbols newer than manylinux_2_17 allows
    # (e.g. pthread_key_create@GLIBC_2.34). Asked for manylinux_2_17, the plugin links with zig for
    # glibc 2.17 instead, and auditwheel agrees: the wheel gets both names of the policy.
    repo = TempRepo(
        tmp_path,
        DEMO_FILES,
        pants_toml=PANTS_TOML.replace('manylinux = "off"', 'manylinux = "manylinux_2_17"'),
    )
    repo.pants("package", "src/python/demo:dist").assert_success()
    [wheel] = (repo.root / "dist").glob("demo-0.1.0-*.whl")
    assert wheel.name == "demo-0.1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"

    # `auto` tags the wheel with what auditwheel found for the host linker's module instead.
    wheel.unlink()
    repo.write({"pants.toml": PANTS_TOML.replace('manylinux = "off"', 'manylinux = "auto"')})
    repo.pants("package", "src/python/demo:dist").assert_success()
    [wheel] = (repo.root / "dist").glob("demo-0.1.0-*.whl")
    assert wheel.name.startswith("demo-0.1.0-cp311-cp311-manylinux_2_3"), wheel.name
