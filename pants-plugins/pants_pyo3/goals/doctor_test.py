# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

from __future__ import annotations

import json
import os
from pathlib import Path
from textwrap import dedent

import pytest
from pants.testutil.rule_runner import GoalRuleResult, RuleRunner
from pants_pyo3.goals.doctor import Pyo3DoctorGoal, cache_line, zig_line
from pants_pyo3.testutil import (
    RULE_RUNNER_ENV_INHERIT,
    RULE_RUNNER_GLOBAL_ARGS,
    crate_files,
    emptied_build_root,
    plugin_rule_runner,
    rule_runner_env,
)

CROSS_DESCRIPTOR = Path("/opt/pants-pyo3/cross/aarch64-unknown-linux-gnu/toolchain.json")
HOST = "x86_64-unknown-linux-gnu"


@pytest.fixture(scope="module")
def engine() -> RuleRunner:
    return plugin_rule_runner()


@pytest.fixture
def rule_runner(engine: RuleRunner) -> RuleRunner:
    return emptied_build_root(engine)


def write_repo(rule_runner: RuleRunner, extension_kwargs: str, **crate_kwargs: str) -> None:
    rule_runner.write_files(
        {
            **crate_files("src/rust/demo", **crate_kwargs),
            "src/python/demo/__init__.py": "from demo._native import add\n",
            "src/python/demo/BUILD": dedent(
                "python_sources()\n"
                'pyo3_extension(name="native", crate="src/rust/demo", module_name="demo._native"'
                f"{extension_kwargs})\n"
            ),
        }
    )


def run_doctor(
    rule_runner: RuleRunner, *args: str, named_caches_dir: str | None = None
) -> GoalRuleResult:
    named_caches = named_caches_dir or f"{os.environ['HOME']}/.cache/pants/named_caches"
    return rule_runner.run_goal_rule(
        Pyo3DoctorGoal,
        global_args=[
            # A test's own `--pyo3-manylinux` replaces the RuleRunner default (`auto`).
            *(
                a
                for a in RULE_RUNNER_GLOBAL_ARGS
                if not (
                    a.startswith("--pyo3-manylinux=")
                    and any(b.startswith("--pyo3-manylinux=") for b in args)
                )
            ),
            f"--named-caches-dir={named_caches}",
        ],
        args=args,
        env=rule_runner_env(),
        env_inherit=set(RULE_RUNNER_ENV_INHERIT),
    )


def assert_lines(out: str, *expected: str) -> None:
    for line in expected:
        assert line in out, f"{line!r} not in:\n{out}"


def doctor(
    rule_runner: RuleRunner,
    extension_kwargs: str,
    *args: str,
    exit_code: int = 0,
    **crate_kwargs: str,
) -> GoalRuleResult:
    """Check `src/python/demo:native`, built with `extension_kwargs`, and expect `exit_code`."""
    write_repo(rule_runner, extension_kwargs, **crate_kwargs)
    result = run_doctor(rule_runner, *args, "src/python/demo::")
    assert result.exit_code == exit_code, result.stdout + result.stderr
    return result


def test_every_interpreter_of_the_matrix_and_the_host_triple(rule_runner: RuleRunner) -> None:
    # The plugin's default policy (RuleRunner tests otherwise run with `auto`).
    out = doctor(
        rule_runner,
        ', interpreter_constraints=["CPython>=3.10,<3.12"]',
        "--pyo3-manylinux=manylinux2014",
    ).stdout
    assert_lines(
        out,
        "✓ cargo 1.",
        "✓ rustc 1.",
        "✓ toolchain ",
        "✓ linker cc: ",
        f"✓ host target {HOST} (build scripts, proc macros, builds for this machine): "
        "standard library installed",
        "src/python/demo:native (module demo._native, profile release)",
        "✓ crate src/rust/demo:demo: demo 0.1.0, cdylib _native, version-specific ABI",
        "✓ interpreters for CPython<3.12,>=3.10: CPython 3.10, 3.11 "
        "(of `[python].interpreter_versions_universe`)",
        "✓ CPython 3.10: CPython 3.10.",
        "(module suffix .cpython-310-x86_64-linux-gnu.so)",
        "✓ CPython 3.11: CPython 3.11.",
        "(module suffix .cpython-311-x86_64-linux-gnu.so)",
        f"✓ target {HOST} (host): host toolchain, sysroot ",
        'Wheels\n  ✓ `[pyo3].manylinux = "manylinux2014"`: modules for glibc Linux triples are '
        "linked, and their C code compiled, for glibc 2.17 with zig; each wheel must comply with "
        "manylinux2014, checked by auditwheel 6.1.0's analysis, run in the wheel build (installed "
        "from `[pyo3-auditwheel]`'s lockfile; nothing to install)",
        # zig is installed by the plugin: reported, never a failure.
        "✓ zig 0.17.1 (ziglang==0.17.1): ",
        "✓ cargo cache ",
        "✓ 1 `pyo3_extension` target(s): every build can work.",
    )
    assert "Wheel tooling" not in out, out
    out = doctor(rule_runner, "", "--pyo3-manylinux=auto").stdout
    assert_lines(
        out,
        'Wheels\n  ✓ `[pyo3].manylinux = "auto"`: each wheel gets the most compatible manylinux '
        "tag its modules comply with, by auditwheel 6.1.0's analysis",
    )
    assert "zig" not in out, out


def test_abi3_floor_against_the_admitted_versions(rule_runner: RuleRunner) -> None:
    abi3 = {"pyo3_features": '["extension-module", "abi3-py310"]'}
    result = doctor(
        rule_runner, ', interpreter_constraints=["CPython>=3.9,<3.12"]', exit_code=1, **abi3
    )
    assert_lines(
        result.stdout,
        "✓ crate src/rust/demo:demo: demo 0.1.0, cdylib _native, abi3 for CPython >= 3.10",
        "✗ abi3 floor CPython 3.10 is above admitted 3.9",
        "fix: The `pyo3_extension` target src/python/demo:native enables pyo3's abi3 feature "
        "for CPython >= 3.10",
        '`__defaults__(all=dict(interpreter_constraints=["CPython>=3.10,<3.12"]))`',
    )
    assert "1 problem(s)" in result.stderr, result.stderr

    out = doctor(rule_runner, ', interpreter_constraints=["CPython>=3.10,<3.12"]', **abi3).stdout
    assert_lines(
        out,
        "✓ abi3 floor CPython 3.10 <= every admitted version: one build, against CPython 3.10, "
        "for all of them",
        "✓ CPython 3.10: CPython 3.10.",
        "(module suffix .abi3.so)",
    )
    assert "✓ CPython 3.11:" not in out, out


def test_missing_interpreter_unknown_triple_broken_cross_toolchain_are_failures_with_fixes(
    rule_runner: RuleRunner, tmp_path: Path
) -> None:
    missing = {t: str(tmp_path / t) for t in ("rustc", "cargo", "linker")}
    # Tools that exist, but a rustc without the triple's standard library: the probe fails.
    armv7 = {}
    for tool in ("rustc", "cargo", "linker"):
        path = tmp_path / "armv7" / tool
        path.parent.mkdir(exist_ok=True)
        path.write_text("#!/bin/sh\necho 'error: no std for armv7' >&2\nexit 1\n")
        path.chmod(0o755)
        armv7[tool] = str(path)
    toolchains = {"aarch64-unknown-linux-gnu": missing, "armv7-unknown-linux-gnueabihf": armv7}
    result = doctor(
        rule_runner,
        # 3.14 is in the test universe but not installed here.
        ', interpreter_constraints=["CPython>=3.11,<3.15"]'
        ', target_triples=["riscv64gc-unknown-linux-gnu", "aarch64-unknown-linux-gnu", '
        '"armv7-unknown-linux-gnueabihf"]',
        f"--pyo3-cross-toolchains={toolchains!r}",
        "--pyo3-manylinux=manylinux_2_17",
        exit_code=1,
    )
    assert_lines(
        result.stdout,
        "✓ interpreters for CPython<3.15,>=3.11: CPython 3.11, 3.12, 3.13, 3.14",
        "✓ CPython 3.13: CPython 3.13.",
        "✗ CPython 3.14: no interpreter found",
        "fix: The `pyo3_extension` target src/python/demo:native is built for every CPython "
        "version",
        "Install CPython 3.14 (e.g. `pyenv install 3.14`)",
        # 3.14 is the top of what the constraints admit: the narrowing keeps the rest.
        '`interpreter_constraints=["CPython>=3.11,<3.14"]`',
        "✗ target riscv64gc-unknown-linux-gnu: no standard library and no `[pyo3-cross]` toolchain",
        "`rustup target add riscv64gc-unknown-linux-gnu`",
        f"✗ target aarch64-unknown-linux-gnu: `[pyo3-cross]` toolchain: rustc {tmp_path}/rustc, "
        f"linker {tmp_path}/linker: The `rustc` of the `aarch64-unknown-linux-gnu` toolchain, "
        f"{tmp_path}/rustc, is not an executable file.",
        "fix: On Debian 12 run `build-support/cross/setup-aarch64.sh` as root",
        f"✗ target armv7-unknown-linux-gnueabihf: `[pyo3-cross]` toolchain: rustc "
        f"{armv7['rustc']}, linker {armv7['linker']}: that rustc has no standard library for "
        "`armv7-unknown-linux-gnueabihf` (error: no std for armv7)",
        "fix: Fix the `armv7-unknown-linux-gnueabihf` entry of `[pyo3-cross].toolchains`; "
        "see docs/cross.md.",
        '✓ `[pyo3].manylinux = "manylinux_2_17"`: modules for glibc Linux triples are linked, and '
        "their C code compiled, for glibc 2.17 with zig; each wheel must comply with "
        "manylinux_2_17",
    )
    # 3.14, riscv64, aarch64's rustc, cargo and linker, and armv7's standard library.
    assert "6 problem(s)" in result.stderr, result.stderr
    assert ">=3.15" not in result.stdout, result.stdout


def test_constraints_outside_the_universe_are_a_failure_not_a_crash(
    rule_runner: RuleRunner,
) -> None:
    out = doctor(rule_runner, ', interpreter_constraints=["CPython==3.15.*"]', exit_code=1).stdout
    assert_lines(
        out,
        "✗ interpreters for CPython==3.15.*: none admitted",
        "The `interpreter_constraints` of the `pyo3_extension` target src/python/demo:native",
        "interpreter_versions_universe",
    )


@pytest.mark.skipif(
    not CROSS_DESCRIPTOR.is_file(),
    reason="no aarch64 toolchain (build-support/cross/setup-aarch64.sh)",
)
def test_configured_cross_toolchain(rule_runner: RuleRunner) -> None:
    toolchain = json.loads(CROSS_DESCRIPTOR.read_text())
    result = doctor(
        rule_runner,
        ', interpreter_constraints=["CPython>=3.10,<3.12"], '
        f'target_triples=["{HOST}", "aarch64-unknown-linux-gnu"]',
        f"--pyo3-cross-toolchains={{'aarch64-unknown-linux-gnu': {toolchain!r}}}",
    )
    assert_lines(
        result.stdout,
        f"✓ target {HOST} (host): host toolchain",
        f"✓ target aarch64-unknown-linux-gnu: `[pyo3-cross]` toolchain: rustc "
        f"{toolchain['rustc']}, linker {toolchain['linker']}, sysroot {toolchain['sysroot']}",
        # The sysroot holds CPython 3.11 only: 3.10 modules build, but can't be tested.
        "✗ target aarch64-unknown-linux-gnu (informational): CPython 3.10 modules build, "
        "but can't be tested: "
        f"The sysroot {toolchain['sysroot']} has no CPython 3.10 for `aarch64-unknown-linux-gnu`",
        "fix: Only to test them under emulation: put the `aarch64-unknown-linux-gnu` CPython "
        "of those versions",
    )


def test_host_only_lists_the_triples_it_leaves_out(rule_runner: RuleRunner) -> None:
    riscv = "riscv64gc-unknown-linux-gnu"
    out = doctor(
        rule_runner,
        f', interpreter_constraints=["CPython==3.11.*"], target_triples=["{HOST}", "{riscv}"]',
        "--pyo3-host-only",
    ).stdout
    assert_lines(
        out,
        f"✓ target {HOST} (host): host toolchain",
        f"✓ target {riscv}: left out (`[pyo3].host_only`)",
    )


def test_host_only_without_the_host_triple_is_a_failure(rule_runner: RuleRunner) -> None:
    riscv = "riscv64gc-unknown-linux-gnu"
    result = doctor(
        rule_runner,
        f', interpreter_constraints=["CPython==3.11.*"], target_triples=["{riscv}"]',
        "--pyo3-host-only",
        exit_code=1,
    )
    assert_lines(
        result.stdout,
        "✗ target triples: none is this machine's",
        f"fix: `[pyo3].host_only` builds for this machine's triple (`{HOST}`) only",
    )


def test_missing_toolchain_unusable_crate_and_bad_policy_are_reported_not_raised(
    rule_runner: RuleRunner, tmp_path: Path
) -> None:
    out = doctor(
        rule_runner,
        "",
        f"--pyo3-search-paths=['{tmp_path}']",
        "--pyo3-manylinux=manylinux_2_x",
        exit_code=1,
        crate_type='["rlib"]',
    ).stdout
    assert_lines(
        out,
        "✗ cargo: not found",
        "[pyo3].search_paths",
        "✗ crate 'src/rust/demo': can't be built",
        'Add `crate-type = ["cdylib"]`',
        # The interpreters do not depend on the Rust toolchain: still checked.
        "✓ CPython 3.11: CPython 3.11.",
        "✗ target triples: the host's, unknown without a Rust toolchain",
        "✗ `[pyo3].manylinux`: invalid",
        "but was 'manylinux_2_x'",
    )
    assert "fix: Cannot find `cargo` on `['" in out, out


def test_cache_line(tmp_path: Path) -> None:
    assert cache_line(str(tmp_path)).text.endswith("not created yet (the first build creates it)")
    (tmp_path / "pants_pyo_cargo" / "target").mkdir(parents=True)
    (tmp_path / "pants_pyo_cargo" / "target" / "lib.rlib").write_bytes(b"x" * 3000)
    line = cache_line(str(tmp_path))
    assert line.ok and line.text == f"cargo cache {tmp_path}/pants_pyo_cargo: 2.9 KiB"


def test_zig_line_reports_the_installed_zig_and_its_cache(tmp_path: Path) -> None:
    line = zig_line(str(tmp_path))
    assert line.ok and "not installed yet: the first build installs it from PyPI" in line.text
    assert f"its cache {tmp_path}/pants_pyo_zig: not created yet" in line.text
    zig = tmp_path / "pex_root/installed_wheels/abc/ziglang-0.17.1-py3-none-any.whl/ziglang/zig"
    zig.parent.mkdir(parents=True)
    zig.write_bytes(b"\0")
    (tmp_path / "pants_pyo_zig").mkdir()
    (tmp_path / "pants_pyo_zig" / "o").write_bytes(b"x" * 2048)
    line = zig_line(str(tmp_path))
    assert line.text == (
        f"zig 0.17.1 (ziglang==0.17.1): installed at {zig}; "
        f"its cache {tmp_path}/pants_pyo_zig: 2.0 KiB"
    )
