# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

from __future__ import annotations

import logging
import os

from pants.option.option_types import StrListOption
from pants.option.subsystem import Subsystem
from pants.util.strutil import softwrap

logger = logging.getLogger(__name__)


class Pyo3Subsystem(Subsystem):
    options_scope = "pyo3"
    help = "Options for building Rust crates into PyO3 Python extension modules with cargo."

    search_paths = StrListOption(
        default=["<PATH>"],
        help=softwrap(
            """
            Directories to search for `cargo`, `rustc` and the C compiler `cc` that links the
            extension. The special string `<PATH>` expands to the PATH Pants runs with.
            """
        ),
        advanced=True,
    )
    extra_env_vars = StrListOption(
        default=[],
        help=softwrap(
            """
            Environment variables passed to cargo in addition to the ones the plugin sets, as `NAME`
            (taken from the environment Pants runs in) or `NAME=value`, e.g. `HTTPS_PROXY` to reach
            crates.io through a proxy, or a variable a `build.rs` reads. Their values are part of the
            build's cache key.
            """
        ),
        advanced=True,
    )
    cargo_args = StrListOption(
        default=[],
        help=lambda cls: softwrap(
            f"""
            Extra arguments for every `cargo build`, before a target's own `cargo_args`. Set
            `[{cls.options_scope}].cargo_args = ["--frozen"]` in CI to forbid network access.
            """
        ),
        advanced=True,
    )

    def expanded_search_paths(self, path_env: str | None) -> tuple[str, ...]:
        """The search paths with `<PATH>` replaced by the given PATH value."""
        result: list[str] = []
        for entry in self.search_paths:
            if entry == "<PATH>":
                result.extend(p for p in (path_env or "").split(os.pathsep) if p)
            else:
                result.append(entry)
        return tuple(dict.fromkeys(result))
