#!/usr/bin/env python3
# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""Run a cache-only BuildGrid server on 127.0.0.1 as a remote cache for Pants
(see docs/remote-cache.md).

    python3 build-support/remote-cache/buildgrid.py            # port 50051, as
                                                               # pants.remote-cache.toml says
    python3 build-support/remote-cache/buildgrid.py --port 0   # a free port, printed on start

BuildGrid (PyPI `buildgrid`) needs CPython >= 3.12; the first run installs it into a venv under
~/.cache/pants-pyo3-buildgrid (found on pyenv's versions or PATH; `--python` to choose). The server
keeps the CAS and the action cache in memory (`!lru-storage`, `!lru-action-cache`): no database,
nothing on disk, gone when it stops. It serves only the action cache, CAS and ByteStream services,
without TLS or authentication: keep it on loopback.

The script ends by exec'ing `bgd server start`, so its pid is the server's: SIGTERM or Ctrl-C stops
it. Standard library only, any Python >= 3.8.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Sequence

BUILDGRID_VERSION = "0.9.1"
DEFAULT_PORT = 50051
MIN_PYTHON = (3, 12)

CONFIG = """\
# Cache-only BuildGrid: an in-memory CAS and action cache, no execution service, no database.
server:
  - !channel
    address: "127.0.0.1:{port}"
    insecure-mode: true

storages:
  - !lru-storage &cas
    size: {cas_size}

caches:
  - !lru-action-cache &action-cache
    storage: *cas
    max-cached-refs: {max_cached_refs}
    allow-updates: true
    cache-failed-actions: false

instances:
  # Pants' default `remote_instance_name` is the empty instance name.
  - name: "{instance}"
    services:
      - !action-cache
        cache: *action-cache
      - !cas
        storage: *cas
      - !bytestream
        storage: *cas
"""


def python_version(python: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run(
            [python, "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    major, minor = out.stdout.split()
    return int(major), int(minor)


def find_python() -> str:
    """The newest installed CPython >= 3.12: pyenv's versions first, then PATH."""
    roots = []
    if shutil.which("pyenv"):
        out = subprocess.run(["pyenv", "root"], capture_output=True, text=True)
        if out.returncode == 0:
            roots.append(Path(out.stdout.strip()))
    roots.append(Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")))
    candidates = [
        str(p) for root in roots for p in sorted((root / "versions").glob("3.*/bin/python3.*"))
    ]
    candidates += [
        p for p in (shutil.which(f"python3.{m}") for m in range(30, MIN_PYTHON[1] - 1, -1)) if p
    ]
    found = []
    for candidate in dict.fromkeys(candidates):
        if not candidate.rsplit("python", 1)[1].replace(".", "").isdigit():
            continue
        version = python_version(candidate)
        if version and version >= MIN_PYTHON:
            found.append((version, candidate))
    if not found:
        raise SystemExit(
            f"BuildGrid {BUILDGRID_VERSION} needs CPython >= {'.'.join(map(str, MIN_PYTHON))} "
            "and none was found on "
            "pyenv's versions or PATH. Install one (`pyenv install 3.13`) or pass --python."
        )
    return max(found)[1]


def ensure_venv(venv: Path, python: str) -> Path:
    """A venv with buildgrid installed (once; concurrent callers wait on a lock). Returns its
    `bgd`."""
    venv.parent.mkdir(parents=True, exist_ok=True)
    bgd = venv / "bin" / "bgd"
    with open(f"{venv}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (venv / ".complete").exists():
            print(
                f"buildgrid.py: installing buildgrid {BUILDGRID_VERSION} into {venv} (once)",
                file=sys.stderr,
            )
            shutil.rmtree(venv, ignore_errors=True)
            subprocess.run([python, "-m", "venv", str(venv)], check=True)
            subprocess.run(
                [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-input",
                 f"buildgrid=={BUILDGRID_VERSION}"],
                check=True,
                # Isolate pip from a site config that may add a constraints file.
                env={**os.environ, "PIP_CONFIG_FILE": "/dev/null"},
            )
            (venv / ".complete").touch()
    return bgd


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def default_venv(python: str) -> Path:
    major, minor = python_version(python) or (0, 0)
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return cache / "pants-pyo3-buildgrid" / f"buildgrid-{BUILDGRID_VERSION}-py{major}.{minor}"


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="0 picks a free port (default: %(default)s)"
    )
    p.add_argument(
        "--python", help="a CPython >= 3.12 to run BuildGrid (default: the newest found)"
    )
    p.add_argument("--venv", type=Path, help="where to install BuildGrid (default: under ~/.cache)")
    p.add_argument(
        "--config-dir", type=Path, help="where to write the server config (default: a temp dir)"
    )
    p.add_argument("--cas-size", default="2G", help="in-memory CAS size (default: %(default)s)")
    p.add_argument(
        "--max-cached-refs",
        type=int,
        default=100_000,
        help="action cache entries (default: %(default)s)",
    )
    p.add_argument(
        "--instance", default="", help="REAPI instance name (default: empty, as Pants' default)"
    )
    p.add_argument("--install-only", action="store_true", help="install BuildGrid, then exit")
    return p.parse_args(argv)


def main(argv: Sequence[str]) -> None:
    args = parse_args(argv)
    python = args.python or find_python()
    bgd = ensure_venv(args.venv or default_venv(python), python)
    if args.install_only:
        return
    port = args.port or free_port()
    config_dir = args.config_dir or Path(tempfile.mkdtemp(prefix="pants-pyo3-buildgrid-"))
    config_dir.mkdir(parents=True, exist_ok=True)
    config = config_dir / "buildgrid.yml"
    config.write_text(
        CONFIG.format(
            port=port,
            cas_size=args.cas_size,
            max_cached_refs=args.max_cached_refs,
            instance=args.instance,
        )
    )
    address = f"grpc://127.0.0.1:{port}"
    print(
        f"buildgrid.py: serving a remote cache on {address}; point Pants at it with",
        file=sys.stderr,
    )
    print(f"export PANTS_REMOTE_STORE_ADDRESS={address}", flush=True)
    sys.stderr.flush()
    os.execv(str(bgd), [str(bgd), "server", "start", str(config)])


if __name__ == "__main__":
    main(sys.argv[1:])
