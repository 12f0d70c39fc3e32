"""A maturin project: metadata in pyproject.toml, version from Cargo.toml."""

from packaging.version import Version

from maturin_project._lib import crate_version

__version__ = "0.3.1"


def version() -> Version:
    return Version(crate_version())


def main() -> None:
    print(version())
