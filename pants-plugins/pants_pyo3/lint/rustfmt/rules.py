# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""`pants fmt` (and `lint`) run rustfmt on the `.rs` sources of `cargo_crate` targets."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import toml
from pants.core.goals.fmt import FmtResult, FmtTargetsRequest
from pants.core.util_rules.partitions import Partition, PartitionerType, Partitions
from pants.core.util_rules.source_files import SourceFiles, SourceFilesRequest
from pants.engine.fs import Digest, DigestContents, MergeDigests, PathGlobs, Snapshot
from pants.engine.process import Process, ProcessResult
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.util.logging import LogLevel
from pants.util.strutil import pluralize
from pants_pyo3.lint.rustfmt.subsystem import RustfmtSubsystem, SkipRustfmtField
from pants_pyo3.target_types import CargoCrateFieldSet, CargoCrateTarget
from pants_pyo3.toolchain.rust import RustComponent, RustComponentRequest, RustToolchain

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RustfmtFieldSet(CargoCrateFieldSet):
    skip_field = SkipRustfmtField


class RustfmtRequest(FmtTargetsRequest):
    field_set_type = RustfmtFieldSet
    tool_subsystem = RustfmtSubsystem
    partitioner_type = PartitionerType.CUSTOM


_RUSTFMT_CONFIGS = ("rustfmt.toml", ".rustfmt.toml")


@dataclass(frozen=True)
class RustfmtPartitionInfo:
    """One crate's files share an edition (a rustfmt argument) and config files."""

    crate: str
    edition: str
    config_snapshot: Snapshot

    @property
    def description(self) -> str:
        return self.crate


def _crate_edition(contents: DigestContents, crate_dir: str) -> str:
    path = os.path.join(crate_dir, "Cargo.toml")
    for fc in contents:
        if fc.path == path:
            try:
                package = toml.loads(fc.content.decode()).get("package", {})
            except (UnicodeDecodeError, toml.TomlDecodeError):
                break
            edition = package.get("edition") if isinstance(package, dict) else None
            if isinstance(edition, str):
                return edition
    # cargo's default when `Cargo.toml` has no `edition`.
    return "2015"


def _ancestor_dirs(path: str) -> list[str]:
    parts = path.split("/") if path else []
    return ["/".join(parts[:i]) for i in range(len(parts) + 1)]


@rule(desc="Partition Rust files by crate for rustfmt", level=LogLevel.DEBUG)
async def partition_rustfmt(
    request: RustfmtRequest.PartitionRequest[RustfmtFieldSet], rustfmt: RustfmtSubsystem
) -> Partitions[str, RustfmtPartitionInfo]:
    if rustfmt.skip:
        return Partitions()
    all_sources = await MultiGet(
        Get(SourceFiles, SourceFilesRequest([fs.sources])) for fs in request.field_sets
    )
    manifests = await MultiGet(
        Get(DigestContents, PathGlobs([os.path.join(fs.address.spec_path, "Cargo.toml")]))
        for fs in request.field_sets
    )
    configs = await MultiGet(
        Get(
            Snapshot,
            PathGlobs(
                os.path.join(d, name)
                for d in _ancestor_dirs(fs.address.spec_path)
                for name in _RUSTFMT_CONFIGS
            ),
        )
        for fs in request.field_sets
    )
    partitions = []
    for fs, sources, manifest, config in zip(request.field_sets, all_sources, manifests, configs):
        files = tuple(f for f in sources.snapshot.files if f.endswith(".rs"))
        if not files:
            continue
        info = RustfmtPartitionInfo(
            crate=str(fs.address),
            edition=_crate_edition(manifest, fs.address.spec_path),
            config_snapshot=config,
        )
        partitions.append(Partition(files, info))
    return Partitions(partitions)


@rule(desc="Format Rust files with rustfmt", level=LogLevel.DEBUG)
async def rustfmt_fmt(
    request: RustfmtRequest.Batch[str, RustfmtPartitionInfo],
    rustfmt: RustfmtSubsystem,
    toolchain: RustToolchain,
) -> FmtResult:
    info = request.partition_metadata
    assert isinstance(info, RustfmtPartitionInfo), "rustfmt partitions carry their crate's settings"
    component = await Get(RustComponent, RustComponentRequest("rustfmt"))
    input_digest = await Get(
        Digest, MergeDigests([request.snapshot.digest, info.config_snapshot.digest])
    )
    result = await Get(
        ProcessResult,
        Process(
            argv=(
                component.binary.path,
                "--edition",
                info.edition,
                *rustfmt.args,
                *request.files,
            ),
            input_digest=input_digest,
            output_files=request.files,
            env={
                "PATH": os.pathsep.join(toolchain.path),
                # Part of the cache key: another rustfmt may format differently.
                "__PANTS_PYO3_RUSTFMT": component.binary.fingerprint,
            },
            description=f"Run rustfmt on {pluralize(len(request.files), 'file')} of {info.crate}",
            level=LogLevel.DEBUG,
        ),
    )
    return await FmtResult.create(request, result)


def rules():
    return [
        *collect_rules(),
        *RustfmtRequest.rules(),
        CargoCrateTarget.register_plugin_field(SkipRustfmtField),
    ]
