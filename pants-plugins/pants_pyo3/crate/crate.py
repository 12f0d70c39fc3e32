# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""The `cargo_crate` an extension builds: its target, its files (with path dependencies) and its
manifest."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from pants.core.target_types import FileSourceField
from pants.core.util_rules.source_files import SourceFiles, SourceFilesRequest
from pants.engine.addresses import Address, Addresses, UnparsedAddressInputs
from pants.engine.fs import DigestContents, DigestSubset, MergeDigests, PathGlobs, Snapshot
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.engine.target import (
    SourcesField,
    Target,
    TransitiveTargets,
    TransitiveTargetsRequest,
    WrappedTarget,
    WrappedTargetRequest,
)
from pants.util.logging import LogLevel
from pants.util.strutil import softwrap
from pants_pyo3.crate.manifest import CargoManifest, parse_cargo_manifest
from pants_pyo3.crate.workspace import CargoWorkspaceFiles, CargoWorkspaceFilesRequest
from pants_pyo3.errors import CargoManifestError, Pyo3ExtensionError
from pants_pyo3.target_types import (
    CargoCrateSourcesField,
    CargoCrateTarget,
    Pyo3CrateField,
    Pyo3DefaultFeaturesField,
    Pyo3ExtensionTarget,
    Pyo3FeaturesField,
)

logger = logging.getLogger(__name__)


async def crate_target(tgt: Target) -> Target:
    """The `cargo_crate` target named by an extension's `crate` field."""
    field = tgt[Pyo3CrateField]
    addresses = await Get(
        Addresses,
        UnparsedAddressInputs(
            [field.value],
            owning_address=tgt.address,
            description_of_origin=f"the `{field.alias}` field of {tgt.address}",
        ),
    )
    crate = await Get(
        WrappedTarget,
        WrappedTargetRequest(
            addresses[0], description_of_origin=f"the `{field.alias}` field of {tgt.address}"
        ),
    )
    if not crate.target.has_field(CargoCrateSourcesField):
        raise Pyo3ExtensionError(
            softwrap(
                f"""
                The `{field.alias}` field of the `{Pyo3ExtensionTarget.alias}` target {tgt.address}
                must name a `{CargoCrateTarget.alias}` target, but {crate.target.address} is a
                `{crate.target.alias}`. Add `{CargoCrateTarget.alias}()` to the BUILD file next to
                the crate's `Cargo.toml` and point `{field.alias}` at it.
                """
            )
        )
    return crate.target


def _read_manifest(tgt: Target, crate: Target, contents: DigestContents) -> CargoManifest:
    path = os.path.join(crate.address.spec_path, "Cargo.toml")
    content = next((fc.content for fc in contents if fc.path == path), None)
    if content is None:
        raise Pyo3ExtensionError(
            softwrap(
                f"""
                The `{Pyo3ExtensionTarget.alias}` target {tgt.address} builds the crate
                {crate.address}, which has no `{path}` among its sources. Put the
                `{CargoCrateTarget.alias}` target in the crate's directory, next to its
                `Cargo.toml`, and keep `Cargo.toml` in its `{CargoCrateSourcesField.alias}`.
                """
            )
        )
    try:
        return parse_cargo_manifest(
            content,
            path=path,
            features=tgt[Pyo3FeaturesField].value,
            default_features=tgt[Pyo3DefaultFeaturesField].value,
        )
    except CargoManifestError as e:
        raise Pyo3ExtensionError(f"The `{Pyo3ExtensionTarget.alias}` target {tgt.address}: {e}")


@dataclass(frozen=True)
class CrateSourcesRequest:
    """The files cargo reads to build the `cargo_crate` at `address`: its own and its path
    dependencies' (and `files` it depends on), and its Cargo workspace's root manifest, lockfile and
    member manifests."""

    address: Address


@dataclass(frozen=True)
class CrateSources:
    sources: SourceFiles
    # The directories of the crate and of every `cargo_crate` it depends on.
    crate_dirs: tuple[str, ...]


@rule(desc="Find the files of a crate and its path dependencies", level=LogLevel.DEBUG)
async def crate_sources(request: CrateSourcesRequest) -> CrateSources:
    closure, workspace = await MultiGet(
        Get(TransitiveTargets, TransitiveTargetsRequest([request.address])),
        Get(CargoWorkspaceFiles, CargoWorkspaceFilesRequest(request.address.spec_path)),
    )
    sources = await Get(
        SourceFiles,
        SourceFilesRequest(
            [t.get(SourcesField) for t in closure.closure],
            for_sources_types=(CargoCrateSourcesField, FileSourceField),
        ),
    )
    crate_dirs = tuple(
        t.address.spec_path for t in closure.closure if t.has_field(CargoCrateSourcesField)
    )
    if workspace.snapshot.files:
        # cargo loads every member's manifest of the workspace it builds in, even members this
        # crate doesn't depend on, so those files go into the sandbox without being listed.
        merged = await Get(
            Snapshot, MergeDigests([sources.snapshot.digest, workspace.snapshot.digest])
        )
        sources = SourceFiles(merged, sources.unrooted_files)
    return CrateSources(sources, crate_dirs)


@dataclass(frozen=True)
class Pyo3CrateRequest:
    target: Target


@dataclass(frozen=True)
class Pyo3Crate:
    """The crate an extension builds: its target, files (with path dependencies) and manifest."""

    target: Target
    sources: SourceFiles
    crate_dirs: tuple[str, ...]
    manifest: CargoManifest


@rule(desc="Read the crate of a `pyo3_extension`", level=LogLevel.DEBUG)
async def read_pyo3_crate(request: Pyo3CrateRequest) -> Pyo3Crate:
    crate = await crate_target(request.target)
    files = await Get(CrateSources, CrateSourcesRequest(crate.address))
    manifest_contents = await Get(
        DigestContents,
        DigestSubset(
            files.sources.snapshot.digest,
            PathGlobs([os.path.join(crate.address.spec_path, "Cargo.toml")]),
        ),
    )
    return Pyo3Crate(
        crate,
        files.sources,
        files.crate_dirs,
        _read_manifest(request.target, crate, manifest_contents),
    )


def rules():
    return collect_rules()
