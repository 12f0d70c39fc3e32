# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""Reading what the plugin needs from a crate's `Cargo.toml`."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import toml
from pants_pyo3.errors import CargoManifestError

logger = logging.getLogger(__name__)

_ABI3_FEATURE_RE = re.compile(r"^abi3(?:-py(\d)(\d+))?$")


@dataclass(frozen=True)
class CargoManifest:
    package_name: str
    version: str | None
    lib_name: str
    # The lowest CPython (major, minor) of pyo3's `abi3-pyXY` feature, if the build enables one.
    abi3_floor: tuple[int, int] | None
    # Whether the build enables abi3 at all: pyo3's bare `abi3` feature (no `abi3-pyXY`) builds for
    # the stable ABI of the interpreter it is built with (see `effective_abi3_floor`).
    abi3: bool = False
    # The crate's own `[features]` that the build leaves off (named by the missing-module error).
    disabled_features: tuple[str, ...] = ()
    # Whether `[dependencies]` names `pyo3` itself (not renamed), so that `--features pyo3/...`
    # reaches it (the stub build's `experimental-inspect`).
    pyo3_dependency: bool = False


def _enabled_features(
    manifest: Mapping[str, Any], enabled: Iterable[str], default_features: bool
) -> tuple[set[str], set[str]]:
    """The crate features a build enables (following one feature into others), and the pyo3
    features: pyo3's own list plus those reached from crate features."""
    deps = manifest.get("dependencies", {})
    pyo3 = deps.get("pyo3", {})
    result = set(pyo3.get("features", [])) if isinstance(pyo3, dict) else set()
    crate_features = manifest.get("features", {})
    todo = list(enabled) + (["default"] if default_features and "default" in crate_features else [])
    seen: set[str] = set()
    while todo:
        feature = todo.pop()
        if feature in seen:
            continue
        seen.add(feature)
        for item in crate_features.get(feature, []):
            if item.startswith(("pyo3/", "pyo3?/")):
                result.add(item.split("/", 1)[1])
            elif item in crate_features:
                todo.append(item)
    return seen, result


def parse_cargo_manifest(
    content: bytes, *, path: str, features: Iterable[str] = (), default_features: bool = True
) -> CargoManifest:
    try:
        manifest = toml.loads(content.decode())
    except (UnicodeDecodeError, toml.TomlDecodeError) as e:
        raise CargoManifestError(f"`{path}` is not valid TOML: {e}. Fix the syntax error.")
    package = manifest.get("package")
    if not isinstance(package, dict) or "name" not in package:
        raise CargoManifestError(
            f"`{path}` has no `[package]` table with a `name`: a `pyo3_extension` must point at a "
            "crate, not at a workspace root."
        )
    lib = manifest.get("lib", {})
    crate_types = tuple(lib.get("crate-type", ["lib"]))
    if "cdylib" not in crate_types:
        raise CargoManifestError(
            f"`{path}` does not build a `cdylib` (its `[lib] crate-type` is {list(crate_types)}), "
            'so there is no shared library to import. Add `crate-type = ["cdylib"]` to its `[lib]` '
            "section."
        )
    crate_features, pyo3_features = _enabled_features(manifest, features, default_features)
    abi3_floor: tuple[int, int] | None = None
    abi3 = False
    for feature in pyo3_features:
        m = _ABI3_FEATURE_RE.match(feature)
        if not m:
            continue
        abi3 = True
        if not m.group(1):
            continue
        floor = (int(m.group(1)), int(m.group(2)))
        # pyo3's lower abi3 features enable the higher ones; the lowest one enabled is the floor.
        abi3_floor = min(abi3_floor or floor, floor)
    version = package.get("version")
    return CargoManifest(
        package_name=package["name"],
        version=version if isinstance(version, str) else None,
        lib_name=lib.get("name", package["name"].replace("-", "_")),
        abi3_floor=abi3_floor,
        abi3=abi3,
        disabled_features=tuple(
            sorted(set(manifest.get("features", {})) - crate_features - {"default"})
        ),
        pyo3_dependency="pyo3" in manifest.get("dependencies", {}),
    )


def effective_abi3_floor(
    manifest: CargoManifest, versions: Sequence[str]
) -> tuple[int, int] | None:
    """The lowest CPython an abi3 build of the crate imports under, given the CPython versions
    (major.minor, ascending) its constraints admit; None if it doesn't build for the stable ABI.

    With `abi3-pyXY` that is X.Y. pyo3's bare `abi3` means the stable ABI of the interpreter it is
    built with (pyo3 >= 0.2x supports nothing older): the lowest admitted version, the one the
    module is built with, and the one maturin's wheel tag names (`cp311-abi3` built with 3.11).
    """
    if not manifest.abi3:
        return None
    if manifest.abi3_floor:
        return manifest.abi3_floor
    if not versions:
        return None
    major, minor = versions[0].split(".")
    return int(major), int(minor)
