# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pants.engine.rules import QueryRule
from pants.testutil.rule_runner import RuleRunner
from pants_pyo3.testutil import RULE_RUNNER_ENV_INHERIT, plugin_rule_runner
from pants_pyo3.toolchain.rust import RustToolchain, toolchain_stamp


def _rustup_toolchains() -> list[Path]:
    home = Path(os.environ.get("RUSTUP_HOME") or Path.home() / ".rustup")
    return sorted(p for p in (home / "toolchains").glob("*") if (p / "bin" / "rustc").is_file())


def _two_releases() -> tuple[Path, Path]:
    """Two installed rustup toolchains whose compilers report different releases."""
    import subprocess

    by_release: dict[str, Path] = {}
    for toolchain in _rustup_toolchains():
        rustc = toolchain / "bin" / "rustc"
        release = subprocess.run(
            [str(rustc), "-V"], capture_output=True, text=True, check=True
        ).stdout
        by_release.setdefault(release, rustc)
    if len(by_release) < 2:
        pytest.fail(f"This test needs two rustup toolchains of different releases: {by_release}")
    first, second = list(by_release.values())[:2]
    return first, second


def test_stamp_moves_with_the_toolchain_files(tmp_path: Path) -> None:
    rustup = tmp_path / "rustup"
    toolchain = rustup / "toolchains" / "stable-x86_64-unknown-linux-gnu"
    (toolchain / "bin").mkdir(parents=True)
    (toolchain / "lib" / "rustlib" / "x86_64-unknown-linux-gnu").mkdir(parents=True)
    (toolchain / "bin" / "rustc").write_text("one")
    (rustup / "settings.toml").write_text('default_toolchain = "stable"\n')
    proxy = tmp_path / "bin" / "rustc"
    proxy.parent.mkdir()
    proxy.symlink_to(toolchain / "bin" / "rustc")

    def stamp() -> str:
        return toolchain_stamp(str(proxy), str(rustup))

    first = stamp()
    assert stamp() == first, "reading the same files twice must give the same stamp"

    # A target's standard library added to the toolchain (`rustup target add`).
    (toolchain / "lib" / "rustlib" / "aarch64-unknown-linux-gnu").mkdir()
    second = stamp()
    assert second != first

    # The compiler replaced in place (`rustup update`).
    (toolchain / "bin" / "rustc").unlink()
    (toolchain / "bin" / "rustc").write_text("two, longer")
    third = stamp()
    assert third != second

    # Another default toolchain (`rustup default nightly`).
    (rustup / "settings.toml").write_text('default_toolchain = "nightly-2026-05-19"\n')
    assert stamp() != third


def test_toolchain_is_probed_again_only_when_it_changed(tmp_path: Path) -> None:
    """The `rustc -vV` probe is cached across runs, keyed by the stamp: a compiler replaced at the
    same path between two runs (as pantsd sees it) is identified afresh."""
    first, second = _two_releases()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    rustc = bin_dir / "rustc"
    rustc.symlink_to(first)

    rule_runner: RuleRunner = plugin_rule_runner(QueryRule(RustToolchain, []))
    rule_runner.set_options(
        [f"--pyo3-search-paths=['{bin_dir}', '<PATH>']"], env_inherit=set(RULE_RUNNER_ENV_INHERIT)
    )
    before = rule_runner.request(RustToolchain, [])
    rule_runner.scheduler.new_run_id()
    assert rule_runner.request(RustToolchain, []) == before

    rustc.unlink()
    rustc.symlink_to(second)
    rule_runner.scheduler.new_run_id()
    after = rule_runner.request(RustToolchain, [])
    assert after.release != before.release
    assert after.sysroot == str(second.parent.parent)
