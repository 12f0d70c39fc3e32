# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""`[pyo3-cross]`: the toolchains that build `pyo3_extension` targets for non-host triples."""

from __future__ import annotations

import logging
from typing import Any

from pants.option.option_types import DictOption
from pants.option.subsystem import Subsystem
from pants.util.strutil import softwrap
from pants_pyo3.errors import CrossToolchainError
from pants_pyo3.toolchain.cross import TOOLCHAIN_KEYS, CrossToolchain, parse_toolchains

logger = logging.getLogger(__name__)

SETUP_SCRIPT = "build-support/cross/setup-aarch64.sh"


class Pyo3CrossSubsystem(Subsystem):
    options_scope = "pyo3-cross"
    help = softwrap(
        """
        Toolchains that build PyO3 extensions for target triples other than this machine's (e.g.
        `aarch64-unknown-linux-gnu` on an x86_64 machine), and run what they build under emulation.
        See docs/cross.md.
        """
    )

    # Read through `toolchains()`, which validates the entries.
    _toolchains = DictOption[Any](
        default={},
        help=lambda cls: softwrap(
            f"""
            A toolchain per target triple, as a dict from the triple to a dict of paths:

            `rustc`: a rustc that has the triple's standard library (`rustc --print target-libdir
            --target <triple>` exists). On Debian: `/usr/bin/rustc` from `rustc-web`, with
            `libstd-rust-web-dev:arm64` for aarch64.

            `cargo`: the cargo that drives it, best of the same release (`/usr/bin/cargo` from
            `cargo-web`).

            `linker`: the C compiler driver that links for the triple, e.g.
            `/usr/bin/aarch64-linux-gnu-gcc`.

            `sysroot` (optional): the triple's root file system, holding its C library and its
            CPython (`usr/bin/python3.X` and `usr/lib/python3.X/_sysconfigdata_*.py`, read without
            running it). Needed to compile a version-specific (non-abi3) module against the exact
            target interpreter and to test it; abi3 modules need none.

            `runner` (optional): a command prefix that runs the triple's programs on this machine,
            e.g. `qemu-aarch64 -L {{sysroot}}` (`{{sysroot}}` is replaced by the `sysroot` value).
            Without it, modules for the triple are built but not tested.

            The paths differ per machine, so don't write them into `pants.toml`: `{SETUP_SCRIPT}`
            installs the aarch64 toolchain and writes its entry to
            `/opt/pants-pyo3/cross/<triple>/toolchain.json`, and the repo's `./pants` script passes
            every such file to Pants as `PANTS_PYO3_CROSS_TOOLCHAINS`. Set that variable (or
            `[{cls.options_scope}].toolchains`) yourself to use other tools, e.g. zig as the linker.
            """
        ),
        advanced=True,
    )

    def toolchains(self) -> dict[str, CrossToolchain]:
        """Every configured toolchain, validated; a malformed entry is an error that names it."""
        try:
            return parse_toolchains(self._toolchains)
        except CrossToolchainError as e:
            raise CrossToolchainError(
                softwrap(
                    f"""
                    `[{self.options_scope}].toolchains` is not valid: {e} Each entry maps a triple
                    to a dict with the keys {', '.join(TOOLCHAIN_KEYS)}; see `./pants help-advanced
                    {self.options_scope}`.
                    """
                )
            ) from e


def rules():
    return [*Pyo3CrossSubsystem.rules()]
