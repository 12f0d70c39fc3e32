# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""End to end: `tailor`, `test`, `lint` and `fmt` on the Rust side, with real Pants and cargo.

The cases share one temporary repo and one pantsd, and run in file order: each starts from the state
the previous one left (tailored BUILD files, a restored `lib.rs`).
"""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path
from textwrap import dedent
from typing import Iterator

import pytest
from pants_pyo3.testutil import TempRepo, crate_files, find_interpreter

CRATE = "src/rust/tailored"
LIB_RS = f"{CRATE}/src/lib.rs"

GOOD_LIB_RS = dedent(
    """\
    use pyo3::prelude::*;

    fn add_checked(a: i64, b: i64) -> Option<i64> {
        a.checked_add(b)
    }

    #[pyfunction]
    fn add(a: i64, b: i64) -> PyResult<i64> {
        add_checked(a, b).ok_or_else(|| pyo3::exceptions::PyOverflowError::new_err("overflow"))
    }

    #[pymodule]
    fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
        m.add_function(wrap_pyfunction!(add, m)?)?;
        Ok(())
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn adds_in_rust() {
            assert_eq!(add_checked(2, 3), Some(5));
            assert_eq!(add_checked(i64::MAX, 1), None);
        }

        #[test]
        fn adds_through_python() {
            Python::initialize();
            Python::attach(|py| {
                let m = PyModule::new(py, "_native").unwrap();
                _native(&m).unwrap();
                let sum = m.getattr("add").unwrap().call1((20, 22)).unwrap();
                assert_eq!(sum.extract::<i64>().unwrap(), 42);
            });
        }
    }
    """
)


def _files() -> dict[str, str]:
    # A crate without BUILD files, built like maturin's mixed layout would name it; its Python
    # package exists (with a distribution) but declares no extension yet.
    tailored = {
        path: content
        for path, content in crate_files(CRATE, package="tailored", pyo3_features="[]").items()
        if not path.endswith("BUILD")
    }
    tailored[LIB_RS] = GOOD_LIB_RS
    # A cdylib has no Rust API for integration tests to call: this one only shows they run.
    tailored[f"{CRATE}/tests/sums.rs"] = dedent(
        """\
        #[test]
        fn sums_from_an_integration_test() {
            let parts = [1i64, 2];
            assert_eq!(parts.iter().sum::<i64>(), 3);
        }
        """
    )
    tailored[f"{CRATE}/pyproject.toml"] = '[tool.maturin]\nmodule-name = "tailored._native"\n'
    # A crate whose module is top-level: its extension can only go next to it.
    toplevel = {
        path: content
        for path, content in crate_files(
            "src/rust/toplevel", package="toplevel", lib_name="toplevel", pymodule="toplevel"
        ).items()
        if not path.endswith("BUILD")
    }
    # A crate already named by a `pyo3_extension`: tailor adds only its `cargo_crate`.
    named = {
        path: content
        for path, content in crate_files("src/rust/named", package="named").items()
        if not path.endswith("BUILD")
    }
    return {
        **tailored,
        **toplevel,
        **named,
        # A Rust crate that isn't a Python extension: left alone.
        "src/rust/plain/Cargo.toml": (
            '[package]\nname = "plain"\nversion = "0.1.0"\nedition = "2021"\n'
        ),
        "src/rust/plain/src/lib.rs": "pub fn one() -> i32 {\n    1\n}\n",
        "src/python/tailored/__init__.py": "from tailored._native import add\n",
        "src/python/tailored/BUILD": dedent(
            """\
            python_sources()
            python_distribution(
                name="dist",
                dependencies=[":tailored"],
                provides=python_artifact(name="tailored", version="0.1.0"),
                sdist=False,
            )
            """
        ),
        "src/python/named/__init__.py": "",
        "src/python/named/BUILD": (
            "python_sources()\n"
            'pyo3_extension(name="ext", crate="src/rust/named", module_name="named._native")\n'
        ),
    }


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TempRepo]:
    repo = TempRepo(tmp_path_factory.mktemp("rust-goals"), _files())
    try:
        yield repo
    finally:
        repo.stop_pantsd()


def test_tailor_adds_the_targets_and_the_package_builds(repo: TempRepo, tmp_path: Path) -> None:
    # `src::`: the plugin copied into `pants-plugins/` has no BUILD files, and Python tailor would
    # add some.
    result = repo.pants("tailor", "src::", pantsd=True).assert_success()
    assert "src/rust/plain" not in result.stdout, result.stdout
    assert (repo.root / CRATE / "BUILD").read_text() == "cargo_crate()\n"
    package_build = (repo.root / "src/python/tailored/BUILD").read_text()
    assert (
        "# Built from src/rust/tailored; the module name is `[tool.maturin] module-name` in "
        "pyproject.toml.\n"
        "pyo3_extension(\n"
        '    name="native",\n'
        '    crate="src/rust/tailored",\n'
        '    module_name="tailored._native",\n'
        ")\n"
    ) in package_build, package_build
    toplevel_build = (repo.root / "src/rust/toplevel/BUILD").read_text()
    assert "cargo_crate()" in toplevel_build
    assert 'module_name="toplevel"' in toplevel_build
    assert "# Placed next to the crate because `toplevel` is a top-level module" in toplevel_build
    assert (repo.root / "src/rust/named/BUILD").read_text() == "cargo_crate()\n"
    assert (repo.root / "src/python/named/BUILD").read_text().count("pyo3_extension(") == 1
    assert not (repo.root / "src/rust/plain/BUILD").exists()
    # Nothing is left to add.
    repo.pants("tailor", "--check", "src::", pantsd=True).assert_success()

    # The tailored targets build: the wheel holds the module, and it imports. A `dev` build shares
    # its compiled dependencies with `cargo test` and clippy below, which keeps this file fast.
    (repo.root / "src/python/tailored/BUILD").write_text(
        package_build.replace(
            '    module_name="tailored._native",\n',
            '    module_name="tailored._native",\n    profile="dev",\n',
        )
    )
    repo.pants("package", "src/python/tailored:dist", pantsd=True).assert_success()
    (wheel,) = (repo.root / "dist").glob("tailored-0.1.0-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(tmp_path / "site")
    out = subprocess.run(
        [find_interpreter("3.11"), "-c", "import tailored; print(tailored.add(40, 2))"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path / "site")},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "42"


def test_cargo_test_runs_as_a_pants_test(repo: TempRepo) -> None:
    result = repo.pants("test", "--test-output=all", f"{CRATE}:", pantsd=True).assert_success()
    assert f"✓ {CRATE}:tailored succeeded" in result.stderr, result.stderr
    assert "test tests::adds_in_rust ... ok" in result.stderr
    # The binary links libpython: the bindings run in an embedded interpreter.
    assert "test tests::adds_through_python ... ok" in result.stderr
    # Integration tests in `tests/` are among the crate's sources by default.
    assert "test sums_from_an_integration_test ... ok" in result.stderr
    # Nothing changed: Pants answers from its cache, cargo doesn't run.
    result = repo.pants("test", f"{CRATE}:", pantsd=True).assert_success()
    assert (
        f"✓ {CRATE}:tailored succeeded" in result.stderr and "(memoized)" in result.stderr
    ), result.stderr

    # A failing Rust test fails the target and shows cargo's output.
    failing = GOOD_LIB_RS.replace("Some(5)", "Some(6)")
    repo.write({LIB_RS: failing})
    try:
        result = repo.pants("test", f"{CRATE}:", pantsd=True).assert_failure()
        assert f"✕ {CRATE}:tailored failed" in result.stderr, result.stderr
        assert "test tests::adds_in_rust ... FAILED" in result.stderr, result.stderr
        assert "left: Some(5)" in result.stderr
        # Paths are shown relative to the build root, not to the cache's mirror or the crate.
        assert f"panicked at {LIB_RS}:" in result.stderr
        assert "pants_pyo_cargo/src/" not in result.stderr
    finally:
        repo.write({LIB_RS: GOOD_LIB_RS})


def test_lint_runs_clippy_and_rustfmt_and_fmt_fixes(repo: TempRepo) -> None:
    # A clippy warning (`needless_return`) and code rustfmt would change.
    bad = GOOD_LIB_RS.replace(
        "fn add_checked(a: i64, b: i64) -> Option<i64> {\n    a.checked_add(b)\n}",
        "fn add_checked(a:i64,b:i64)->Option<i64>{\n    return a.checked_add(b);\n}",
    )
    assert bad != GOOD_LIB_RS
    repo.write({LIB_RS: bad})
    try:
        result = repo.pants("lint", f"{CRATE}:", pantsd=True).assert_failure()
        assert "✕ cargo-clippy failed." in result.stderr, result.stderr
        assert "clippy::needless_return" in result.stderr, result.stderr
        assert f"--> {LIB_RS}:" in result.stderr
        assert "✕ rustfmt failed." in result.stderr

        repo.pants("fmt", f"{CRATE}:", pantsd=True).assert_success()
        formatted = (repo.root / LIB_RS).read_text()
        assert (
            "fn add_checked(a: i64, b: i64) -> Option<i64> {\n    return a.checked_add(b);\n}"
            in formatted
        )
    finally:
        repo.write({LIB_RS: GOOD_LIB_RS})

    # The fixed crate and the example's crate pass both linters.
    repo.write(
        {
            str(path): path.read_text()
            for path in sorted(Path("src/rust/myext").rglob("*"))
            if path.is_file()
        }
    )
    result = repo.pants("lint", f"{CRATE}:", "src/rust/myext:", pantsd=True).assert_success()
    assert "✓ cargo-clippy succeeded." in result.stderr, result.stderr
    assert "✓ rustfmt succeeded." in result.stderr
    assert "Partition: src/rust/myext:myext" in result.stderr
