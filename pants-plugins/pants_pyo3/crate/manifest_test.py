# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

from __future__ import annotations

from textwrap import dedent

import pytest
from pants_pyo3.crate.manifest import effective_abi3_floor, parse_cargo_manifest
from pants_pyo3.errors import CargoManifestError

BASE = dedent(
    """\
    [package]
    name = "my-ext"
    version = "1.2.3"

    [lib]
    crate-type = ["cdylib", "rlib"]

    [dependencies]
    pyo3 = {pyo3}

    [features]
    default = ["fast"]
    fast = ["stable"]
    stable = ["pyo3/abi3-py39"]
    other = []
    """
)


def manifest(pyo3: str = '"0.29"', **kwargs):
    return parse_cargo_manifest(BASE.format(pyo3=pyo3).encode(), path="c/Cargo.toml", **kwargs)


def test_reads_package_and_lib() -> None:
    m = manifest(default_features=False)
    assert (m.package_name, m.version, m.lib_name) == ("my-ext", "1.2.3", "my_ext")
    assert m.abi3_floor is None


@pytest.mark.parametrize(
    "pyo3, kwargs, floor",
    [
        pytest.param(
            '{ version = "0.29", features = ["abi3-py38"] }',
            {},
            (3, 8),
            id="pyo3-dependency-feature",
        ),
        pytest.param('"0.29"', {}, (3, 9), id="through-default-features"),
        pytest.param(
            '"0.29"',
            {"default_features": False, "features": ["stable"]},
            (3, 9),
            id="requested-feature",
        ),
        pytest.param(
            '"0.29"',
            {"default_features": False, "features": ["other"]},
            None,
            id="unrelated-feature",
        ),
        pytest.param(
            '{ version = "0.29", features = ["abi3-py310", "abi3-py38"] }',
            {"default_features": False},
            (3, 8),
            id="lowest-wins",
        ),
    ],
)
def test_detects_abi3_floor(pyo3: str, kwargs: dict, floor: tuple[int, int] | None) -> None:
    assert manifest(pyo3, **kwargs).abi3_floor == floor


def test_bare_abi3_floor_is_the_lowest_admitted_version() -> None:
    # pyo3's bare `abi3`: the stable ABI of the interpreter it's built with, not CPython 3.7.
    m = manifest('{ version = "0.29", features = ["abi3"] }', default_features=False)
    assert (m.abi3, m.abi3_floor) == (True, None)
    assert effective_abi3_floor(m, ("3.11", "3.12")) == (3, 11)
    assert effective_abi3_floor(m, ("3.9",)) == (3, 9)
    explicit = manifest('{ version = "0.29", features = ["abi3", "abi3-py38"] }')
    assert effective_abi3_floor(explicit, ("3.11",)) == (3, 8)
    assert effective_abi3_floor(manifest(default_features=False), ("3.11",)) is None


def test_disabled_features_are_the_crates_features_the_build_leaves_off() -> None:
    assert manifest().disabled_features == ("other",)
    assert manifest(default_features=False).disabled_features == ("fast", "other", "stable")
    assert manifest(default_features=False, features=["fast"]).disabled_features == ("other",)


@pytest.mark.parametrize(
    "content, message",
    [
        pytest.param("[package\n", "is not valid TOML", id="unparsable"),
        pytest.param(
            "[workspace]\nmembers = []\n", "has no `[package]` table", id="workspace-root"
        ),
        pytest.param('[package]\nname = "x"\n', 'Add `crate-type = ["cdylib"]`', id="no-cdylib"),
    ],
)
def test_rejects_unusable_manifests(content: str, message: str) -> None:
    with pytest.raises(CargoManifestError, match=None) as exc:
        parse_cargo_manifest(content.encode(), path="c/Cargo.toml")
    assert message in str(exc.value)
    assert "c/Cargo.toml" in str(exc.value)
