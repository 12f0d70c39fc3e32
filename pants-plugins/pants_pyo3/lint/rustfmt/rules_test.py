# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

from __future__ import annotations

import os
from pathlib import Path
from textwrap import dedent

import pytest
from pants.testutil.rule_runner import QueryRule, RuleRunner, engine_error
from pants_pyo3.errors import RustComponentNotFoundError
from pants_pyo3.lint.rustfmt.rules import _ancestor_dirs, _crate_edition
from pants_pyo3.testutil import (
    RULE_RUNNER_ENV_INHERIT,
    RULE_RUNNER_GLOBAL_ARGS,
    emptied_build_root,
    plugin_rule_runner,
    rule_runner_env,
)
from pants_pyo3.toolchain.rust import RustComponent, RustComponentRequest


@pytest.fixture(scope="module")
def engine() -> RuleRunner:
    return plugin_rule_runner(QueryRule(RustComponent, [RustComponentRequest]))


@pytest.fixture
def rule_runner(engine: RuleRunner) -> RuleRunner:
    return emptied_build_root(engine)


def set_options(rule_runner: RuleRunner, *extra: str) -> None:
    rule_runner.set_options(
        [*RULE_RUNNER_GLOBAL_ARGS, *extra],
        env=rule_runner_env(),
        env_inherit=set(RULE_RUNNER_ENV_INHERIT),
    )


def test_components_come_from_the_toolchain(rule_runner: RuleRunner) -> None:
    set_options(rule_runner)
    for component, binary in (("clippy", "cargo-clippy"), ("rustfmt", "rustfmt")):
        found = rule_runner.request(RustComponent, [RustComponentRequest(component)])
        assert os.path.basename(found.binary.path) == binary


def fake_toolchain(root: Path) -> Path:
    """`cargo`, `rustc` and `cc` that answer `--version`, with a sysroot that has no components."""
    bin_dir = root / "bin"
    bin_dir.mkdir()
    sysroot = root / "sysroot"
    (sysroot / "bin").mkdir(parents=True)
    rustc = dedent(
        f"""\
        #!/bin/sh
        case "$1" in
          --print) echo {sysroot} ;;
          -vV) printf 'rustc 1.0.0\\nhost: x86_64-unknown-linux-gnu\\nrelease: 1.0.0\\n' ;;
          *) echo rustc 1.0.0 ;;
        esac
        """
    )
    for name, script in (
        ("rustc", rustc),
        ("cargo", "#!/bin/sh\necho cargo 1.0.0\n"),
        ("cc", "#!/bin/sh\necho cc 1\n"),
    ):
        (bin_dir / name).write_text(script)
        (bin_dir / name).chmod(0o755)
    return bin_dir


def test_missing_component_names_the_rustup_fix(rule_runner: RuleRunner, tmp_path: Path) -> None:
    set_options(rule_runner, f"--pyo3-search-paths=['{fake_toolchain(tmp_path)}']")
    for component in ("clippy", "rustfmt"):
        with engine_error(RustComponentNotFoundError, contains=f"rustup component add {component}"):
            rule_runner.request(RustComponent, [RustComponentRequest(component)])


def test_crate_edition_defaults_like_cargo() -> None:
    from pants.engine.fs import DigestContents, FileContent

    def contents(text: str) -> DigestContents:
        return DigestContents([FileContent("src/rust/a/Cargo.toml", text.encode())])

    assert (
        _crate_edition(contents('[package]\nname = "a"\nedition = "2021"\n'), "src/rust/a")
        == "2021"
    )
    assert _crate_edition(contents('[package]\nname = "a"\n'), "src/rust/a") == "2015"
    assert _crate_edition(contents("not toml ["), "src/rust/a") == "2015"


def test_rustfmt_configs_are_looked_up_in_the_crate_and_above() -> None:
    assert _ancestor_dirs("src/rust/a") == ["", "src", "src/rust", "src/rust/a"]
    assert _ancestor_dirs("") == [""]


def test_each_skip_field_opts_the_crate_out_of_its_own_tool_only(rule_runner: RuleRunner) -> None:
    from pants.engine.addresses import Address
    from pants_pyo3.goals.test import CargoTestFieldSet
    from pants_pyo3.lint.clippy.rules import CargoClippyFieldSet
    from pants_pyo3.lint.rustfmt.rules import RustfmtFieldSet

    field_sets = {
        "skip_cargo_test": CargoTestFieldSet,
        "skip_cargo_clippy": CargoClippyFieldSet,
        "skip_rustfmt": RustfmtFieldSet,
    }
    rule_runner.write_files(
        {
            "plain/BUILD": "cargo_crate()\n",
            **{f"{skip}/BUILD": f"cargo_crate({skip}=True)\n" for skip in field_sets},
        }
    )
    plain = rule_runner.get_target(Address("plain"))
    assert all(fs.is_applicable(plain) for fs in field_sets.values())
    for skip in field_sets:
        tgt = rule_runner.get_target(Address(skip))
        applicable = {s for s, fs in field_sets.items() if fs.is_applicable(tgt)}
        assert applicable == set(field_sets) - {skip}, skip
