"""The `src/` layout: the Python package under `src/`, next to the crate's `lib.rs`."""

from srclayout._rust import greet

__all__ = ["greet"]
