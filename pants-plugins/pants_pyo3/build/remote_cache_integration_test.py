# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""A shared remote cache (BuildGrid) serves the cargo build to a second, clean checkout."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from textwrap import dedent
from typing import Iterator

import pytest
from pants_pyo3.testutil import PantsResult, TempRepo, crate_files, stop_process

# Put into the sandbox by the `build-support/remote-cache:scripts` dependency.
REMOTE_CACHE_DIR = Path("build-support/remote-cache")
BUILDGRID_SCRIPT = REMOTE_CACHE_DIR / "buildgrid.py"
REMOTE_CACHE_TOML = REMOTE_CACHE_DIR / "pants.remote-cache.toml"

CARGO_DESCRIPTION = "Building src/python/demo:native with cargo"

FILES = {
    **crate_files("src/rust/demo"),
    "src/python/demo/__init__.py": "from demo._native import add\n",
    "src/python/demo/BUILD": dedent(
        """\
        python_sources()
        pyo3_extension(name="native", crate="src/rust/demo", module_name="demo._native")
        """
    ),
    "pants.remote-cache.toml": REMOTE_CACHE_TOML.read_text(),
}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _buildgrid_version() -> str:
    match = re.search(r'^BUILDGRID_VERSION = "(.+)"$', BUILDGRID_SCRIPT.read_text(), re.M)
    assert match, f"no BUILDGRID_VERSION in {BUILDGRID_SCRIPT}"
    return match.group(1)


@pytest.fixture(scope="module")
def remote_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A BuildGrid server on a free loopback port; its venv is kept in the temp dir across tests and
    runs."""
    venv = Path(tempfile.gettempdir()) / f"pants-pyo3-buildgrid-{_buildgrid_version()}"
    workdir = tmp_path_factory.mktemp("buildgrid")
    port = _free_port()
    log_path = workdir / "server.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [
                sys.executable,
                str(BUILDGRID_SCRIPT),
                "--port",
                str(port),
                "--venv",
                str(venv),
                "--config-dir",
                str(workdir),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        # The first run installs BuildGrid from PyPI; later ones only start the server.
        deadline = time.monotonic() + 600
        while True:
            if server.poll() is not None:
                pytest.fail(f"BuildGrid exited with {server.returncode}:\n{log_path.read_text()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"BuildGrid did not listen on port {port}:\n{log_path.read_text()}")
                time.sleep(0.5)
        yield f"grpc://127.0.0.1:{port}"
    finally:
        stop_process(server, timeout=30)


def _counters(result: PantsResult) -> dict[str, int]:
    """The `[stats]` counters Pants logged at the end of the run."""
    return {
        name: int(value) for name, value in re.findall(r"^\s+(\w+): (\d+)$", result.stderr, re.M)
    }


def _build(repo: TempRepo, home: Path, address: str) -> tuple[PantsResult, dict[str, int]]:
    """Build the module with the remote cache on, and this checkout's own local store and named
    caches."""
    result = repo.pants(
        # Added to pants.toml, as `PANTS_CONFIG_FILES=...` adds it in docs/remote-cache.md.
        "--pants-config-files=pants.remote-cache.toml",
        f"--remote-store-address={address}",
        f"--local-store-dir={home / 'lmdb_store'}",
        f"--named-caches-dir={home / 'named_caches'}",
        "export-codegen",
        "src/python/demo:native",
    ).assert_success()
    return result, _counters(result)


def _cargo_ran(home: Path) -> bool:
    # The build driver mirrors the crate into the named cache before running cargo in it.
    return (home / "named_caches" / "pants_pyo_cargo" / "src").exists()


def test_second_checkout_gets_the_cargo_build_from_the_remote_cache(
    remote_cache: str, tmp_path: Path
) -> None:
    first, second = (TempRepo(tmp_path / name, FILES) for name in ("first", "second"))
    first_home, second_home = tmp_path / "first-home", tmp_path / "second-home"

    _result, counters = _build(first, first_home, remote_cache)
    assert _cargo_ran(first_home)
    assert counters["remote_cache_write_successes"] >= 1, counters

    # A clean checkout with an empty local store and empty named caches: cargo's result comes from
    # BuildGrid.
    result, counters = _build(second, second_home, remote_cache)
    assert counters["remote_cache_requests_cached"] >= 1, counters
    assert not _cargo_ran(second_home), f"cargo ran in the second checkout:\n{result.stderr}"
    module = second.root / "dist/codegen/src/python/demo/_native.cpython-311-x86_64-linux-gnu.so"
    assert module.is_file(), sorted(str(p) for p in (second.root / "dist").rglob("*"))

    # One changed line of Rust is a new cache key: a remote miss, and cargo builds. (It builds with
    # the first checkout's named caches, so that it only recompiles the crate rather than pyo3 too.)
    lib_rs = second.root / "src/rust/demo/src/lib.rs"
    lib_rs.write_text(lib_rs.read_text().replace("a + b", "b + a"))
    result = second.pants(
        "--pants-config-files=pants.remote-cache.toml",
        f"--remote-store-address={remote_cache}",
        f"--local-store-dir={second_home / 'lmdb_store'}",
        f"--named-caches-dir={first_home / 'named_caches'}",
        "export-codegen",
        "src/python/demo:native",
    ).assert_success()
    counters = _counters(result)
    assert counters["remote_cache_requests_uncached"] >= 1, counters
    assert f"Completed: {CARGO_DESCRIPTION}" in result.stderr, result.stderr
    # The build ran in this checkout's mirror (one per build root, under `src/`).
    mirrored = (first_home / "named_caches/pants_pyo_cargo/src").glob("*/src/rust/demo/src/lib.rs")
    assert any("b + a" in lib.read_text() for lib in mirrored)
