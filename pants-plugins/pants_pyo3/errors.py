# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""Every error pants-pyo3 raises for bad input, under one root.

Each message names what is wrong (the target, field or option) and the fix. An `assert` is kept
for the plugin's own bugs only.
"""

from __future__ import annotations

from pants.core.util_rules.system_binaries import BinaryNotFoundError


class Pyo3Error(Exception):
    """The root: input pants-pyo3 can't use as given; the message says how to fix it."""


class Pyo3ExtensionError(Pyo3Error):
    """A `pyo3_extension` can't be built as declared."""


class Pyo3BuildError(Pyo3ExtensionError):
    """cargo (or the checks of the module it built) failed."""


class Pyo3ImportCheckError(Pyo3BuildError):
    """A module built for this machine raises (or panics, or crashes) when it is imported."""


class Pyo3LockfileOutdatedError(Pyo3BuildError):
    """A crate's `Cargo.lock` doesn't match its `Cargo.toml`, and builds use `--locked`."""

    @classmethod
    def for_target(cls, address: object, stderr: str) -> Pyo3LockfileOutdatedError:
        """The error for `address`, whichever cargo command (build, metadata) found the lock out of
        date; `stderr` is cargo's complaint followed by the fix (the sandbox programs write it)."""
        return cls(
            f"Building the `pyo3_extension` target {address} failed: the crate's Cargo.lock does "
            f"not match its Cargo.toml.\n\n{stderr}"
        )


class Pyo3StubsError(Pyo3ExtensionError):
    """An extension's type stub can't be generated from its crate."""


class Pyo3InterpreterMismatchError(Pyo3ExtensionError):
    """A consumer runs an interpreter the extension isn't built for."""


class Pyo3InterpreterNotFoundError(Pyo3ExtensionError):
    """The constraints admit a version with no interpreter, or none of the universe."""


class Pyo3WheelPlanError(Pyo3ExtensionError):
    """A distribution's wheels can't be planned from its extensions."""


class Pyo3ManylinuxError(Pyo3ExtensionError):
    """A module doesn't comply with the asked manylinux policy."""


class Pyo3GlibcBaselineError(Pyo3BuildError):
    """A crate's code calls a glibc function that its manylinux baseline's glibc lacks."""


class CargoManifestError(Pyo3ExtensionError, ValueError):
    """A crate's `Cargo.toml` can't be used to build a PyO3 extension."""


class CargoPathDependencyError(Pyo3Error):
    """A crate's path dependency has no target owning its files (or lies outside the build root)."""


class Pyo3PyprojectError(Pyo3Error):
    """A distribution's `pyproject.toml` can't give its metadata."""


class CrossToolchainError(Pyo3Error, ValueError):
    """A `[pyo3-cross]` toolchain entry is malformed; the message names the triple and the fix."""


class RustToolchainNotFoundError(Pyo3Error, BinaryNotFoundError):
    """No cargo/rustc where `[pyo3].search_paths` looks."""


class RustComponentNotFoundError(Pyo3Error):
    """A rustup component (clippy, rustfmt) is missing from the toolchain builds use."""


class Pyo3SdistError(Pyo3Error):
    """A distribution's sdist can't be made as declared."""


class Pyo3VersionMismatchError(Pyo3Error):
    """A distribution's version is written differently in its BUILD file, crates and packages."""


class Pyo3VersionBumpError(Pyo3Error):
    """The versions can't be bumped as asked."""


class InconsistentVersionsError(Pyo3VersionBumpError):
    """The places a version is written disagree."""


class Pyo3SbomError(Pyo3Error):
    """The crates compiled into a module can't be listed for its wheel's SBOM."""


class Pyo3LicenseError(Pyo3Error):
    """A distribution's license metadata (PEP 639) can't be written as declared."""


class Pyo3DevelopError(Pyo3Error):
    """`pyo3-develop` can't place a module for the interpreter asked for."""
