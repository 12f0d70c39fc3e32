#!/usr/bin/env python3
# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""Benchmark pants-pyo3 against raw maturin/cargo on the example crate (issue #6).

Run from anywhere: `python3 build-support/bench/bench.py` (see docs/benchmark.md). Standard library
only; the PNG chart is drawn by matplotlib in a venv this script creates once under
~/.cache/pants-pyo3-bench.

Every Pants run here works on a scratch copy of the repo (the files git tracks, as they are in the
worktree) in a temporary directory, with its own named caches, local store, pantsd pid directory and
workdir there too, so the measurements neither use nor disturb the worktree or the caches other runs
share, and the pantsd this script starts is stopped at the end. In the copy the example's
`pyo3_extension` builds for the host triple only (like `maturin build`), and the crate's `lib.rs` is
edited for some measurements.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

logger = logging.getLogger("bench")

REPO = Path(__file__).resolve().parents[2]
# Relative to the repo (the scratch copy the benchmark runs in).
CRATE = Path("src/rust/myext")
LIB_RS = CRATE / "src/lib.rs"
PY_PACKAGE = Path("src/python/myext")
DIST = "src/python/myext:dist"
NATIVE = "src/python/myext:native"
# The tests are parametrized over every CPython; the one-interpreter comparison runs the 3.11 ones.
TESTS = "src/python/myext:tests@interpreter_constraints=py311"
# The interpreter of every one-interpreter measurement. The repo's own constraints admit six
# versions, so each Pants run is narrowed to this one, as
# `maturin build --interpreter python3.11` is.
ONE_VERSION = "3.11"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "pants-pyo3-bench"
# The named cache the plugin builds in (`pants_pyo3.build.cargo.NAMED_CACHE`).
CARGO_NAMED_CACHE = "pants_pyo_cargo"
# Its target directories (one per target triple and interpreter ABI under `targets/`, see
# pyo3_build.py) and the rustc wrappers that go with them.
TARGET_DIRS = ("targets", "wrappers")
# Must match the `pytest` requirement the repo's tests run with (3rdparty/python/requirements.txt).
PYTEST_REQUIREMENT = "pytest==7.0.1"

# The targets of issue #19.
TARGET_COLD = 1.0
TARGET_NOOP_SECONDS = 0.3
TARGET_EDIT_VS_MATURIN = 0.8
TARGET_EDIT_OVER_CARGO_SECONDS = 0.25
TARGET_TEST_VS_MATURIN = 0.8
TARGET_PY_EDIT_SECONDS = 1.0
TARGET_REMOTE = 0.25
# A `.py` file of the package the tests import, edited for the `.py` edit → `pants test` loop.
PY_EDIT_FILE = PY_PACKAGE / "__init__.py"
# Lines pantsd writes to pants.log when it restarts.
PANTSD_RESTART_MARKERS = (
    "terminating the daemon",
    "saw filesystem changes covered by invalidation globs",
)
PANTSD_START_TIMEOUT = "while waiting for pantsd to start"
GROUPS = (
    "cold",
    "noop",
    "edit",
    "test",
    "pyedit",
    "interpreters",
    "crates",
    "remote",
    "linker",
)
# The glibc baselines compared by the `linker` group: zig for manylinux2014 (the default) and this
# machine's own linker (`auto`).
LINKERS = (("zig", "manylinux2014"), ("host", "auto"))


def n_interpreters_target(n: int) -> float:
    """Issue #19: 3 interpreters after an edit at most 1.7× one (0.35 per further interpreter)."""
    return round(1 + 0.35 * (n - 1), 2)


# ----------------------------------------------------------------------------------------------
# Timing and load
# ----------------------------------------------------------------------------------------------


@dataclass
class Measurement:
    name: str
    samples: list[float] = field(default_factory=list)
    load1: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def to_json(self) -> dict:
        return {
            "samples_s": [round(s, 3) for s in self.samples],
            "median_s": round(self.median, 3),
            "min_s": round(min(self.samples), 3),
            "load1_before": [round(x, 2) for x in self.load1],
        }


class Bench:
    def __init__(self, args: argparse.Namespace, tmp: Path, repo: Path) -> None:
        self.args = args
        self.tmp = tmp
        # The scratch copy every command runs in.
        self.repo = repo
        self.logs = tmp / "logs"
        self.logs.mkdir()
        self.measurements: dict[str, Measurement] = {}
        self.waits: list[dict] = []
        self._log_counter = 0
        self.nc = tmp / "named_caches"
        self.pants_env = {
            **os.environ,
            # Isolate every Pants run: caches, store, pantsd and workdir in the temp dir.
            "PANTS_NAMED_CACHES_DIR": str(self.nc),
            "PANTS_LOCAL_STORE_DIR": str(tmp / "store"),
            "PANTS_SUBPROCESSDIR": str(tmp / "pids"),
            "PANTS_PANTS_WORKDIR": str(tmp / "workdir"),
            "PANTS_PANTS_DISTDIR": "dist/bench",
            "PANTS_DYNAMIC_UI": "false",
        }

    # --- load -------------------------------------------------------------------------------

    def wait_for_quiet(self, what: str) -> None:
        """Wait until the 1-minute load average is below --max-load (at most --max-wait seconds)."""
        start = time.monotonic()
        load = os.getloadavg()[0]
        while load >= self.args.max_load and time.monotonic() - start < self.args.max_wait:
            time.sleep(5)
            load = os.getloadavg()[0]
        waited = time.monotonic() - start
        self.waits.append({"before": what, "waited_s": round(waited, 1), "load1": round(load, 2)})
        note = (
            ""
            if load < self.args.max_load
            else f" (still above {self.args.max_load}: measuring anyway)"
        )
        logger.info(f"load {load:.2f} after waiting {waited:.0f} s{note}: {what}")

    # --- running commands -------------------------------------------------------------------

    def run(
        self,
        argv: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        label: str,
        timeout: float = 1800,
        retry: bool = True,
    ) -> float:
        """Run a command (in the scratch repo unless `cwd` is given), its output to a log file;
        return its wall time. Fail loudly if it fails."""
        self._log_counter += 1
        log = self.logs / f"{self._log_counter:03d}-{label.replace('/', '_').replace(' ', '_')}.log"
        with open(log, "wb") as out:
            out.write((" ".join(argv) + "\n\n").encode())
            out.flush()
            start = time.perf_counter()
            proc = subprocess.run(
                list(argv),
                cwd=cwd or self.repo,
                env=env or dict(os.environ),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                timeout=timeout,
            )
            elapsed = time.perf_counter() - start
        if (
            proc.returncode != 0
            and PANTSD_START_TIMEOUT in log.read_text(errors="replace")
            and retry
        ):
            # On a loaded machine pantsd can take longer to come up than the client waits (60 s):
            # it keeps starting, so the same command again connects to it.
            logger.info(f"pantsd was slow to start; running `{label}` again")
            return self.run(argv, env=env, cwd=cwd, label=label, timeout=timeout, retry=False)
        if proc.returncode != 0:
            tail = log.read_text(errors="replace").splitlines()[-40:]
            raise SystemExit(
                f"`{' '.join(argv)}` failed ({proc.returncode}); log {log}:\n" + "\n".join(tail)
            )
        logger.debug(f"{elapsed:7.2f} s  {label}")
        return elapsed

    def timed(self, name: str, fn: Callable[[], float]) -> float:
        m = self.measurements.setdefault(name, Measurement(name))
        m.load1.append(os.getloadavg()[0])
        elapsed = fn()
        m.samples.append(elapsed)
        logger.info(f"{elapsed:7.2f} s  {name}")
        return elapsed

    def pants(
        self,
        *args: str,
        label: str,
        store: Path | None = None,
        constraints: str | None = f"CPython=={ONE_VERSION}.*",
        repo: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> float:
        """`./pants` in the scratch repo (or `repo`), for the interpreters `constraints` admit (by
        default one; None: the repo's own)."""
        run_env = {**self.pants_env, **(env or {})}
        if store is not None:
            run_env["PANTS_LOCAL_STORE_DIR"] = str(store)
        repo = repo or self.repo
        flags = [f"--python-interpreter-constraints=['{constraints}']"] if constraints else []
        return self.run([str(repo / "pants"), *flags, *args], env=run_env, cwd=repo, label=label)

    def pantsd_pid(self) -> int | None:
        for pid_file in (self.tmp / "pids").glob("*/pantsd/pid"):
            try:
                return int(pid_file.read_text().strip())
            except ValueError:
                pass
        return None

    def pantsd_restarts(self) -> int:
        """How many times pants.log says pantsd restarted (or was told to) so far."""
        log = self.tmp / "workdir" / "pants.log"
        text = log.read_text(errors="replace") if log.exists() else ""
        return sum(text.count(marker) for marker in PANTSD_RESTART_MARKERS)

    # --- pantsd -------------------------------------------------------------------------------

    def stop_pantsd(self) -> None:
        """Stop the pantsd this script started (its pid file is in our own subprocess dir)."""
        for pid_file in (self.tmp / "pids").glob("*/pantsd/pid"):
            try:
                pid = int(pid_file.read_text().strip())
                os.kill(pid, signal.SIGTERM)
                logger.info(f"stopped the benchmark's pantsd (pid {pid})")
            except (ValueError, ProcessLookupError):
                pass


# ----------------------------------------------------------------------------------------------
# The crate edit
# ----------------------------------------------------------------------------------------------


class LibRsEditor:
    """Appends one line to lib.rs (a new value each time), in the scratch repo and in every copy
    added (maturin's), and restores the originals on exit."""

    def __init__(self, repo: Path) -> None:
        self.files: dict[Path, bytes] = {}
        self.add(repo / LIB_RS)
        self.counter = time.time_ns()

    def add(self, lib_rs: Path) -> None:
        self.files[lib_rs] = lib_rs.read_bytes()

    def edit(self) -> None:
        self.counter += 1
        # An exported static: unlike dead code, it changes the compiled library, so everything
        # downstream of it (the wheel) is rebuilt too, as after a real change.
        line = f"#[no_mangle] pub static PANTS_PYO3_BENCH_EDIT: u64 = {self.counter};\n"
        for path, original in self.files.items():
            path.write_bytes(original + line.encode())

    def restore(self) -> None:
        for path, original in self.files.items():
            if path.exists() and path.read_bytes() != original:
                path.write_bytes(original)
                logger.info(f"restored {path}")


# ----------------------------------------------------------------------------------------------
# The scratch repo
# ----------------------------------------------------------------------------------------------


def host_triple() -> str:
    out = subprocess.run(["rustc", "-vV"], capture_output=True, text=True, check=True).stdout
    return next(
        line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("host:")
    )


def prepare_scratch_repo(dest: Path, host: str) -> Path:
    """A copy of the files git tracks (as they are in the worktree), with the example's extension
    built for the host triple only: `maturin build` builds for the host alone, and the repo's
    example also cross-builds aarch64, which would double Pants' side of every comparison."""
    listed = (
        subprocess.run(
            [
                "git",
                "-C",
                str(REPO),
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ],
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for rel in filter(None, listed):
        src = REPO / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    build = dest / PY_PACKAGE / "BUILD"
    text, n = re.subn(r"target_triples=\[[^\]]*\]", f'target_triples=["{host}"]', build.read_text())
    if n != 1:
        raise SystemExit(
            f"expected one `target_triples=[...]` in {PY_PACKAGE / 'BUILD'}, "
            f"found {n}: update bench.py"
        )
    build.write_text(text)
    return dest


# ----------------------------------------------------------------------------------------------
# Tools
# ----------------------------------------------------------------------------------------------


def find_python(version: str) -> str | None:
    """An installed CPython `version` ("3.11"): pyenv's versions first, then PATH."""
    roots = []
    if shutil.which("pyenv"):
        out = subprocess.run(["pyenv", "root"], capture_output=True, text=True)
        if out.returncode == 0:
            roots.append(out.stdout.strip())
    roots.append(os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv")))
    for root in roots:
        found = sorted(
            Path(root, "versions").glob(f"{version}.*/bin/python{version}"), reverse=True
        )
        if found:
            return str(found[0])
    return shutil.which(f"python{version}")


def tool_version(argv: Sequence[str]) -> str:
    try:
        return (
            subprocess.run(list(argv), capture_output=True, text=True)
            .stdout.strip()
            .splitlines()[0]
        )
    except (OSError, IndexError):
        return "?"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


# ----------------------------------------------------------------------------------------------
# The measurements
# ----------------------------------------------------------------------------------------------


def empty_target_dirs(b: Bench) -> None:
    """A fresh start for cargo in the plugin's named cache: every target directory goes."""
    for sub in TARGET_DIRS:
        shutil.rmtree(b.nc / CARGO_NAMED_CACHE / sub, ignore_errors=True)


def measure_cold(b: Bench, editor: LibRsEditor, python: str) -> None:
    """Cold Pants (fresh cargo target dirs, a new edit) vs cold `maturin build --release`; and Pants
    with an empty local store too, where it also builds its tool environments again."""
    cargo_cache = b.nc / CARGO_NAMED_CACHE
    for i in range(b.args.cold_repeat):
        b.wait_for_quiet("cold builds")
        # Fresh target dirs and source mirror; the crate registry and pex's cache stay (as ~/.cargo
        # does for maturin). A new edit of lib.rs means no process that depends on the crate is
        # answered from cache, while the environments of Pants' tools (setuptools, auditwheel),
        # which depend on nothing of the crate, stay built in the local store, as maturin stays
        # installed.
        editor.edit()
        empty_target_dirs(b)
        shutil.rmtree(cargo_cache / "src", ignore_errors=True)
        b.timed("pants_cold", lambda: b.pants("--no-pantsd", "package", DIST, label="pants cold"))
        b.timed(
            "pants_noop_no_pantsd",
            lambda: b.pants("--no-pantsd", "package", DIST, label="pants no-op no pantsd"),
        )

        b.wait_for_quiet("cold maturin")
        target = b.tmp / f"maturin-target-{i}"
        env = {**os.environ, "CARGO_TARGET_DIR": str(target)}
        argv = maturin_build_argv(b, python, b.tmp / f"maturin-wheels-{i}")
        b.timed("maturin_cold", lambda: b.run(argv, env=env, label="maturin cold"))

        if b.args.quick:
            continue
        # The same with an empty local store: every process runs, the tools' environments included.
        b.wait_for_quiet("cold builds, empty store")
        empty_target_dirs(b)
        shutil.rmtree(cargo_cache / "src", ignore_errors=True)
        store = b.tmp / f"store-cold-{i}"
        b.timed(
            "pants_cold_store",
            lambda: b.pants("--no-pantsd", "package", DIST, label="pants cold store", store=store),
        )
        b.timed(
            "pants_noop_no_pantsd_store",
            lambda: b.pants(
                "--no-pantsd", "package", DIST, label="pants no-op no pantsd store", store=store
            ),
        )
        shutil.rmtree(store, ignore_errors=True)
        shutil.rmtree(target, ignore_errors=True)


def measure_linker(b: Bench, editor: LibRsEditor) -> None:
    """What the glibc baseline costs (issue #18): `package` with the module linked (and its C code
    compiled) by zig for manylinux2014, the default, vs by this machine's linker
    (`--pyo3-manylinux=auto`). Each baseline has a target directory of its own, so the two never
    rebuild each other's. Cold: a new edit, empty target dirs, `--no-pantsd` (zig's own cache stays,
    as ~/.cargo does); then after a one-line edit with pantsd warm. Who goes first alternates."""
    for i in range(b.args.cold_repeat):
        editor.edit()
        empty_target_dirs(b)
        b.wait_for_quiet("linker cold")
        for name, policy in LINKERS[i % 2 :] + LINKERS[: i % 2]:
            b.timed(
                f"linker_cold_{name}",
                lambda: b.pants(
                    "--no-pantsd",
                    f"--pyo3-manylinux={policy}",
                    "package",
                    DIST,
                    label=f"linker cold {name}",
                ),
            )
    for name, policy in LINKERS:
        b.pants(f"--pyo3-manylinux={policy}", "package", DIST, label=f"linker warm-up {name}")
    for i in range(b.args.repeat):
        editor.edit()
        b.wait_for_quiet("linker edit")
        for name, policy in LINKERS[i % 2 :] + LINKERS[: i % 2]:
            b.timed(
                f"linker_edit_{name}",
                lambda: b.pants(
                    f"--pyo3-manylinux={policy}", "package", DIST, label=f"linker edit {name}"
                ),
            )
    editor.restore()


def measure_startup(b: Bench) -> None:
    b.wait_for_quiet("Pants start-up")
    for _ in range(b.args.repeat):
        b.timed(
            "pants_startup", lambda: b.pants("--no-pantsd", "--version", label="pants --version")
        )


def measure_noop(b: Bench) -> None:
    # Warm pantsd: the first runs start it and build every package.
    b.pants("package", "::", label="pantsd warm-up")
    b.pants("package", "::", label="pantsd warm-up 2")
    b.wait_for_quiet("no-op")
    for _ in range(b.args.noop_repeat):
        b.timed("pants_noop", lambda: b.pants("package", "::", label="pants no-op"))


def maturin_build_argv(b: Bench, python: str, out: Path) -> list[str]:
    return [
        b.args.maturin,
        "build",
        "--release",
        "--locked",
        "--manifest-path",
        str(b.repo / CRATE / "Cargo.toml"),
        "--interpreter",
        python,
        "--out",
        str(out),
    ]


def measure_edit(b: Bench, editor: LibRsEditor, python: str) -> None:
    """A one-line lib.rs edit, then, one after the other (each tool in its own target dir):
    incremental `cargo build --release`, `./pants package` (pantsd warm) and `maturin build
    --release`; and after another edit the module alone (`export-codegen`)."""
    cargo_env = {
        **os.environ,
        "CARGO_TARGET_DIR": str(b.tmp / "cargo-target"),
        # What maturin and the plugin set for pyo3; keeps cargo from probing another interpreter.
        "PYO3_PYTHON": python,
        "PYO3_BUILD_EXTENSION_MODULE": "1",
    }
    cargo = [
        "cargo",
        "build",
        "--release",
        "--locked",
        "--manifest-path",
        str(b.repo / CRATE / "Cargo.toml"),
    ]
    maturin_env = {**os.environ, "CARGO_TARGET_DIR": str(b.tmp / "maturin-edit-target")}
    maturin = maturin_build_argv(b, python, b.tmp / "maturin-edit-wheels")
    # After an edit, so that each side really builds (the set-up may have come from a cache).
    editor.edit()
    b.run(cargo, env=cargo_env, label="cargo warm-up")
    b.run(maturin, env=maturin_env, label="maturin warm-up")
    b.pants("package", DIST, label="pants edit warm-up")
    for i in range(b.args.repeat):
        editor.edit()
        b.wait_for_quiet("edit")
        # Alternate who goes first, so neither always runs right after a compile heats the caches.
        runs = [
            ("cargo_edit", lambda: b.run(cargo, env=cargo_env, label="cargo edit")),
            ("pants_edit", lambda: b.pants("package", DIST, label="pants edit")),
            ("maturin_edit", lambda: b.run(maturin, env=maturin_env, label="maturin edit")),
        ]
        for name, fn in runs[i % 3 :] + runs[: i % 3]:
            b.timed(name, fn)
        # The module alone, without the wheel: what `cargo build` itself produces.
        editor.edit()
        b.timed(
            "pants_edit_module",
            lambda: b.pants("export-codegen", NATIVE, label="pants edit module"),
        )
    editor.restore()


def interpreters_constraint(versions: list[str]) -> str:
    """One constraint admitting exactly `versions` (consecutive minors of one major), e.g.
    `CPython>=3.9,<3.12`."""
    major = versions[0].split(".")[0]
    minors = [int(v.split(".")[1]) for v in versions]
    if any(v.split(".")[0] != major for v in versions) or minors != list(
        range(minors[0], minors[0] + len(minors))
    ):
        raise SystemExit(
            "--interpreters must be consecutive versions such as 3.9,3.10,3.11, "
            f"not {','.join(versions)}"
        )
    return f"CPython>={versions[0]},<{major}.{minors[-1] + 1}"


def measure_interpreters(
    b: Bench, editor: LibRsEditor, versions: list[str], pythons: dict[str, str]
) -> None:
    """ONE `./pants package` whose interpreter constraints admit N versions (the plugin builds the
    module and a wheel for each) vs the same for one version; from a fresh target dir, then after
    an edit. maturin building the same N interpreters (`maturin build -i ... -i ...`) vs one is
    measured beside it."""
    n_constraint = interpreters_constraint(versions)
    one = ONE_VERSION if ONE_VERSION in versions else versions[-1]
    one_constraint = f"CPython=={one}.*"

    def pants(constraint: str, label: str) -> float:
        return b.pants("package", DIST, label=label, constraints=constraint)

    maturin_target = b.tmp / "maturin-interp-target"

    def maturin(vs: list[str], label: str, target: Path) -> float:
        argv = [
            b.args.maturin,
            "build",
            "--release",
            "--locked",
            "--manifest-path",
            str(b.repo / CRATE / "Cargo.toml"),
        ]
        for v in vs:
            argv += ["--interpreter", pythons[v]]
        argv += ["--out", str(b.tmp / "maturin-interp-wheels")]
        return b.run(argv, env={**os.environ, "CARGO_TARGET_DIR": str(target)}, label=label)

    # Untimed: Pants' per-interpreter work (interpreter discovery, the wheel-building pex) gets
    # cached, so what is measured below is the extension builds plus the per-run work of packaging.
    pants(n_constraint, "warm-up N")
    pants(one_constraint, "warm-up one")

    if b.args.quick:
        # No fresh builds: maturin's N-interpreter target dir is filled once, untimed.
        maturin(versions, "maturin N warm-up", maturin_target)
    for i in range(0 if b.args.quick else b.args.cold_repeat):
        b.wait_for_quiet("fresh target dir: one interpreter")
        editor.edit()
        empty_target_dirs(b)
        b.timed("interp_one_fresh", lambda: pants(one_constraint, f"one {one} fresh"))
        b.wait_for_quiet(f"fresh target dir: {len(versions)} interpreters")
        editor.edit()
        empty_target_dirs(b)
        b.timed("interp_n_fresh", lambda: pants(n_constraint, f"N fresh"))

        b.wait_for_quiet("maturin fresh target dir: one interpreter")
        shutil.rmtree(maturin_target, ignore_errors=True)
        b.timed(
            "maturin_interp_one_fresh",
            lambda: maturin([one], f"maturin one {one} fresh", maturin_target),
        )
        b.wait_for_quiet(f"maturin fresh target dir: {len(versions)} interpreters")
        shutil.rmtree(maturin_target, ignore_errors=True)
        b.timed(
            "maturin_interp_n_fresh", lambda: maturin(versions, "maturin N fresh", maturin_target)
        )

    # After an edit: the target dirs hold every interpreter's build from the fresh runs above.
    for _ in range(b.args.repeat):
        b.wait_for_quiet("edit: one interpreter")
        editor.edit()
        b.timed("interp_one_edit", lambda: pants(one_constraint, f"one {one} edit"))
        editor.edit()
        b.timed("interp_n_edit", lambda: pants(n_constraint, "N edit"))
        editor.edit()
        b.timed(
            "maturin_interp_one_edit",
            lambda: maturin([one], f"maturin one {one} edit", maturin_target),
        )
        editor.edit()
        b.timed(
            "maturin_interp_n_edit", lambda: maturin(versions, "maturin N edit", maturin_target)
        )
    editor.restore()


def count_crates_per_interpreter(
    b: Bench, versions: list[str], pythons: dict[str, str], host: str
) -> dict[str, int]:
    """How many crates cargo compiles for each interpreter in turn, from empty target dirs, when it
    is run the way the plugin's build driver runs it (pyo3_build.py): `--target <host>`, one target
    dir per interpreter ABI, each new one a copy of the one built before it."""
    targets = b.tmp / "count-targets"
    shutil.rmtree(targets, ignore_errors=True)
    counts: dict[str, int] = {}
    b.wait_for_quiet("counting compiled crates")
    previous: Path | None = None
    for v in versions:
        python = pythons[v]
        target = targets / v
        if previous is not None:
            shutil.copytree(previous, target, symlinks=True)
        previous = target
        env = {
            **os.environ,
            "CARGO_TARGET_DIR": str(target),
            "PYO3_PYTHON": python,
            "PYO3_BUILD_EXTENSION_MODULE": "1",
        }
        argv = [
            "cargo",
            "build",
            "--lib",
            "--release",
            "--locked",
            "--message-format=json",
            "--manifest-path",
            str(b.repo / CRATE / "Cargo.toml"),
            "--target",
            host,
        ]
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, cwd=b.repo)
        if proc.returncode != 0:
            raise SystemExit(f"`{' '.join(argv)}` failed:\n{proc.stderr[-3000:]}")
        compiled = []
        for line in proc.stdout.splitlines():
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if msg.get("reason") == "compiler-artifact" and msg.get("fresh") is False:
                compiled.append(msg["target"]["name"])
        counts[v] = len(compiled)
        logger.info(f"CPython {v}: cargo compiled {len(compiled)} crates: {', '.join(compiled)}")
    shutil.rmtree(targets, ignore_errors=True)
    return counts


def measure_tests(b: Bench, editor: LibRsEditor, python: str) -> None:
    """The edit→test loop: after a one-line lib.rs edit, `./pants test` of the 3.11 tests (pantsd
    warm: it rebuilds the module and reruns the tests) vs `maturin develop --release && pytest`
    in a venv (the same edit in maturin's copy of the crate). And the editor loop: after another
    edit, `./pants pyo3-develop` (the module into the source tree) vs
    `maturin develop --release`."""
    # A copy of the package and crate: `maturin develop` writes the module into the Python package.
    dev = b.tmp / "develop"
    shutil.copytree(
        b.repo / CRATE, dev / "rust/myext", ignore=shutil.ignore_patterns("target", "BUILD")
    )
    shutil.copytree(
        b.repo / PY_PACKAGE,
        dev / "python/myext",
        ignore=shutil.ignore_patterns("BUILD", "__pycache__"),
    )
    (dev / "pyproject.toml").write_text(
        "[build-system]\n"
        'requires = ["maturin>=1.0,<2.0"]\n'
        'build-backend = "maturin"\n\n'
        "[project]\n"
        'name = "myext"\n'
        'version = "0.1.0"\n'
        'requires-python = ">=3.8"\n\n'
        "[tool.maturin]\n"
        'manifest-path = "rust/myext/Cargo.toml"\n'
        'python-source = "python"\n'
        'module-name = "myext._native"\n'
    )
    editor.add(dev / "rust" / LIB_RS.relative_to(CRATE.parent))
    venv = b.tmp / "develop-venv"
    b.run([python, "-m", "venv", str(venv)], label="venv")
    pip_env = {**os.environ, "PIP_CONFIG_FILE": "/dev/null"}
    b.run(
        [str(venv / "bin/python"), "-m", "pip", "install", "-q", PYTEST_REQUIREMENT],
        env=pip_env,
        label="pip pytest",
    )
    dev_env = {
        **pip_env,
        "VIRTUAL_ENV": str(venv),
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "CARGO_TARGET_DIR": str(b.tmp / "develop-target"),
    }
    develop = [b.args.maturin, "develop", "--release"]
    pytest = [
        str(venv / "bin/python"),
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "python/myext",
    ]
    pyo3_develop = ["pyo3-develop", f"--pyo3-develop-python={ONE_VERSION}", NATIVE]

    def maturin_loop() -> float:
        return b.run(develop, env=dev_env, cwd=dev, label="maturin develop") + b.run(
            pytest, env=dev_env, cwd=dev, label="pytest"
        )

    # Warm-ups: every tool built once, pantsd up.
    editor.edit()
    b.pants("test", TESTS, label="pants test warm-up")
    b.pants(*pyo3_develop, label="pants pyo3-develop warm-up")
    maturin_loop()
    for i in range(b.args.repeat):
        editor.edit()
        b.wait_for_quiet("edit → test")
        runs = [
            ("pants_edit_test", lambda: b.pants("test", TESTS, label="pants edit test")),
            ("maturin_edit_test", maturin_loop),
        ]
        for name, fn in runs[i % 2 :] + runs[: i % 2]:
            b.timed(name, fn)
        editor.edit()
        runs = [
            ("pants_develop", lambda: b.pants(*pyo3_develop, label="pants pyo3-develop")),
            (
                "maturin_develop",
                lambda: b.run(develop, env=dev_env, cwd=dev, label="maturin develop"),
            ),
        ]
        for name, fn in runs[i % 2 :] + runs[: i % 2]:
            b.timed(name, fn)
    b.pants("pyo3-develop", "--clean", NATIVE, label="pants pyo3-develop --clean")
    editor.restore()


def measure_py_edit(b: Bench) -> dict:
    """A `.py` edit of the package the tests import, then `./pants test` (pantsd warm): the plugin
    is on a pythonpath of its own, so pantsd must not restart. Returns what pants.log says."""
    path = b.repo / PY_EDIT_FILE
    original = path.read_bytes()
    b.pants("test", TESTS, label="pants py-edit warm-up")
    pid, restarts = b.pantsd_pid(), b.pantsd_restarts()
    try:
        for i in range(b.args.repeat):
            path.write_bytes(original + f"# bench edit {time.time_ns()}\n".encode())
            b.wait_for_quiet(".py edit → test")
            b.timed(
                "pants_py_edit_test", lambda: b.pants("test", TESTS, label="pants py edit test")
            )
    finally:
        path.write_bytes(original)
    return {
        "pantsd_restarts": b.pantsd_restarts() - restarts,
        "pantsd_same_pid": pid is not None and pid == b.pantsd_pid(),
    }


def start_buildgrid(b: Bench) -> tuple[subprocess.Popen, int]:
    """The repo's cache-only BuildGrid server (build-support/remote-cache/buildgrid.py) on a free
    port, up and accepting connections (its first run installs BuildGrid: minutes)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = open(b.logs / "buildgrid.log", "wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            str(REPO / "build-support/remote-cache/buildgrid.py"),
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(
                f"BuildGrid exited ({proc.returncode}); log {b.logs / 'buildgrid.log'}"
            )
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            time.sleep(1)
    proc.terminate()
    raise SystemExit(f"BuildGrid did not listen on {port} in time; log {b.logs / 'buildgrid.log'}")


def measure_remote(b: Bench, editor: LibRsEditor) -> dict:
    """What a team's shared cache buys: a fresh clone (a new checkout, an empty local store, empty
    cargo target dirs), `--no-pantsd`, with a BuildGrid remote cache another checkout filled, vs
    the same clone with no remote cache. Alternately, each run with a new store."""
    clone = b.tmp / "clone"
    if not clone.exists():
        shutil.copytree(b.repo, clone, ignore=shutil.ignore_patterns("dist", ".pids", ".pants.d"))
    # `package ::` for the repo's own interpreters, as a team builds; `--quick`: one interpreter.
    constraints = f"CPython=={ONE_VERSION}.*" if b.args.quick else None
    what = (DIST,) if b.args.quick else ("::",)
    server, port = start_buildgrid(b)
    remote = [
        "--remote-cache-read",
        f"--remote-store-address=grpc://127.0.0.1:{port}",
        "--stats-log",
    ]
    try:
        # Another checkout fills the cache: the scratch repo, at the same commit as the clone.
        editor.edit()
        shutil.copy2(b.repo / LIB_RS, clone / LIB_RS)
        empty_target_dirs(b)
        b.pants(
            "--no-pantsd",
            *remote,
            "--remote-cache-write",
            "package",
            *what,
            label="remote fill",
            store=b.tmp / "store-remote-fill",
            constraints=constraints,
        )
        for i in range(b.args.cold_repeat):
            runs = [
                ("remote_warm", remote, "fresh clone, warm remote cache"),
                ("remote_cold", [], "fresh clone, cold"),
            ]
            for name, flags, label in runs[i % 2 :] + runs[: i % 2]:
                b.wait_for_quiet(label)
                empty_target_dirs(b)
                store = b.tmp / f"store-{name}-{i}"
                b.timed(
                    name,
                    lambda: b.pants(
                        "--no-pantsd",
                        *flags,
                        "package",
                        *what,
                        label=label,
                        store=store,
                        constraints=constraints,
                        repo=clone,
                    ),
                )
                shutil.rmtree(store, ignore_errors=True)
    finally:
        stop_process(server)
        editor.restore()
    return {"remote_what": " ".join(what), "remote_constraints": constraints or "the repo's own"}


def stop_process(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# ----------------------------------------------------------------------------------------------
# Results
# ----------------------------------------------------------------------------------------------


def summarize(
    measurements: dict[str, Measurement], versions: list[str], meta: dict | None = None
) -> list[dict]:
    """The table's rows (issue #19's loops), from the medians of whatever was measured."""
    m = {name: x.median for name, x in measurements.items()}
    meta = meta or {}
    rows: list[dict] = []

    def row(
        key: str, label: str, value: float, target: float | None, unit: str, detail: str
    ) -> None:
        rows.append(
            {
                "key": key,
                "label": label,
                "value": round(value, 3),
                "target": target,
                "unit": unit,
                "met": None if target is None else value <= target,
                "detail": detail,
            }
        )

    if "pants_edit" in m:
        row(
            "edit_vs_maturin",
            "one-line .rs edit → wheel: `package` vs `maturin build --release`",
            m["pants_edit"] / m["maturin_edit"],
            TARGET_EDIT_VS_MATURIN,
            "x",
            f"Pants {m['pants_edit']:.2f} s; maturin {m['maturin_edit']:.2f} s",
        )
        row(
            "edit_over_cargo",
            "the same edit → wheel: `package` minus incremental `cargo build --release`",
            m["pants_edit"] - m["cargo_edit"],
            TARGET_EDIT_OVER_CARGO_SECONDS,
            "s",
            f"Pants {m['pants_edit']:.2f} s; cargo {m['cargo_edit']:.2f} s "
            f"({m['pants_edit'] / m['cargo_edit']:.2f}×)",
        )
        row(
            "edit_module",
            "the same edit → the module alone (`export-codegen`) minus cargo",
            m["pants_edit_module"] - m["cargo_edit"],
            None,
            "s",
            f"Pants {m['pants_edit_module']:.2f} s; cargo {m['cargo_edit']:.2f} s",
        )
    if "pants_edit_test" in m:
        row(
            "edit_test",
            "one-line .rs edit → `pants test` (3.11) vs `maturin develop --release && pytest`",
            m["pants_edit_test"] / m["maturin_edit_test"],
            TARGET_TEST_VS_MATURIN,
            "x",
            f"Pants {m['pants_edit_test']:.2f} s; "
            f"maturin develop + pytest {m['maturin_edit_test']:.2f} s",
        )
        row(
            "develop",
            "one-line .rs edit → `pants pyo3-develop` vs `maturin develop --release`",
            m["pants_develop"] / m["maturin_develop"],
            None,
            "x",
            f"Pants {m['pants_develop']:.2f} s; maturin develop {m['maturin_develop']:.2f} s",
        )
    if "pants_py_edit_test" in m:
        restarts = meta.get("py_edit", {}).get("pantsd_restarts")
        row(
            "py_edit_test",
            "`.py` edit → `pants test` (3.11)",
            m["pants_py_edit_test"],
            TARGET_PY_EDIT_SECONDS,
            "s",
            f"pantsd restarts in pants.log: {'?' if restarts is None else restarts}; "
            f"same pantsd pid: {meta.get('py_edit', {}).get('pantsd_same_pid', '?')}",
        )
    n = len(versions)
    one = ONE_VERSION if ONE_VERSION in versions else versions[-1]
    for scenario, label in (("edit", "after an edit"), ("fresh", "fresh target dirs")):
        if f"interp_n_{scenario}" in m:
            pants_n, pants_one = m[f"interp_n_{scenario}"], m[f"interp_one_{scenario}"]
            row(
                f"interpreters_{scenario}",
                f"{n} interpreters in one `package` vs one, {label}",
                pants_n / pants_one,
                n_interpreters_target(n) if scenario == "edit" else None,
                "x",
                f"{interpreters_constraint(versions)}: {pants_n:.2f} s; "
                f"{one} alone: {pants_one:.2f} s",
            )
            if f"maturin_interp_n_{scenario}" in m:
                maturin_n = m[f"maturin_interp_n_{scenario}"]
                row(
                    f"interpreters_vs_maturin_{scenario}",
                    f"{n} interpreters, {label}: `package` vs `maturin build -i` ×{n}",
                    pants_n / maturin_n,
                    None,
                    "x",
                    f"Pants {pants_n:.2f} s; maturin {maturin_n:.2f} s "
                    f"(one: {m[f'maturin_interp_one_{scenario}']:.2f} s)",
                )
    if "pants_noop" in m:
        row(
            "noop",
            "no-op `package ::`, pantsd warm",
            m["pants_noop"],
            TARGET_NOOP_SECONDS,
            "s",
            f"min {min(measurements['pants_noop'].samples):.2f} s "
            f"of {len(measurements['pants_noop'].samples)}",
        )
    if "pants_cold" in m:
        # Pants' fixed cost without pantsd is the no-op run right after each cold run (same store,
        # same moment's load); `--version` alone, measured apart, is reported too.
        cold, noop = m["pants_cold"], m["pants_noop_no_pantsd"]
        row(
            "cold",
            "cold build vs `maturin build --release`, Pants start-up excluded",
            (cold - noop) / m["maturin_cold"],
            TARGET_COLD,
            "x",
            f"Pants {cold:.1f} s − no-op without pantsd {noop:.1f} s = {cold - noop:.1f} s; "
            f"maturin {m['maturin_cold']:.1f} s",
        )
        if "pants_cold_store" in m:
            cold_s, noop_s = m["pants_cold_store"], m["pants_noop_no_pantsd_store"]
            row(
                "cold_store",
                "the same with an empty local store (Pants also builds its tool environments)",
                (cold_s - noop_s) / m["maturin_cold"],
                None,
                "x",
                f"Pants {cold_s:.1f} s − {noop_s:.1f} s; maturin {m['maturin_cold']:.1f} s",
            )
        row(
            "cold_raw",
            "cold build incl. Pants start-up (`--no-pantsd`)",
            cold / m["maturin_cold"],
            None,
            "x",
            f"`./pants --no-pantsd --version`: {m['pants_startup']:.1f} s"
            if "pants_startup" in m
            else "",
        )
    for scenario, label in (("cold", "cold, `--no-pantsd`"), ("edit", "after a one-line edit")):
        if f"linker_{scenario}_zig" in m:
            zig, host = m[f"linker_{scenario}_zig"], m[f"linker_{scenario}_host"]
            row(
                f"linker_{scenario}",
                f"glibc baseline, {label}: zig (manylinux2014) vs this machine's linker",
                zig / host,
                None,
                "x",
                f"zig {zig:.2f} s; host linker {host:.2f} s ({zig - host:+.2f} s)",
            )
    if "remote_warm" in m:
        row(
            "remote",
            "fresh clone, empty store, warm BuildGrid remote cache vs the same clone cold "
            "(`--no-pantsd`)",
            m["remote_warm"] / m["remote_cold"],
            TARGET_REMOTE,
            "x",
            f"`package {meta.get('remote_what', '?')}` for {meta.get('remote_constraints', '?')}: "
            f"warm {m['remote_warm']:.1f} s; cold {m['remote_cold']:.1f} s",
        )
    return rows


def markdown(rows: list[dict], meta: dict) -> str:
    lines = [
        f"# pants-pyo3 benchmark ({meta['date']})",
        "",
        f"Machine: {meta['nproc']} CPUs ({meta['cpu']}), "
        f"1-min load {meta['load_start'][0]:.2f} at start, "
        f"{meta['load_end'][0]:.2f} at end; "
        f"highest load before a measurement {meta['max_load_before']:.2f}. "
        f"Medians of {meta['repeat']} runs ({meta['cold_repeat']} for cold builds, "
        f"{meta['noop_repeat']} for the no-op)"
        + (
            " (`--quick`: one run each, no load wait: a smoke test, not a measurement)."
            if meta.get("quick")
            else "."
        ),
        "",
        f"Pants {meta['versions']['pants']}, {meta['versions']['maturin']}, "
        f"{meta['versions']['cargo']}.",
        "",
        "| measurement | result | target | met | details |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        unit = " s" if r["unit"] == "s" else "×"
        target = "—" if r["target"] is None else f"≤ {r['target']}{unit}"
        met = "—" if r["met"] is None else ("yes" if r["met"] else "**no**")
        lines.append(
            f"| {r['label']} | {r['value']:.2f}{unit} | {target} | {met} | {r['detail']} |"
        )
    counts = meta.get("crates_compiled")
    if counts:
        per = ", ".join(f"{v}: {c}" for v, c in counts.items())
        lines += [
            "",
            "Crates cargo compiled per interpreter in turn, from an empty target dir, "
            "run as the plugin's driver "
            f"runs it (`--target {meta['host']}`, a target dir per interpreter, "
            f"each a copy of the one before): {per} "
            '(`compiler-artifact` messages with `"fresh": false`, build scripts included).',
        ]
    return "\n".join(lines) + "\n"


def plot(rows: list[dict], path: Path, title: str) -> None:
    """A bar chart of the results against their targets, drawn by matplotlib in a cached venv."""
    venv = CACHE / "plot-venv"
    python = venv / "bin" / "python"
    if not (venv / ".complete").exists():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "matplotlib>=3.5,<4"],
            check=True,
            env={**os.environ, "PIP_CONFIG_FILE": "/dev/null"},
        )
        (venv / ".complete").touch()
    script = r"""
import json, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
rows, out, title = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
fig, ax = plt.subplots(figsize=(10, 4.8))
labels = [r["label"].replace("`", "") for r in rows]
values = [r["value"] for r in rows]
colors = ["#888888" if r["met"] is None else ("#2e8b57" if r["met"] else "#cd5c5c") for r in rows]
bars = ax.barh(range(len(rows)), values, color=colors)
for i, r in enumerate(rows):
    unit = " s" if r["unit"] == "s" else "x"
    ax.text(r["value"], i, f" {r['value']:.2f}{unit}", va="center")
    if r["target"] is not None:
        ax.plot([r["target"]] * 2, [i - 0.4, i + 0.4], color="black", linewidth=2)
ax.set_yticks(range(len(rows)))
ax.set_yticklabels(labels, fontsize=8)
ax.invert_yaxis()
ax.set_xlabel(
    "Pants / baseline (no-op: seconds). Black line: target; green met, red missed, grey no target",
    fontsize=8,
)
ax.set_title(title, fontsize=10)
top = max(values + [r["target"] or 0 for r in rows])
if top > 8:
    # One far-off ratio would squash the others: a log scale keeps them readable.
    ax.set_xscale("log")
    ax.set_xlim(min(values + [r["target"] or top for r in rows]) / 2, top * 3)
else:
    ax.set_xlim(0, top * 1.2)
fig.tight_layout()
fig.savefig(out, dpi=110)
"""
    subprocess.run([str(python), "-c", script, json.dumps(rows), str(path), title], check=True)


# ----------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--out",
        type=Path,
        default=REPO / "build-support/bench/results",
        help="directory for results.md, results.json and results.png (default: %(default)s)",
    )
    p.add_argument(
        "--repeat", type=int, default=5, help="runs per measurement (default: %(default)s)"
    )
    p.add_argument(
        "--cold-repeat",
        type=int,
        default=2,
        help="runs of each cold build, fresh N-interpreter build and fresh clone "
        "(default: %(default)s)",
    )
    p.add_argument(
        "--noop-repeat", type=int, default=5, help="runs of the no-op (default: %(default)s)"
    )
    p.add_argument(
        "--interpreters",
        default="3.9,3.10,3.11",
        help=f"consecutive CPython versions for the N-interpreter build and the crate count; "
        f"'one' is {ONE_VERSION} if listed, else the last (default: %(default)s)",
    )
    p.add_argument(
        "--max-load",
        type=float,
        default=0.7,
        help="wait for the 1-minute load average to drop below this before measuring "
        "(default: %(default)s)",
    )
    p.add_argument(
        "--max-wait",
        type=float,
        default=300,
        help="give up waiting for the load after this many seconds, and measure anyway "
        "(default: %(default)s)",
    )
    p.add_argument(
        "--only",
        default=",".join(GROUPS),
        help=f"comma-separated subset of: {','.join(GROUPS)} (default: all)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="a smoke test of every row in minutes: each pair once, no load wait, no fresh "
        "N-interpreter builds, no empty-store cold build, no crate count, the fresh clone "
        "for one interpreter",
    )
    p.add_argument(
        "--maturin", default=shutil.which("maturin") or "maturin", help="the maturin executable"
    )
    p.add_argument(
        "--keep",
        action="store_true",
        help="keep the temporary directory (scratch repo, logs, caches)",
    )
    p.add_argument(
        "--from-json",
        type=Path,
        metavar="RESULTS_JSON",
        help="measure nothing: rewrite the table and chart from the samples in an earlier "
        "results.json",
    )
    p.add_argument(
        "--seed-caches",
        type=Path,
        metavar="KEPT_TMP",
        help="move the local store and maturin's and cargo's target dirs of an earlier run's kept "
        "temporary directory (`--keep`) into this run's, so its untimed set-up compiles less",
    )
    p.add_argument("--no-plot", action="store_true", help="write no PNG chart (no matplotlib venv)")
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)
    unknown = set(args.only.split(",")) - set(GROUPS)
    if unknown:
        p.error(f"--only: unknown {', '.join(sorted(unknown))}; choose from {','.join(GROUPS)}")
    if args.quick:
        args.repeat = args.cold_repeat = args.noop_repeat = 1
        args.max_wait = 0
    return args


def main(argv: Sequence[str]) -> None:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="bench: %(message)s"
    )
    if args.from_json:
        earlier = json.loads(args.from_json.read_text())
        bench = Bench.__new__(Bench)
        bench.measurements = {
            name: Measurement(name, list(x["samples_s"]), list(x["load1_before"]))
            for name, x in earlier["measurements"].items()
        }
        write_results(args, bench, earlier["meta"], earlier["meta"]["interpreters"])
        return
    only = set(args.only.split(","))
    python = find_python(ONE_VERSION)
    if not python:
        raise SystemExit(
            f"CPython {ONE_VERSION} (the example's interpreter) is needed: pyenv or PATH."
        )
    versions = args.interpreters.split(",")
    interpreters_constraint(versions)
    pythons = {v: find_python(v) for v in versions}
    missing = [v for v, p in pythons.items() if not p]
    if missing and ({"interpreters", "crates"} & only):
        raise SystemExit(
            f"--interpreters {args.interpreters}: not installed here (pyenv or PATH): "
            f"{', '.join(missing)}"
        )
    host = host_triple()

    # A SIGTERM restores the crate too: it unwinds through the `finally` below like Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    tmp = Path(tempfile.mkdtemp(prefix="pants-pyo3-bench-"))
    if args.seed_caches:
        # Not the named caches: pex's venvs there hold absolute paths.
        for name in ("store", "cargo-target", "maturin-edit-target"):
            if (args.seed_caches / name).is_dir():
                shutil.move(str(args.seed_caches / name), str(tmp / name))
    repo = prepare_scratch_repo(tmp / "repo", host)
    bench = Bench(args, tmp, repo)
    editor = LibRsEditor(repo)
    meta: dict = {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "nproc": os.cpu_count(),
        "cpu": cpu_model(),
        "load_start": list(os.getloadavg()),
        "repeat": args.repeat,
        "cold_repeat": args.cold_repeat,
        "noop_repeat": args.noop_repeat,
        "interpreters": versions,
        "host": host,
        "quick": args.quick,
        "versions": {
            "pants": "2.17.1",
            "maturin": tool_version([args.maturin, "--version"]),
            "cargo": tool_version(["cargo", "--version"]),
            "rustc": tool_version(["rustc", "--version"]),
            "python": tool_version([python, "--version"]),
        },
        "git_commit": tool_version(["git", "-C", str(REPO), "rev-parse", "HEAD"]),
        # Uncommitted changes to tracked files: the scratch copy had them too.
        "git_dirty": bool(
            subprocess.run(
                ["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                capture_output=True,
                text=True,
            ).stdout.strip()
        ),
    }
    print(
        f"bench: {meta['nproc']} CPUs ({meta['cpu']}); load average "
        f"{' '.join(f'{x:.2f}' for x in meta['load_start'])}"
    )
    logger.info(f"temporary directory {tmp}")
    try:
        # Untimed set-up: crates in cargo's registry for maturin/cargo, and Pants' named caches
        # (crate registry, pex) and store filled once, as on any machine that has built anything
        # before.
        bench.run(
            ["cargo", "fetch", "--locked", "--manifest-path", str(repo / CRATE / "Cargo.toml")],
            label="cargo fetch",
        )
        bench.pants("package", DIST, label="pants set-up")

        def done(group: str) -> None:
            # The table so far, after every group: a run cut short still leaves one.
            meta["groups_done"] = [*meta.get("groups_done", []), group]
            meta["load_end"] = list(os.getloadavg())
            meta["max_load_before"] = max(
                (x for m in bench.measurements.values() for x in m.load1), default=0.0
            )
            write_results(args, bench, meta, versions, final=False)

        # The loops a user runs after an edit first, then the rest.
        if "edit" in only:
            measure_edit(bench, editor, python)
            done("edit")
        if "test" in only:
            measure_tests(bench, editor, python)
            done("test")
        if "pyedit" in only:
            meta["py_edit"] = measure_py_edit(bench)
            done("pyedit")
        if "noop" in only:
            measure_noop(bench)
            done("noop")
        if "interpreters" in only and len(versions) > 1:
            measure_interpreters(bench, editor, versions, pythons)
            done("interpreters")
        # The rest runs without pantsd.
        bench.stop_pantsd()
        if "cold" in only:
            measure_startup(bench)
            measure_cold(bench, editor, python)
            done("cold")
        if "crates" in only and len(versions) > 1 and not args.quick:
            meta["crates_compiled"] = count_crates_per_interpreter(bench, versions, pythons, host)
            done("crates")
        if "linker" in only:
            measure_linker(bench, editor)
            done("linker")
        if "remote" in only:
            meta.update(measure_remote(bench, editor))
            done("remote")
    finally:
        editor.restore()
        bench.stop_pantsd()
        if args.keep:
            logger.info(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    meta["load_end"] = list(os.getloadavg())
    meta["max_load_before"] = max(
        (x for m in bench.measurements.values() for x in m.load1), default=0.0
    )
    meta["load_waits"] = bench.waits
    write_results(args, bench, meta, versions)


def write_results(
    args: argparse.Namespace, bench: Bench, meta: dict, versions: list[str], final: bool = True
) -> None:
    rows = summarize(bench.measurements, versions, meta)
    args.out.mkdir(parents=True, exist_ok=True)
    report = markdown(rows, meta)
    (args.out / "results.md").write_text(report)
    (args.out / "results.json").write_text(
        json.dumps(
            {
                "meta": meta,
                "results": rows,
                "measurements": {k: v.to_json() for k, v in bench.measurements.items()},
            },
            indent=2,
        )
        + "\n"
    )
    if not final:
        logger.info(
            f"partial results ({', '.join(meta['groups_done'])}) in {args.out}/results.{{md,json}}"
        )
        return
    try:
        if args.no_plot:
            raise OSError("--no-plot")
        plot(
            rows,
            args.out / "results.png",
            f"pants-pyo3 vs maturin/cargo, {meta['nproc']} CPUs, {meta['date']}",
        )
    except (subprocess.CalledProcessError, OSError) as e:
        logger.warning(f"no PNG chart: {e}")
    print(report)
    logger.info(f"wrote {args.out}/results.{{md,json,png}}")


if __name__ == "__main__":
    main(sys.argv[1:])
