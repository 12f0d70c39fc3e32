# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

from __future__ import annotations

import os
from pathlib import Path
from textwrap import dedent

import pytest
from pants.testutil.rule_runner import GoalRuleResult, RuleRunner

from pants_pyo3.doctor import Pyo3DoctorGoal, cache_line
from pants_pyo3.testutil import (
    RULE_RUNNER_ENV_INHERIT,
    RULE_RUNNER_GLOBAL_ARGS,
    crate_files,
    plugin_rule_runner,
    rule_runner_env,
)

@pytest.fixture
def rule_runner() -> RuleRunner:
    return plugin_rule_runner()


def write_repo(rule_runner: RuleRunner, extension_kwargs: str = "") -> None:
    rule_runner.write_files(
        {
            **crate_files("src/rust/demo"),
            "src/python/demo/__init__.py": "from demo._native import add\n",
            "src/python/demo/BUILD": dedent(
                f"""\
                python_sources()
                pyo3_extension(name="native", crate="src/rust/demo", module_name="demo._native"{extension_kwargs})
                """
            ),
        }
    )


def run_doctor(rule_runner: RuleRunner, *args: str, named_caches_dir: str | None = None) -> GoalRuleResult:
    named_caches = named_caches_dir or f"{os.environ['HOME']}/.cache/pants/named_caches"
    return rule_runner.run_goal_rule(
        Pyo3DoctorGoal,
        global_args=[*RULE_RUNNER_GLOBAL_ARGS, f"--named-caches-dir={named_caches}"],
        args=args,
        env=rule_runner_env(),
        env_inherit=set(RULE_RUNNER_ENV_INHERIT),
    )


def test_host_build_is_all_checks(rule_runner: RuleRunner, tmp_path: Path) -> None:
    write_repo(rule_runner)
    # A `zig` on the search path is reported (informational).
    zig = tmp_path / "zig"
    zig.write_text("#!/bin/sh\necho 0.13.0\n")
    zig.chmod(0o755)
    result = run_doctor(rule_runner, f"--pyo3-search-paths=['<PATH>', '{tmp_path}']", "src/python/demo::")
    assert result.exit_code == 0, result.stdout + result.stderr
    out = result.stdout
    for expected in (
        "✓ cargo 1.",
        "✓ rustc 1.",
        "✓ toolchain ",
        "✓ linker cc: ",
        "(host; builds use the host triple): standard library installed",
        "src/python/demo:native (module demo._native, profile release)",
        "✓ crate src/rust/demo:demo: demo 0.1.0, cdylib _native, version-specific ABI",
        "✓ Python for CPython==3.11.*: CPython 3.11.",
        "(module suffix .cpython-311-",
        "✓ cargo cache ",
        "✓ 1 `pyo3_extension` build(s) can work.",
    ):
        assert expected in out, f"{expected!r} not in:\n{out}"
    assert f"✓ zig (optional): `zig` at {zig}" in out, out
    # auditwheel is informational: present or not, it is reported and never fails the goal.
    assert "auditwheel (optional): " in out


def test_unmatched_interpreter_and_missing_triple_are_failures_with_fixes(rule_runner: RuleRunner) -> None:
    write_repo(rule_runner, extension_kwargs=', interpreter_constraints=["CPython==3.99.*"]')
    result = run_doctor(
        rule_runner, "--target-triples=['riscv64gc-unknown-linux-gnu']", "src/python/demo::"
    )
    assert result.exit_code == 1, result.stdout + result.stderr
    out = result.stdout
    assert "✗ Python for CPython==3.99.*: no installed interpreter matches" in out, out
    assert "fix: Install a Python that satisfies CPython==3.99.*" in out, out
    assert "`interpreter_constraints` of src/python/demo:native" in out, out
    assert "✗ target riscv64gc-unknown-linux-gnu (requested): not installed" in out, out
    assert "fix: `rustup target add riscv64gc-unknown-linux-gnu`" in out, out
    # The rest is still checked and reported.
    assert "✓ crate src/rust/demo:demo" in out, out
    assert "2 problem(s)" in result.stderr, result.stderr


def test_missing_toolchain_and_unusable_crate_are_reported_not_raised(rule_runner: RuleRunner, tmp_path: Path) -> None:
    write_repo(rule_runner)
    rule_runner.write_files(crate_files("src/rust/demo", crate_type='["rlib"]'))
    result = run_doctor(rule_runner, f"--pyo3-search-paths=['{tmp_path}']", "src/python/demo::")
    assert result.exit_code == 1
    out = result.stdout
    assert "✗ cargo: not found" in out, out
    assert "fix: Cannot find `cargo` on `['" in out and "[pyo3].search_paths" in out, out
    assert "✗ crate src/rust/demo:demo: src/rust/demo/Cargo.toml is unusable" in out, out
    assert 'Add `crate-type = ["cdylib"]`' in out, out
    # The interpreter does not depend on the Rust toolchain: still checked.
    assert "✓ Python for CPython==3.11.*" in out, out


def test_cache_line(tmp_path: Path) -> None:
    assert cache_line(str(tmp_path)).text.endswith("not created yet (the first build creates it)")
    (tmp_path / "pants_pyo_cargo" / "target").mkdir(parents=True)
    (tmp_path / "pants_pyo_cargo" / "target" / "lib.rlib").write_bytes(b"x" * 3000)
    line = cache_line(str(tmp_path))
    assert line.ok and line.text == f"cargo cache {tmp_path}/pants_pyo_cargo: 2.9 KiB"
