# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

from __future__ import annotations

import os

import pytest
from pants.core.goals.tailor import AllOwnedSources, PutativeTargets
from pants.testutil.rule_runner import QueryRule, RuleRunner
from pants_pyo3.goals.tailor import (
    ModuleName,
    PutativePyo3TargetsRequest,
    derive_module_name,
    distribution_dir,
    extension_target_name,
    is_maturin_project,
    is_pyo3_cdylib,
    maturin_pyproject_for,
    pymodule_name,
    python_source_dir,
)
from pants_pyo3.testutil import crate_files, emptied_build_root, plugin_rule_runner

CDYLIB = {
    "package": {"name": "my-ext"},
    "lib": {"crate-type": ["cdylib"]},
    "dependencies": {"pyo3": "0.29"},
}


@pytest.mark.parametrize(
    "manifest, expected",
    [
        pytest.param(CDYLIB, True, id="pyo3-cdylib"),
        pytest.param({**CDYLIB, "lib": {"crate-type": ["rlib"]}}, False, id="no-cdylib"),
        pytest.param({**CDYLIB, "dependencies": {"serde": "1"}}, False, id="no-pyo3"),
        pytest.param({"workspace": {"members": ["a"]}}, False, id="workspace-root"),
    ],
)
def test_is_pyo3_cdylib(manifest: dict, expected: bool) -> None:
    assert is_pyo3_cdylib(manifest) is expected


@pytest.mark.parametrize(
    "source, expected",
    [
        pytest.param("#[pymodule]\nfn _native(m: &Bound<'_, PyModule>) {}", "_native", id="fn"),
        pytest.param("#[pymodule]\npub fn fast(m: &Bound<'_, PyModule>) {}", "fast", id="pub-fn"),
        pytest.param("#[pymodule]\nmod declarative {}", "declarative", id="mod"),
        pytest.param(
            '#[pymodule]\n#[pyo3(name = "_core")]\nfn core(m) {}', "_core", id="renamed-after"
        ),
        pytest.param(
            '#[pyo3(name = "_core")]\n#[pymodule]\nfn core(m) {}', "_core", id="renamed-before"
        ),
        pytest.param("fn helper() {}", None, id="none"),
    ],
)
def test_pymodule_name(source: str, expected: str | None) -> None:
    assert pymodule_name(source) == expected


def test_module_name_prefers_maturin_then_lib_then_pymodule_then_package() -> None:
    lib_rs = "#[pymodule]\nfn _speedups(m) {}"
    pyproject = {"tool": {"maturin": {"module-name": "pkg._native"}}}
    named_lib = {**CDYLIB, "lib": {"name": "_lib", "crate-type": ["cdylib"]}}
    assert derive_module_name(named_lib, pyproject, lib_rs) == ModuleName(
        "pkg._native", "`[tool.maturin] module-name` in pyproject.toml"
    )
    assert derive_module_name(named_lib, None, lib_rs) == ModuleName(
        "_lib", "`[lib] name` in Cargo.toml"
    )
    assert derive_module_name(CDYLIB, {"tool": {}}, lib_rs) == ModuleName(
        "_speedups", "the `#[pymodule]` in src/lib.rs"
    )
    assert derive_module_name(CDYLIB, None, None) == ModuleName(
        "my_ext", "`[package] name` in Cargo.toml"
    )


@pytest.mark.parametrize(
    "module, name",
    [
        ("myext._native", "native"),
        ("a.b.fast", "fast"),
        ("toplevel", "toplevel"),
        ("pkg.__", "native"),
    ],
)
def test_extension_target_name(module: str, name: str) -> None:
    assert extension_target_name(module) == name


@pytest.mark.parametrize(
    "packages, expected",
    [
        pytest.param(
            ["my_ext"],
            ModuleName(
                "my_ext.my_ext",
                "`[package] name` in Cargo.toml, inside the Python package `my_ext/` beside the "
                "crate (maturin's mixed layout)",
            ),
            id="mixed",
        ),
        pytest.param(["other"], ModuleName("my_ext", "`[package] name` in Cargo.toml"), id="pure"),
    ],
)
def test_mixed_layout_puts_the_module_in_the_package_named_like_it(
    packages: list[str], expected: ModuleName
) -> None:
    assert derive_module_name(CDYLIB, None, None, python_packages=packages) == expected


def test_dotted_module_name_is_kept_in_a_mixed_layout() -> None:
    pyproject = {"tool": {"maturin": {"module-name": "my_ext._core"}}}
    module = derive_module_name(CDYLIB, pyproject, None, python_packages=["my_ext"])
    assert module is not None and module.name == "my_ext._core"


@pytest.mark.parametrize(
    "pyprojects, expected",
    [
        pytest.param({"rust/ext/pyproject.toml": {}}, "rust/ext/pyproject.toml", id="beside"),
        pytest.param(
            {"rust/pyproject.toml": {"tool": {"maturin": {"manifest-path": "ext/Cargo.toml"}}}},
            "rust/pyproject.toml",
            id="workspace-root",
        ),
        pytest.param(
            {"pyproject.toml": {"tool": {"maturin": {"manifest-path": "rust/other/Cargo.toml"}}}},
            None,
            id="another-crate",
        ),
        pytest.param({"rust/pyproject.toml": {"project": {}}}, None, id="no-manifest-path"),
    ],
)
def test_maturin_pyproject_for(pyprojects: dict, expected: str | None) -> None:
    assert maturin_pyproject_for("rust/ext", pyprojects) == expected


def test_python_source_dir_is_relative_to_the_pyproject() -> None:
    pyproject = {"tool": {"maturin": {"python-source": "python"}}}
    assert python_source_dir("rust/pyproject.toml", pyproject) == "rust/python"
    assert python_source_dir("rust/pyproject.toml", {}) == "rust"


def test_maturin_project_detection_and_distribution_dir() -> None:
    assert is_maturin_project({"project": {"name": "foo"}, "tool": {"maturin": {}}})
    assert not is_maturin_project({"project": {"name": "foo"}})
    assert not is_maturin_project({"tool": {"maturin": {}}})
    assert distribution_dir("foo", "foo/python/foo") == "foo"
    assert distribution_dir("rust/foo", "src/python/foo") == "src/python/foo"


@pytest.fixture(scope="module")
def engine() -> RuleRunner:
    return plugin_rule_runner(
        QueryRule(PutativeTargets, [PutativePyo3TargetsRequest, AllOwnedSources])
    )


@pytest.fixture
def rule_runner(engine: RuleRunner) -> RuleRunner:
    return emptied_build_root(engine)


def tailor(rule_runner: RuleRunner, files: dict[str, str]) -> dict[str, str]:
    rule_runner.write_files(files)
    rule_runner.set_options(["--source-root-patterns=['/', '/*/python']"])
    # `tailor ::` asks about every directory.
    dirs = sorted({os.path.dirname(path) for path in files})
    putative = rule_runner.request(
        PutativeTargets, [PutativePyo3TargetsRequest(tuple(dirs)), AllOwnedSources([])]
    )
    return {
        f"{p.path}:{p.name} ({p.type_alias})": p.generate_build_file_stanza("    ")
        for p in putative
    }


def test_tailor_moves_a_maturin_project_in(rule_runner: RuleRunner) -> None:
    """A mixed maturin project: `python/foo/` beside the crate, metadata in its pyproject.toml."""
    pyproject = (
        '[project]\nname = "foo"\ndynamic = ["version"]\n'
        '[tool.maturin]\npython-source = "python"\n'
    )
    crate = crate_files("foo", package="foo", lib_name="foo", pymodule="foo")
    del crate["foo/BUILD"]
    found = tailor(
        rule_runner,
        {**crate, "foo/pyproject.toml": pyproject, "foo/python/foo/__init__.py": ""},
    )
    assert sorted(found) == [
        "foo/python/foo:foo (pyo3_extension)",
        "foo:dist (python_distribution)",
        "foo:foo (cargo_crate)",
    ]
    assert 'module_name="foo.foo"' in found["foo/python/foo:foo (pyo3_extension)"]
    dist = found["foo:dist (python_distribution)"]
    assert 'provides=python_artifact(name="foo")' in dist
    assert 'pyproject="foo/pyproject.toml"' in dist
    assert '"foo/python/foo:foo"' in dist


def test_tailor_reads_the_pyproject_at_the_workspace_root(rule_runner: RuleRunner) -> None:
    pyproject = '[tool.maturin]\nmanifest-path = "crates/py/Cargo.toml"\nmodule-name = "bar._bar"\n'
    crate = crate_files("ws/crates/py", package="bar-py", lib_name="bar_py", pymodule="_bar")
    del crate["ws/crates/py/BUILD"]
    found = tailor(
        rule_runner,
        {
            **crate,
            "ws/Cargo.toml": '[workspace]\nmembers = ["crates/py"]\n',
            "ws/pyproject.toml": pyproject,
            "ws/python/bar/__init__.py": "",
        },
    )
    assert 'module_name="bar._bar"' in found["ws/python/bar:bar (pyo3_extension)"]
