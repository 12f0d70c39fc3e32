# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

from __future__ import annotations

import pytest
from pants_pyo3.goals.tailor import (
    ModuleName,
    derive_module_name,
    extension_target_name,
    is_pyo3_cdylib,
    pymodule_name,
)

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
