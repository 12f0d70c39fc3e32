# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""Build the plugin's stub generator (`stubs/stubgen`, a small Rust program) with cargo.

Like the build driver (`build_extension.py`, shipped beside this file into the sandbox), this
script runs inside a Pants sandbox with only the standard library. It builds in the same named
cache as the extensions, with the same cargo registry, in a target directory of its own: the
generator's sources are mirrored into a fixed directory there first (as the driver mirrors crates),
so cargo finds everything fresh after the first build and a rebuild after a Pants cache miss costs
seconds.
"""

from __future__ import annotations

import dataclasses
import fcntl
import importlib
import json
import os
import shutil
import subprocess
import sys

# The build driver is shipped into the sandbox root under this module name.
BUILD_DRIVER_MODULE = "__pants_pyo3_build"
BINARY = "pants-pyo3-stubgen"


@dataclasses.dataclass(frozen=True)
class StubgenConfig:
    """What the stub generator's rule tells this program (JSON, as for `BuildConfig`)."""

    # The generator's crate directory in the sandbox, and its files.
    crate_dir: str
    files: list[str]
    cargo: str
    cache_dir: str
    # Where the binary goes (relative to the sandbox).
    output: str


def main() -> None:
    build = importlib.import_module(BUILD_DRIVER_MODULE)
    cfg = build.read_config(StubgenConfig, sys.argv[1])
    cache = os.path.realpath(cfg.cache_dir)
    home = os.path.join(cache, "tools", BINARY)
    mirror = os.path.join(home, "src")
    target_dir = os.path.join(home, "target")
    cargo_home = build.cache_layout(cache, "")["cargo_home"]
    os.makedirs(mirror, exist_ok=True)
    os.makedirs(cargo_home, exist_ok=True)
    env = dict(os.environ)
    env.update(
        CARGO_HOME=cargo_home,
        CARGO_TARGET_DIR=target_dir,
        CARGO_TERM_COLOR=env.get("CARGO_TERM_COLOR", "never"),
    )
    manifest = os.path.join(mirror, cfg.crate_dir, "Cargo.toml")
    with build._lock(home + ".lock", fcntl.LOCK_EX):
        build.sync_mirror(cfg.files, cfg.crate_dir, mirror)
        proc = subprocess.run(
            [
                cfg.cargo,
                "build",
                "--release",
                "--locked",
                "--manifest-path",
                manifest,
                "--message-format=json-render-diagnostics",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=os.path.dirname(manifest),
        )
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr.decode("utf-8", "replace").replace(mirror + os.sep, ""))
            build.fail(
                build.EXIT_CARGO_FAILED, "cargo exited with code {}.".format(proc.returncode)
            )
        executable = None
        for line in proc.stdout.decode("utf-8", "replace").splitlines():
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if msg.get("reason") == "compiler-artifact" and msg.get("executable"):
                executable = msg["executable"]
        if executable is None:
            build.fail(build.EXIT_NO_LIBRARY, "cargo built no {} binary.".format(BINARY))
        os.makedirs(os.path.dirname(cfg.output) or ".", exist_ok=True)
        shutil.copy2(executable, cfg.output)


if __name__ == "__main__":
    main()
