# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

from __future__ import annotations

import logging
import os

from pants.option.errors import OptionsError
from pants.option.option_types import BoolOption, StrListOption, StrOption
from pants.option.subsystem import Subsystem
from pants.util.strutil import softwrap
from pants_pyo3.target_types import MANYLINUX_RE

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
            crates.io through a proxy, or a variable a `build.rs` reads. Their values are part of
            the build's cache key.
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

    generate_stubs = BoolOption(
        default=False,
        help=softwrap(
            """
            Generate each `pyo3_extension`'s type stub (`<module>.pyi`, next to the module) from
            its crate with pyo3's `experimental-inspect` feature and `pyo3-introspection`, unless
            its package has a stub written by hand. A target's own `generate_stubs` field wins.
            """
        ),
    )

    _manylinux = StrOption(
        default="manylinux2014",
        help=softwrap(
            """
            The Linux systems wheels install on: a manylinux policy that modules are built for, or
            how to tag what this machine's linker makes. A target's own `manylinux` field wins.

            A policy such as `manylinux2014` (the default: glibc 2.17, what maturin-action builds
            and pip accepts on RHEL/Alma 8, Ubuntu 20.04, Debian 11 and newer) or `manylinux_2_28`:
            each module for a glibc Linux triple is linked, and its C code compiled, against that
            glibc with zig (`zig cc -target x86_64-linux-gnu.2.17`; the plugin installs zig from
            PyPI itself), and its wheel is tagged with the policy (`manylinux_2_17_x86_64.
            manylinux2014_x86_64`) after auditwheel confirms the module complies. A module whose
            code needs a newer glibc function is an error naming it. `cargo test` and `cargo
            clippy` keep this machine's linker.

            `auto`: this machine's linker; the most compatible manylinux tag the modules comply with
            (e.g. `manylinux_2_34_x86_64` on Debian 12), or a plain `linux_<arch>` tag if none.

            `off`: this machine's linker and the plain `linux_<arch>` tag, which PyPI refuses.

            A wheel is only ever tagged manylinux when its modules comply: the tag is never just
            renamed.
            """
        ),
    )

    @property
    def manylinux(self) -> str:
        value = self._manylinux.strip()
        if not MANYLINUX_RE.match(value):
            raise OptionsError(
                f"`[{self.options_scope}].manylinux` must be `auto`, `off` or a manylinux policy "
                f"such as `manylinux_2_17` or `manylinux2014`, but was {value!r}."
            )
        return value

    def manylinux_for(self, target_value: str | None) -> str:
        """The policy of an extension: its `manylinux` field if set, else this option."""
        return target_value or self.manylinux

    def expanded_search_paths(self, path_env: str | None) -> tuple[str, ...]:
        """The search paths with `<PATH>` replaced by the given PATH value."""
        result: list[str] = []
        for entry in self.search_paths:
            if entry == "<PATH>":
                result.extend(p for p in (path_env or "").split(os.pathsep) if p)
            else:
                result.append(entry)
        return tuple(dict.fromkeys(result))
