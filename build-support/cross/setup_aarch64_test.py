"""setup-aarch64.sh on a machine where none of its packages was ever installed.

The script asks the real `dpkg-query` about each package. dpkg reads its database from
`DPKG_ADMINDIR` when that is set, so an empty database makes every package one dpkg has never heard
of, as on a new machine, while this machine's own packages stay as they are.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path("build-support/cross/setup-aarch64.sh")

pytestmark = pytest.mark.skipif(
    shutil.which("dpkg-query") is None, reason="needs dpkg (Debian/Ubuntu)"
)


def empty_dpkg_database(path: Path) -> Path:
    (path / "info").mkdir(parents=True)
    (path / "updates").mkdir()
    (path / "status").touch()
    (path / "available").touch()
    return path


def test_check_lists_every_missing_piece_on_a_new_machine(tmp_path: Path) -> None:
    admindir = empty_dpkg_database(tmp_path / "dpkg")
    cross_root = tmp_path / "cross"
    env = {**os.environ, "DPKG_ADMINDIR": str(admindir), "PANTS_PYO3_CROSS_ROOT": str(cross_root)}

    # The path under test: dpkg-query itself fails for a package it has never heard of.
    probe = subprocess.run(
        ["dpkg-query", "-W", "rustc-web"], env=env, capture_output=True, text=True
    )
    assert probe.returncode != 0, probe

    result = subprocess.run(
        ["bash", str(SCRIPT), "--check"], env=env, capture_output=True, text=True
    )

    assert result.returncode == 1, result
    lines = result.stderr.splitlines()
    assert "setup-aarch64: missing:" in lines, result.stderr
    for package in (
        "rustc-web",
        "cargo-web",
        "libstd-rust-web-dev:arm64",
        "gcc-aarch64-linux-gnu",
        "libc6-dev-arm64-cross",
        "qemu-user",
    ):
        assert any(line.startswith(f"setup-aarch64:   apt package {package}=") for line in lines), (
            package,
            result.stderr,
        )
    assert any(
        line.startswith(
            "setup-aarch64:   aarch64 python sysroot "
            f"{cross_root}/aarch64-unknown-linux-gnu/sysroot"
        )
        for line in lines
    ), result.stderr
    # --check only reports.
    assert not cross_root.exists()
