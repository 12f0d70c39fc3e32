# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""`pants lint` runs `cargo clippy` on `cargo_crate` targets."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from pants.core.goals.lint import LintResult, LintTargetsRequest
from pants.core.util_rules.partitions import PartitionerType
from pants.engine.process import FallibleProcessResult
from pants.engine.rules import Get, collect_rules, rule
from pants.util.logging import LogLevel
from pants_pyo3.build.cargo_command import CargoCommandRequest
from pants_pyo3.lint.clippy.subsystem import CargoClippySubsystem, SkipCargoClippyField
from pants_pyo3.target_types import CargoCrateFieldSet, CargoCrateTarget

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CargoClippyFieldSet(CargoCrateFieldSet):
    skip_field = SkipCargoClippyField


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
    result = await Get(
        FallibleProcessResult,
        CargoCommandRequest(
            address=field_set.address,
            mode="clippy",
            args=tuple(clippy.args),
            deny_warnings=clippy.deny_warnings,
            description=f"Run cargo clippy on {field_set.address}",
        ),
    )
    return LintResult(
        exit_code=result.exit_code,
        stdout=result.stdout.decode(errors="replace"),
        stderr=result.stderr.decode(errors="replace"),
        linter_name=CargoClippyRequest.tool_name,
        partition_description=str(field_set.address),
    )


def rules():
    return [
        *collect_rules(),
        *CargoClippyRequest.rules(),
        CargoCrateTarget.register_plugin_field(SkipCargoClippyField),
    ]
