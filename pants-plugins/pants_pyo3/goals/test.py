# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""`pants test` runs `cargo test` for `cargo_crate` targets."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from pants.core.goals.test import TestFieldSet, TestRequest, TestResult, TestSubsystem
from pants.engine.process import FallibleProcessResult, ProcessCacheScope
from pants.engine.rules import Get, collect_rules, rule
from pants.engine.target import BoolField
from pants.option.option_types import ArgsListOption, SkipOption
from pants.option.subsystem import Subsystem
from pants.util.logging import LogLevel
from pants.util.strutil import help_text
from pants_pyo3.build.cargo_command import CargoCommandRequest
from pants_pyo3.target_types import CargoCrateFieldSet, CargoCrateTarget

logger = logging.getLogger(__name__)


class CargoTestSubsystem(Subsystem):
    options_scope = "cargo-test"
    name = "cargo test"
    help = help_text(
        """
        Options for running the Rust tests of `cargo_crate` targets with `cargo test` in
        `pants test`.
        """
    )

    skip = SkipOption("test")
    args = ArgsListOption(
        example="--lib -- --test-threads=1",
        extra_help=help_text(
            """
            They come after the plugin's own arguments (`--manifest-path`, `--target`, `--locked`);
            put the test binaries' arguments after `--`.
            """
        ),
    )


class SkipCargoTestField(BoolField):
    alias = "skip_cargo_test"
    default = False
    help = help_text(
        """
        If true, `pants test` does not run `cargo test` for this crate (e.g. for a crate whose
        tests need a service that is not available in the test sandbox).
        """
    )


@dataclass(frozen=True)
class CargoTestFieldSet(CargoCrateFieldSet, TestFieldSet):
    skip_field = SkipCargoTestField


class CargoTestRequest(TestRequest):
    tool_subsystem = CargoTestSubsystem
    field_set_type = CargoTestFieldSet


@rule(desc="Test a Rust crate with cargo test", level=LogLevel.DEBUG)
async def run_cargo_test(
    batch: CargoTestRequest.Batch[CargoTestFieldSet, Any],
    test_subsystem: TestSubsystem,
    cargo_test: CargoTestSubsystem,
) -> TestResult:
    field_set = batch.single_element
    result = await Get(
        FallibleProcessResult,
        CargoCommandRequest(
            address=field_set.address,
            mode="test",
            args=tuple(cargo_test.args),
            description=f"Run cargo test for {field_set.address}",
            # Like every Pants test runner: a passing result is cached, a failure is rerun.
            cache_scope=(
                ProcessCacheScope.PER_SESSION
                if test_subsystem.force
                else ProcessCacheScope.SUCCESSFUL
            ),
        ),
    )
    return TestResult.from_fallible_process_result(result, field_set.address, test_subsystem.output)


def rules():
    return [
        *collect_rules(),
        *CargoTestRequest.rules(),
        CargoCrateTarget.register_plugin_field(SkipCargoTestField),
    ]
