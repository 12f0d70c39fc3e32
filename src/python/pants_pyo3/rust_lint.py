# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""`pants lint` runs `cargo clippy` on `cargo_crate` targets; `pants fmt` (and `lint`) run `rustfmt`."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

import toml

from pants.core.goals.fmt import FmtResult, FmtTargetsRequest
from pants.core.goals.lint import LintResult, LintTargetsRequest
from pants.core.util_rules.partitions import Partition, Partitions, PartitionerType
from pants.core.util_rules.source_files import SourceFiles, SourceFilesRequest
from pants.engine.fs import Digest, DigestContents, MergeDigests, PathGlobs, Snapshot
from pants.engine.process import FallibleProcessResult, Process, ProcessResult
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.engine.target import BoolField, FieldSet, Target
from pants.option.option_types import ArgsListOption, BoolOption, SkipOption
from pants.option.subsystem import Subsystem
from pants.util.logging import LogLevel
from pants.util.strutil import help_text, pluralize, softwrap

from pants_pyo3.cargo_command import CargoCommandRequest
from pants_pyo3.target_types import CargoCrateSourcesField, CargoCrateTarget
from pants_pyo3.toolchain import RustComponent, RustComponentRequest, RustToolchain

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------
# cargo clippy
# ---------------------------------------------------------------------------------------------


class CargoClippySubsystem(Subsystem):
    options_scope = "cargo-clippy"
    name = "cargo clippy"
    help = "The Rust linter clippy, run with `cargo clippy --all-targets` on `cargo_crate` targets."

    skip = SkipOption("lint")
    args = ArgsListOption(
        example="--features foo",
        extra_help=help_text(
            """
            They are `cargo clippy` arguments; lint settings for clippy itself go in the crate
            (`[lints]` in `Cargo.toml`, `clippy.toml`) or after `--`, e.g.
            `['--', '-W', 'clippy::pedantic']`.
            """
        ),
    )
    deny_warnings = BoolOption(
        default=True,
        help=lambda cls: softwrap(
            f"""
            Fail `pants lint` on any clippy or compiler warning (`cargo clippy -- -D warnings`).
            Set `[{cls.options_scope}].deny_warnings = false` to report warnings without failing.
            """
        ),
    )


class SkipCargoClippyField(BoolField):
    alias = "skip_cargo_clippy"
    default = False
    help = "If true, `pants lint` does not run `cargo clippy` on this crate."


@dataclass(frozen=True)
class CargoClippyFieldSet(FieldSet):
    required_fields = (CargoCrateSourcesField,)

    sources: CargoCrateSourcesField

    @classmethod
    def opt_out(cls, tgt: Target) -> bool:
        return tgt.get(SkipCargoClippyField).value


class CargoClippyRequest(LintTargetsRequest):
    field_set_type = CargoClippyFieldSet
    tool_subsystem = CargoClippySubsystem
    # cargo checks one crate (and its path dependencies) at a time.
    partitioner_type = PartitionerType.DEFAULT_ONE_PARTITION_PER_INPUT


@rule(desc="Lint a Rust crate with cargo clippy", level=LogLevel.DEBUG)
async def run_cargo_clippy(
    request: CargoClippyRequest.Batch[CargoClippyFieldSet, Any], clippy: CargoClippySubsystem
) -> LintResult:
    (field_set,) = request.elements
    process = await Get(
        Process,
        CargoCommandRequest(
            address=field_set.address,
            mode="clippy",
            args=tuple(clippy.args),
            deny_warnings=clippy.deny_warnings,
            description=f"Run cargo clippy on {field_set.address}",
        ),
    )
    result = await Get(FallibleProcessResult, Process, process)
    return LintResult(
        exit_code=result.exit_code,
        stdout=result.stdout.decode(errors="replace"),
        stderr=result.stderr.decode(errors="replace"),
        linter_name=CargoClippyRequest.tool_name,
        partition_description=str(field_set.address),
    )


# ---------------------------------------------------------------------------------------------
# rustfmt
# ---------------------------------------------------------------------------------------------


class RustfmtSubsystem(Subsystem):
    options_scope = "rustfmt"
    name = "rustfmt"
    help = help_text(
        """
        The Rust formatter rustfmt, run on the `.rs` sources of `cargo_crate` targets with the
        crate's edition. `rustfmt.toml` / `.rustfmt.toml` files in the crate's directory or above
        are used, as with `cargo fmt`.
        """
    )

    skip = SkipOption("fmt", "lint")
    args = ArgsListOption(example="--config max_width=120")


class SkipRustfmtField(BoolField):
    alias = "skip_rustfmt"
    default = False
    help = "If true, `pants fmt` and `pants lint` don't run rustfmt on this crate."


@dataclass(frozen=True)
class RustfmtFieldSet(FieldSet):
    required_fields = (CargoCrateSourcesField,)

    sources: CargoCrateSourcesField

    @classmethod
    def opt_out(cls, tgt: Target) -> bool:
        return tgt.get(SkipRustfmtField).value


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
        *CargoClippyRequest.rules(),
        *RustfmtRequest.rules(),
        CargoCrateTarget.register_plugin_field(SkipCargoClippyField),
        CargoCrateTarget.register_plugin_field(SkipRustfmtField),
    ]
