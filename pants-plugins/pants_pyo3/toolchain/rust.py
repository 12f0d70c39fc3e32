# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""Finding the Rust toolchain (cargo, rustc and their components) that builds use."""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass

from pants.core.util_rules.system_binaries import (
    BinaryNotFoundError,
    BinaryPath,
    BinaryPathRequest,
    BinaryPaths,
    BinaryPathTest,
)
from pants.engine.env_vars import EnvironmentVars, EnvironmentVarsRequest
from pants.engine.internals.session import RunId
from pants.engine.process import Process, ProcessCacheScope, ProcessResult
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.util.logging import LogLevel
from pants.util.strutil import softwrap
from pants_pyo3.errors import RustComponentNotFoundError, RustToolchainNotFoundError
from pants_pyo3.subsystems.pyo3 import Pyo3Subsystem

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RustToolchain:
    """The cargo/rustc pair builds run with, identified by `rustc -vV`."""

    cargo: str
    rustc: str
    # Directories builds get as PATH: the toolchain's and the linker's.
    path: tuple[str, ...]
    # The full `rustc -vV` output: part of every build's cache key.
    version_info: str
    host: str
    sysroot: str
    # Triples whose standard library is in the sysroot, and all triples this rustc knows.
    installed: tuple[str, ...]
    known: tuple[str, ...]

    @property
    def release(self) -> str:
        for line in self.version_info.splitlines():
            if line.startswith("release:"):
                return line.split(":", 1)[1].strip()
        return "unknown"

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(f"{self.sysroot}\n{self.version_info}".encode()).hexdigest()


ENV_FOR_RUSTUP = ("HOME", "RUSTUP_HOME", "RUSTUP_TOOLCHAIN", "CARGO_HOME")


def _stat_line(path: str) -> str:
    """`path` with what changes when the file or directory is replaced or changed in place: its
    inode, size and mtime in nanoseconds (a directory's mtime moves when an entry is added or
    removed, e.g. a target's standard library)."""
    try:
        st = os.stat(path)
    except OSError:
        return f"{path} -"
    return f"{path} {st.st_ino} {st.st_size} {st.st_mtime_ns}"


def toolchain_stamp(rustc: str, rustup_home: str | None) -> str:
    """A stamp of the files whose change could change what `rustc -vV`, `--print sysroot`,
    `--print target-list` and the sysroot's `lib/rustlib` say.

    `rustc` is either the compiler itself (Debian's `/usr/bin/rustc`: its real path, and the
    `lib/rustlib` of the prefix it sits in), or rustup's proxy, which runs the toolchain that
    rustup's settings (and `RUSTUP_TOOLCHAIN`, part of the probe's environment) select: then
    every installed toolchain's compiler and `lib/rustlib`, and the settings. Reading these
    takes microseconds, where the probe is three process start-ups (~0.1-0.4 s).
    """
    real = os.path.realpath(rustc)
    paths = [rustc, real, os.path.join(os.path.dirname(os.path.dirname(real)), "lib", "rustlib")]
    if rustup_home:
        toolchains = os.path.join(rustup_home, "toolchains")
        paths += [os.path.join(rustup_home, "settings.toml"), toolchains]
        try:
            names = sorted(os.listdir(toolchains))
        except OSError:
            names = []
        for name in names:
            root = os.path.join(toolchains, name)
            paths += [os.path.join(root, "bin", "rustc"), os.path.join(root, "lib", "rustlib")]
    return "\n".join(_stat_line(p) for p in paths)


@dataclass(frozen=True)
class RustToolchainStampRequest:
    rustc: str
    rustup_home: str | None


@dataclass(frozen=True)
class RustToolchainStamp:
    stamp: str


@rule(desc="Stamp the Rust toolchain's files", level=LogLevel.TRACE)
async def stamp_rust_toolchain(
    request: RustToolchainStampRequest, run_id: RunId
) -> RustToolchainStamp:
    # `run_id` makes the engine run this in every run (pantsd memoizes any rule without a new
    # input), so the stamp is always read afresh: the probe it keys is memoized only as long as
    # the stamp stays the same.
    del run_id
    return RustToolchainStamp(toolchain_stamp(request.rustc, request.rustup_home))


@rule(desc="Find the Rust toolchain", level=LogLevel.DEBUG)
async def find_rust_toolchain(pyo3: Pyo3Subsystem) -> RustToolchain:
    env = await Get(EnvironmentVars, EnvironmentVarsRequest(["PATH", *ENV_FOR_RUSTUP]))
    search_path = pyo3.expanded_search_paths(env.get("PATH"))
    rustup_env = {k: v for k, v in env.items() if k in ENV_FOR_RUSTUP}

    def request(name: str) -> BinaryPathRequest:
        return BinaryPathRequest(
            binary_name=name,
            search_path=search_path,
            test=BinaryPathTest(args=["--version"]),
        )

    cargo_req = request("cargo")
    rustc_req = request("rustc")
    cc_req = request("cc")
    cargo_paths, rustc_paths, cc_paths = await MultiGet(
        Get(BinaryPaths, BinaryPathRequest, cargo_req),
        Get(BinaryPaths, BinaryPathRequest, rustc_req),
        Get(BinaryPaths, BinaryPathRequest, cc_req),
    )
    for req, paths, what, how in (
        (
            cargo_req,
            cargo_paths,
            "build PyO3 extensions",
            "Install Rust with rustup (https://rustup.rs) or your OS package manager "
            "(e.g. `apt-get install cargo`)",
        ),
        (
            rustc_req,
            rustc_paths,
            "build PyO3 extensions",
            "Install Rust with rustup (https://rustup.rs) or your OS package manager "
            "(e.g. `apt-get install rustc`)",
        ),
        (
            cc_req,
            cc_paths,
            "link PyO3 extensions",
            "Install a C toolchain (e.g. `apt-get install gcc`)",
        ),
    ):
        if paths.first_path is None:
            error = BinaryNotFoundError.from_request(
                req,
                rationale=what,
                alternative_solution=softwrap(
                    f"""
                    {how}, or point `[{Pyo3Subsystem.options_scope}].search_paths` at the
                    directory that holds `{req.binary_name}`.
                    """
                ),
            )
            raise RustToolchainNotFoundError(str(error))
    assert cargo_paths.first_path and rustc_paths.first_path and cc_paths.first_path

    # Memoized by pantsd (never cached on disk or remotely: the stamp is this machine's), keyed by
    # the stamp of the toolchain's files, read afresh in every run: a toolchain upgraded in place,
    # or a target added to it, changes the stamp and runs the probe again.
    rustup_home = rustup_env.get("RUSTUP_HOME") or (
        os.path.join(rustup_env["HOME"], ".rustup") if rustup_env.get("HOME") else None
    )
    stamp = await Get(
        RustToolchainStamp, RustToolchainStampRequest(rustc_paths.first_path.path, rustup_home)
    )
    probe = await Get(
        ProcessResult,
        Process(
            argv=(
                "/bin/sh",
                "-c",
                # Shell builtins only: the process gets no PATH.
                '"$1" -vV && sysroot="$("$1" --print sysroot)" && echo "sysroot: $sysroot" && '
                'echo known: $("$1" --print target-list) && '
                '{ cd "$sysroot/lib/rustlib" 2>/dev/null && '
                'echo installed: * || echo "installed: "; }',
                "probe",
                rustc_paths.first_path.path,
            ),
            env={**rustup_env, "__PANTS_PYO3_RUST_TOOLCHAIN_STAMP": stamp.stamp},
            description="Identify the Rust toolchain (rustc -vV)",
            level=LogLevel.DEBUG,
            cache_scope=ProcessCacheScope.PER_RESTART_SUCCESSFUL,
        ),
    )
    lines = probe.stdout.decode().strip().splitlines()
    info = dict(line.split(": ", 1) for line in lines if ": " in line)
    sysroot = info.pop("sysroot")
    known = tuple(info.pop("known", "").split())
    # `lib/rustlib` also holds `etc`, `src` and the like: only triples rustc knows are targets.
    installed = tuple(sorted(set(info.pop("installed", "").split()) & set(known)))
    version_info = "\n".join(
        line for line in lines if not line.startswith(("sysroot: ", "known: ", "installed: "))
    )
    # Call the toolchain's own binaries, not rustup's proxies, so builds need no rustup state and
    # the toolchain identified above is the one that runs.
    sysroot_bin = os.path.join(sysroot, "bin")
    cargo = os.path.join(sysroot_bin, "cargo")
    if not os.path.exists(cargo):
        cargo = cargo_paths.first_path.path
    rustc = os.path.join(sysroot_bin, "rustc")
    if not os.path.exists(rustc):
        rustc = rustc_paths.first_path.path
    path = tuple(
        dict.fromkeys(
            [sysroot_bin, os.path.dirname(cargo), os.path.dirname(cc_paths.first_path.path)]
        )
    )
    return RustToolchain(
        cargo=cargo,
        rustc=rustc,
        path=path,
        version_info=version_info,
        host=info.get("host", "unknown"),
        sysroot=sysroot,
        installed=installed,
        known=known,
    )


@dataclass(frozen=True)
class RustComponentRequest:
    """A tool shipped with the Rust toolchain as a rustup component: `clippy` or `rustfmt`."""

    component: str


@dataclass(frozen=True)
class RustComponent:
    component: str
    binary: BinaryPath


# The binary each component installs next to `cargo`, and the goal that needs it.
_COMPONENT_BINARIES = {"clippy": ("cargo-clippy", "lint"), "rustfmt": ("rustfmt", "fmt")}


@rule(desc="Find a Rust toolchain component", level=LogLevel.DEBUG)
async def find_rust_component(
    request: RustComponentRequest, toolchain: RustToolchain
) -> RustComponent:
    binary_name, goal = _COMPONENT_BINARIES[request.component]
    # Look only in the toolchain's own directories, so the tool always matches the `rustc` that
    # builds (clippy refuses to run against another compiler's metadata).
    paths = await Get(
        BinaryPaths,
        BinaryPathRequest(
            binary_name=binary_name,
            search_path=toolchain.path,
            test=BinaryPathTest(args=["--version"]),
        ),
    )
    if paths.first_path is None:
        raise RustComponentNotFoundError(
            softwrap(
                f"""
                `{binary_name}` was not found next to the Rust toolchain's `cargo`
                ({toolchain.release}, in {', '.join(toolchain.path)}), and `pants {goal}` needs it
                for `cargo_crate` targets. Install it with `rustup component add
                {request.component}` (or your OS package, e.g. `apt-get install
                rust-{request.component}`), or skip it with
                `--{'cargo-clippy' if request.component == 'clippy' else 'rustfmt'}-skip`.
                """
            )
        )
    return RustComponent(request.component, paths.first_path)


def rules():
    return collect_rules()
