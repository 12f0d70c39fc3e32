# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""Run `cargo test` or `cargo clippy` on one crate, in the same named cache as the builds.

Like the build driver (`build_extension.py`, shipped beside this file into the sandbox), this
script runs inside a Pants sandbox under the crate's Python interpreter, so it must work on every
CPython the plugin supports (3.8+) with only the standard library. It reuses the build driver's
mirror, lock, `RUSTC_WRAPPER` and interpreter tag, so cargo's registry, the compiled dependencies
and the build scripts' outputs are shared with `pants package` instead of being compiled again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import os
import re
import subprocess
import sys
import sysconfig


@dataclasses.dataclass(frozen=True)
class CargoCommandConfig:
    """What the cargo command rule tells this program (JSON, as for the build driver's
    `BuildConfig`)."""

    # `test` or `clippy`, and the arguments after cargo's own.
    mode: str
    args: list[str]
    deny_warnings: bool
    crate_dir: str
    files: list[str]
    cargo: str
    target_triple: str
    # The build's ABI tag, so cargo reuses the build's target directory.
    abi_tag: str
    cache_dir: str


# The build driver is shipped into the sandbox root under this module name.
BUILD_DRIVER_MODULE = "__pants_pyo3_build"

# Where rustc and the test harness name a source file relative to the crate (cargo runs them in
# the crate's directory): diagnostics (`--> src/lib.rs:3:5`) and panics
# (`panicked at src/lib.rs:7:9`).
_CRATE_RELATIVE_PATH_RE = re.compile(r"(-->\s+|panicked at )([A-Za-z0-9_.][^\s:]*\.rs)(?=:\d)")


def buildroot_paths(text: str, mirror: str, crate_dir: str) -> str:
    """Show paths as the user knows them: relative to the build root, not to the cache's mirror."""
    for old in (mirror + os.sep, "/pyo3/src/"):
        text = text.replace(old, "")

    def prefix(m):
        path = m.group(2)
        if path.startswith(crate_dir + "/") or not os.path.isfile(
            os.path.join(mirror, crate_dir, path)
        ):
            return m.group(0)
        return m.group(1) + os.path.join(crate_dir, path)

    return _CRATE_RELATIVE_PATH_RE.sub(prefix, text)


def run_env(cfg: CargoCommandConfig, build, layout: dict) -> dict:
    """The environment cargo runs with: the build driver's, and what the mode needs."""
    env = build.cargo_env(layout)
    tag = cfg.abi_tag
    if cfg.mode == "clippy":
        # The same settings as the build, in the build's target directory, so clippy reuses the
        # build scripts' outputs (pyo3's configuration) and only checks: nothing is linked.
        env["PYO3_BUILD_EXTENSION_MODULE"] = "1"
    else:
        # Test binaries are executables, which must link libpython: without
        # PYO3_BUILD_EXTENSION_MODULE pyo3 links it (an extension module must not). pyo3's build
        # script reruns when that variable changes, so the test build gets its own `-C metadata`
        # and sits beside the extension build in the target directory instead of replacing it.
        env.pop("PYO3_BUILD_EXTENSION_MODULE", None)
        env["RUSTFLAGS"] = (env.get("RUSTFLAGS", "") + " -Cmetadata=pants-pyo3-test-" + tag).strip()
        if sysconfig.get_config_var("Py_ENABLE_SHARED"):
            libdir = sysconfig.get_config_var("LIBDIR") or ""
            env["LD_LIBRARY_PATH"] = os.pathsep.join(
                p for p in (libdir, env.get("LD_LIBRARY_PATH", "")) if p
            )
    return env


CLIPPY_CONFIGS = ("clippy.toml", ".clippy.toml")


def relint_if_clippy_config_changed(cfg: CargoCommandConfig, cache: str, mirror: str) -> None:
    """Make cargo lint the crate again when its clippy configuration changed.

    cargo doesn't track `clippy.toml`, so a crate it considers fresh would keep the old lints.
    Touching the crate's sources (in the mirror, only when the configuration changed) makes it
    check the crate again; the build recompiles that one crate once too.
    """
    digest = hashlib.sha256()
    for name in CLIPPY_CONFIGS:
        rel = os.path.join(cfg.crate_dir, name)
        if rel in cfg.files:
            with open(rel, "rb") as f:
                digest.update(name.encode() + b"\0" + f.read() + b"\0")
    stamp = os.path.join(cache, "clippy-config", cfg.crate_dir.replace("/", "+") or "root")
    current = digest.hexdigest()
    previous = None
    if os.path.isfile(stamp):
        with open(stamp) as f:
            previous = f.read()
    if previous == current:
        return
    if previous is not None:
        for rel in cfg.files:
            if rel.startswith(cfg.crate_dir + "/") and rel.endswith(".rs"):
                os.utime(os.path.join(mirror, rel))
    os.makedirs(os.path.dirname(stamp), exist_ok=True)
    with open(stamp, "w") as f:
        f.write(current)


def argv_for(cfg: CargoCommandConfig, manifest: str, lock_dir: str | None) -> list:
    """cargo's command line; `--locked` when the crate has a lock file (in `lock_dir`)."""
    common = ["--manifest-path", manifest, "--target", cfg.target_triple]
    if lock_dir is not None:
        common.append("--locked")
    if cfg.mode == "test":
        return [cfg.cargo, "test", *common, *cfg.args]
    argv = [cfg.cargo, "clippy", *common, "--all-targets", *cfg.args]
    if cfg.deny_warnings:
        # Clippy's own arguments follow a single `--`, which the user's may already hold.
        argv += ["-D", "warnings"] if "--" in cfg.args else ["--", "-D", "warnings"]
    return argv


def main() -> None:
    build = importlib.import_module(BUILD_DRIVER_MODULE)
    cfg = build.read_config(CargoCommandConfig, sys.argv[1])
    key = build.target_key(cfg.target_triple, cfg.abi_tag)
    cache, layout = build.prepared_cache(cfg.cache_dir, key)
    mirror = layout["mirror"]
    manifest = os.path.join(mirror, cfg.crate_dir, "Cargo.toml")
    env = run_env(cfg, build, layout)
    lock_dir = build.lock_dir_of(cfg.files, cfg.crate_dir)
    # The mirror is held exclusively: re-linting touches its files.
    with build.mirror_synced(
        cache, cfg.files, cfg.crate_dir, exclusive=True
    ), build.target_dir_locked(cache, key):
        if cfg.mode == "clippy":
            relint_if_clippy_config_changed(cfg, cache, mirror)
        # The build's wrapper, with the build's remaps: rewriting it with others would change what
        # the build's next compile embeds.
        build.write_rustc_wrapper(cache, key)
        if cfg.mode == "test":
            # `cargo test` also writes the crate's cdylib (linked for tests), under the name the
            # build uses in a `dev`-profile build: the next build must write its own again.
            build.LibraryOwners(layout["target_dir"]).forget(manifest)
        proc = subprocess.run(
            argv_for(cfg, manifest, lock_dir),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=os.path.dirname(manifest),
        )
    stderr = proc.stderr.decode("utf-8", "replace")
    outdated_lock = proc.returncode != 0 and build.lockfile_outdated(stderr)
    if outdated_lock:
        stderr = build.without_locked_advice(stderr)
    for text, stream in (
        (proc.stdout.decode("utf-8", "replace"), sys.stdout),
        (stderr, sys.stderr),
    ):
        stream.write(buildroot_paths(text, mirror, cfg.crate_dir))
        stream.flush()
    if outdated_lock:
        sys.stderr.write("\n" + build.lockfile_fix(lock_dir or cfg.crate_dir) + "\n")
    if proc.returncode != 0 and cfg.mode == "test" and b"undefined symbol: Py" in proc.stderr:
        sys.stderr.write(
            "\nThe test binary could not link libpython. Tests that call into Python need it: "
            "remove pyo3's deprecated `extension-module` feature from {} (pants-pyo3 sets "
            "PYO3_BUILD_EXTENSION_MODULE for the module's build instead).\n".format(
                os.path.join(cfg.crate_dir, "Cargo.toml")
            )
        )
    sys.exit(proc.returncode)


if __name__ == "__main__":
    main()
