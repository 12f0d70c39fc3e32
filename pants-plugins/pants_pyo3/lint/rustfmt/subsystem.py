# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""The `[rustfmt]` options and the `skip_rustfmt` field."""

from __future__ import annotations

import logging

from pants.engine.target import BoolField
from pants.option.option_types import ArgsListOption, SkipOption
from pants.option.subsystem import Subsystem
from pants.util.strutil import help_text

logger = logging.getLogger(__name__)


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
