# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""The `[cargo-clippy]` options and the `skip_cargo_clippy` field."""

from __future__ import annotations

import logging

from pants.engine.target import BoolField
from pants.option.option_types import ArgsListOption, BoolOption, SkipOption
from pants.option.subsystem import Subsystem
from pants.util.strutil import help_text, softwrap

logger = logging.getLogger(__name__)


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
