# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

from __future__ import annotations

import logging
import os
import re

from pants.option.errors import OptionsError
from pants.option.option_types import BoolOption, StrListOption, StrOption
from pants.option.subsystem import Subsystem
from pants.util.strutil import softwrap

logger = logging.getLogger(__name__)


_MANYLINUX_RE = re.compile(r"^(auto|off|manylinux_\d+_\d+|manylinux2014|manylinux2010|manylinux1)$")


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
    host_only = BoolOption(
        default=False,
        help=lambda cls: softwrap(
            f"""
            Build each `pyo3_extension` for this machine's target triple only, leaving out the
            other `target_triples` (and their wheels), e.g. on a machine without the cross
            toolchain they need (not root, or no apt: see README). An extension whose
            `target_triples` leave out this machine's triple is an error. Set it with
            `--{cls.options_scope}-host-only` or `PANTS_PYO3_HOST_ONLY=true`.
            """
        ),
    )

    _manylinux = StrOption(
        default="auto",
        help=softwrap(
            """
            Which manylinux tag wheels holding extensions get, checked with auditwheel's rules (the
            glibc symbol versions and shared libraries each module uses):

            `auto`: the most compatible manylinux tag the modules comply with (e.g.
            `manylinux_2_34_x86_64` for a module that needs glibc 2.34); a plain `linux_<arch>`
            tag if they comply with none.

            A policy such as `manylinux_2_28` (or its legacy alias `manylinux2014`): that tag,
            and an error if a module does not comply with it.

            `off`: the plain `linux_<arch>` tag, which PyPI refuses.

            A wheel is only ever tagged manylinux when its modules comply: the tag is never just
            renamed.
            """
        ),
    )

    @property
    def manylinux(self) -> str:
        value = self._manylinux.strip()
        if not _MANYLINUX_RE.match(value):
            raise OptionsError(
                f"`[{self.options_scope}].manylinux` must be `auto`, `off` or a manylinux policy "
                f"such as `manylinux_2_17` or `manylinux2014`, but was {value!r}."
            )
        return value

    def expanded_search_paths(self, path_env: str | None) -> tuple[str, ...]:
        """The search paths with `<PATH>` replaced by the given PATH value."""
        result: list[str] = []
        for entry in self.search_paths:
            if entry == "<PATH>":
                result.extend(p for p in (path_env or "").split(os.pathsep) if p)
            else:
                result.append(entry)
        return tuple(dict.fromkeys(result))
