# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""Reading what the plugin needs from a crate's `Cargo.toml`."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import toml
from pants_pyo3.errors import CargoManifestError

logger = logging.getLogger(__name__)

_ABI3_FEATURE_RE = re.compile(r"^abi3(?:-py(\d)(\d+))?$")


@dataclass(frozen=True)
class CargoManifest:
    package_name: str
    version: str | None
    lib_name: str
    # The lowest CPython (major, minor) of pyo3's `abi3-pyXY` feature, if the build enables abi3.
    abi3_floor: tuple[int, int] | None


def _pyo3_features(
    manifest: Mapping[str, Any], enabled: Iterable[str], default_features: bool
) -> set[str]:
    """The pyo3 features a build enables: pyo3's own list plus those reached from crate features."""
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
    return result


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
    abi3_floor: tuple[int, int] | None = None
    for feature in _pyo3_features(manifest, features, default_features):
        m = _ABI3_FEATURE_RE.match(feature)
        if not m:
            continue
        floor = (int(m.group(1)), int(m.group(2))) if m.group(1) else (3, 7)
        # pyo3's lower abi3 features enable the higher ones; the lowest one enabled is the floor.
        abi3_floor = min(abi3_floor or floor, floor)
    version = package.get("version")
    return CargoManifest(
        package_name=package["name"],
        version=version if isinstance(version, str) else None,
        lib_name=lib.get("name", package["name"].replace("-", "_")),
        abi3_floor=abi3_floor,
    )
