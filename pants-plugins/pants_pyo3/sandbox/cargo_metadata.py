# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""Print `cargo metadata` of one crate for one target triple and its features, with its Cargo.lock.

The plugin writes a wheel's SBOM from it (wheel/sbom.py). Like the other cargo drivers, this script
runs inside a Pants sandbox under the crate's Python interpreter (CPython 3.8+, standard library
only), in the build's named cache: cargo reads the crate from the build's mirror (so a crate without
a Cargo.lock gets the one its build generated) with the build's registry, after the build, so the
dependencies are downloaded already.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import subprocess
import sys

# The build driver is shipped into the sandbox root under this module name (run_cargo.py's).
BUILD_DRIVER_MODULE = "__pants_pyo3_build"
EXIT_CARGO_FAILED = 10


@dataclasses.dataclass(frozen=True)
class CargoMetadataConfig:
    """What the SBOM rule tells this program (JSON, as for the build driver's `BuildConfig`)."""

    crate_dir: str
    files: list[str]
    cargo: str
    target_triple: str
    features: list[str]
    default_features: bool
    cache_dir: str


def argv_for(cfg: CargoMetadataConfig, manifest: str, lock_dir: str | None) -> list:
    argv = [
        cfg.cargo,
        "metadata",
        "--format-version",
        "1",
        "--manifest-path",
        manifest,
        "--filter-platform",
        cfg.target_triple,
    ]
    if lock_dir is not None:
        argv.append("--locked")
    if cfg.features:
        argv += ["--features", ",".join(cfg.features)]
    if not cfg.default_features:
        argv.append("--no-default-features")
    return argv


def main() -> None:
    build = importlib.import_module(BUILD_DRIVER_MODULE)
    cfg = build.read_config(CargoMetadataConfig, sys.argv[1])
    # The cargo home is the same for every target directory.
    key = build.target_key(cfg.target_triple, "metadata")
    cache, layout = build.prepared_cache(cfg.cache_dir, key)
    mirror = layout["mirror"]
    manifest = os.path.join(mirror, cfg.crate_dir, "Cargo.toml")
    env = dict(os.environ, CARGO_HOME=layout["cargo_home"], CARGO_TERM_COLOR="never")
    lock_dir = build.lock_dir_of(cfg.files, cfg.crate_dir)
    with build.mirror_synced(cache, cfg.files, cfg.crate_dir):
        proc = subprocess.run(
            argv_for(cfg, manifest, lock_dir),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=os.path.dirname(manifest),
        )
        if proc.returncode != 0:
            # An outdated lock is the same failure as the build's, which runs beside this: the same
            # error.
            build.write_cargo_errors(proc.stderr, mirror, lock_dir)
            build.fail(EXIT_CARGO_FAILED, "cargo metadata exited with {}.".format(proc.returncode))
        metadata = json.loads(proc.stdout.decode("utf-8"))
        # The lock cargo used: the workspace's, next to its root manifest.
        lock_path = os.path.join(metadata["workspace_root"], "Cargo.lock")
        with open(lock_path, encoding="utf-8") as f:
            lock = f.read()
    json.dump({"metadata": metadata, "lock": lock, "mirror": mirror}, sys.stdout, sort_keys=True)


if __name__ == "__main__":
    main()
