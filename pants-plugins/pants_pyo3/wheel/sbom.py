# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""The SBOM of a wheel (PEP 770): a CycloneDX document of the crates compiled into each module.

`cargo metadata --filter-platform <triple>` (with the extension's features, run in the build's
named cache after the build) gives the resolved dependency graph and every crate's license; the
crate's `Cargo.lock` gives the checksums. Only what is linked into the module is listed: the crates
reached from the extension's crate through normal dependencies, for that triple and those features.
Build dependencies (build scripts), dev dependencies and proc macros (and what only they use) run on
the build machine and are not part of the module.

The document holds nothing that varies between builds of the same inputs: no timestamp, no paths,
and a serial number derived from its content, so wheels stay byte-reproducible.
"""

from __future__ import annotations

import hashlib
import json
import logging
import urllib.parse
import uuid
from dataclasses import dataclass
from typing import Any, Mapping

import toml
from pants.engine.addresses import Address
from pants.engine.process import FallibleProcessResult
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.engine.target import Target
from pants.util.logging import LogLevel
from pants_pyo3.build.cargo import CACHE_PATH, CargoProcess
from pants_pyo3.build.extension import BuiltPyo3Extension
from pants_pyo3.build.plan import (
    Pyo3ExtensionBuildPlan,
    Pyo3ExtensionBuildRequest,
    Pyo3ExtensionBuildsRequest,
)
from pants_pyo3.crate.crate import Pyo3Crate, Pyo3CrateRequest
from pants_pyo3.errors import Pyo3LockfileOutdatedError, Pyo3SbomError
from pants_pyo3.sandbox import build_extension
from pants_pyo3.sandbox.build_extension import config_json
from pants_pyo3.sandbox.cargo_metadata import CargoMetadataConfig
from pants_pyo3.target_types import Pyo3DefaultFeaturesField, Pyo3ExtensionTarget, Pyo3FeaturesField
from pants_pyo3.toolchain.rust import RustToolchain

logger = logging.getLogger(__name__)

SPEC_VERSION = "1.5"
# What crates.io's packages are named by in a lock file and in `cargo metadata`.
_CRATES_IO = (
    "registry+https://github.com/rust-lang/crates.io-index",
    "sparse+https://index.crates.io/",
)


def _purl(name: str, version: str, source: str | None) -> str:
    purl = f"pkg:cargo/{name}@{version}"
    if source and source not in _CRATES_IO:
        kind, _, url = source.partition("+")
        qualifier = "vcs_url" if kind == "git" else "repository_url"
        purl += f"?{qualifier}={urllib.parse.quote(url if kind != 'git' else source, safe='')}"
    return purl


def _checksums(lock: str) -> dict[tuple[str, str, str | None], str]:
    """(name, version, source) -> the SHA-256 `Cargo.lock` records for each registry crate."""
    packages = toml.loads(lock).get("package", [])
    return {
        (p["name"], p["version"], p.get("source")): p["checksum"]
        for p in packages
        if p.get("checksum")
    }


def linked_packages(metadata: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The root package, and the ids of the packages compiled into its library (not the root):
    those reached through normal dependencies, without proc macros."""
    packages = {p["id"]: p for p in metadata["packages"]}
    nodes = {n["id"]: n for n in metadata["resolve"]["nodes"]}
    root = metadata["resolve"]["root"]
    if root is None:
        raise ValueError("cargo metadata names no root package (a virtual workspace manifest)")

    def is_proc_macro(package_id: str) -> bool:
        return any("proc-macro" in t["kind"] for t in packages[package_id]["targets"])

    seen = {root}
    todo = [root]
    while todo:
        for dep in nodes[todo.pop()]["deps"]:
            normal = any(k["kind"] is None for k in dep["dep_kinds"])
            if normal and dep["pkg"] not in seen and not is_proc_macro(dep["pkg"]):
                seen.add(dep["pkg"])
                todo.append(dep["pkg"])
    return packages[root], sorted(seen - {root})


def normal_deps(metadata: Mapping[str, Any], package_id: str, included: set[str]) -> list[str]:
    node = next(n for n in metadata["resolve"]["nodes"] if n["id"] == package_id)
    return sorted(
        d["pkg"]
        for d in node["deps"]
        if d["pkg"] in included and any(k["kind"] is None for k in d["dep_kinds"])
    )


def _component(package: Mapping[str, Any], checksums: Mapping, ref: str) -> dict[str, Any]:
    component: dict[str, Any] = {
        "type": "library",
        "bom-ref": ref,
        "name": package["name"],
        "version": package["version"],
    }
    if package.get("description"):
        component["description"] = " ".join(package["description"].split())
    component["scope"] = "required"
    checksum = checksums.get((package["name"], package["version"], package.get("source")))
    if checksum:
        component["hashes"] = [{"alg": "SHA-256", "content": checksum}]
    if package.get("license"):
        component["licenses"] = [{"expression": package["license"]}]
    component["purl"] = ref
    references = []
    if package.get("repository"):
        references.append({"type": "vcs", "url": package["repository"]})
    if package.get("homepage"):
        references.append({"type": "website", "url": package["homepage"]})
    if references:
        component["externalReferences"] = references
    return component


def cyclonedx_sbom(
    metadata: Mapping[str, Any], lock: str, triple: str, features: tuple[str, ...]
) -> bytes:
    """The CycloneDX JSON (UTF-8, sorted keys) of what is linked into the root package's library."""
    root, linked = linked_packages(metadata)
    packages = {p["id"]: p for p in metadata["packages"]}
    checksums = _checksums(lock)
    # Package ids of path crates hold absolute paths: components are referenced by purl instead.
    refs = {
        pid: _purl(packages[pid]["name"], packages[pid]["version"], packages[pid].get("source"))
        for pid in [root["id"], *linked]
    }
    included = set(linked) | {root["id"]}
    document: dict[str, Any] = {
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "version": 1,
        "metadata": {
            "tools": {"components": [{"type": "application", "name": "pants-pyo3"}]},
            "component": _component(root, checksums, refs[root["id"]]),
            "properties": [
                {"name": "cdx:rustc:sbom:target:triple", "value": triple},
                {"name": "pants-pyo3:features", "value": ",".join(features)},
            ],
        },
        "components": [_component(packages[pid], checksums, refs[pid]) for pid in linked],
        "dependencies": [
            {
                "ref": refs[pid],
                "dependsOn": [refs[d] for d in normal_deps(metadata, pid, included)],
            }
            for pid in sorted(included, key=lambda p: refs[p])
        ],
    }
    document["components"].sort(key=lambda c: c["bom-ref"])
    # The serial number names this content: the same inputs give the same one.
    digest = hashlib.sha256(json.dumps(document, sort_keys=True).encode()).digest()
    document["serialNumber"] = uuid.UUID(bytes=digest[:16], version=5).urn
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()


@dataclass(frozen=True)
class Pyo3SbomRequest:
    """The SBOM of a `pyo3_extension`'s module for one target triple."""

    target: Target
    triple: str


@dataclass(frozen=True)
class Pyo3Sbom:
    address: Address
    triple: str
    crate_dir: str
    # The file name under `.dist-info/sboms/`, e.g. `myext.cyclonedx.json`, and its content.
    file_name: str
    content: bytes
    # The crate's `license` (an SPDX expression, or None) and `license-file`, from its manifest.
    crate_license: str | None
    crate_license_file: str | None


@rule(desc="Write the SBOM of a PyO3 extension", level=LogLevel.DEBUG)
async def pyo3_sbom(request: Pyo3SbomRequest, toolchain: RustToolchain) -> Pyo3Sbom:
    tgt = request.target
    plan, crate = await MultiGet(
        Get(Pyo3ExtensionBuildPlan, Pyo3ExtensionBuildsRequest(tgt)),
        Get(Pyo3Crate, Pyo3CrateRequest(tgt)),
    )
    build_request = next(r for r in plan.requests if r.triple == request.triple)
    # After the build: cargo has downloaded every crate of the graph into the named cache.
    built = await Get(BuiltPyo3Extension, Pyo3ExtensionBuildRequest, build_request)
    features = tuple(tgt[Pyo3FeaturesField].value)
    config = CargoMetadataConfig(
        crate_dir=crate.target.address.spec_path,
        files=sorted(crate.sources.snapshot.files),
        cargo=toolchain.cargo,
        target_triple=request.triple,
        features=list(features),
        default_features=tgt[Pyo3DefaultFeaturesField].value,
        cache_dir=CACHE_PATH,
    )
    result = await Get(
        FallibleProcessResult,
        CargoProcess(
            program="cargo_metadata.py",
            config_json=config_json(config),
            input_digest=crate.sources.snapshot.digest,
            interpreter=built.interpreter,
            description=f"Listing the crates of {tgt.address} for its SBOM ({request.triple})",
        ),
    )
    if result.exit_code == build_extension.EXIT_LOCKFILE_OUTDATED:
        raise Pyo3LockfileOutdatedError.for_target(
            tgt.address, result.stderr.decode(errors="replace").strip()
        )
    if result.exit_code != 0:
        raise Pyo3SbomError(
            f"`cargo metadata` failed on the crate of the `{Pyo3ExtensionTarget.alias}` target "
            f"{tgt.address}, so its wheels can't list the crates in them:\n\n"
            f"{result.stderr.decode(errors='replace').strip()}\n\n"
            "Fix the errors cargo reported above (the same command runs as `cargo metadata "
            f"--format-version 1 --filter-platform {request.triple}` in the crate's directory)."
        )
    out = json.loads(result.stdout)
    metadata = out["metadata"]
    root, _ = linked_packages(metadata)
    return Pyo3Sbom(
        address=tgt.address,
        triple=request.triple,
        crate_dir=crate.target.address.spec_path,
        file_name=f"{root['name']}.cyclonedx.json",
        content=cyclonedx_sbom(metadata, out["lock"], request.triple, features),
        crate_license=root.get("license"),
        crate_license_file=root.get("license_file"),
    )


def rules():
    return collect_rules()
