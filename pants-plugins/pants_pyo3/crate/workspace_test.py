# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

from __future__ import annotations

import os
import shutil
import subprocess
from textwrap import dedent

import pytest
from pants.engine.addresses import Address, Addresses
from pants.engine.target import Dependencies, DependenciesRequest
from pants.testutil.rule_runner import QueryRule, RuleRunner, engine_error
from pants_pyo3.crate.crate import CrateSources, CrateSourcesRequest
from pants_pyo3.errors import CargoManifestError, CargoPathDependencyError
from pants_pyo3.testutil import (
    RULE_RUNNER_ENV_INHERIT,
    RULE_RUNNER_GLOBAL_ARGS,
    crate_files,
    emptied_build_root,
    plugin_rule_runner,
    rule_runner_env,
)

EXT = Address("src/rust/ext")


@pytest.fixture(scope="module")
def engine() -> RuleRunner:
    return plugin_rule_runner(
        QueryRule(CrateSources, [CrateSourcesRequest]),
        QueryRule(Addresses, [DependenciesRequest]),
    )


@pytest.fixture
def rule_runner(engine: RuleRunner) -> RuleRunner:
    rule_runner = emptied_build_root(engine)
    rule_runner.set_options(
        list(RULE_RUNNER_GLOBAL_ARGS),
        env=rule_runner_env(),
        env_inherit=set(RULE_RUNNER_ENV_INHERIT),
    )
    return rule_runner


def plain_crate(path: str, name: str, extra: str = "") -> dict[str, str]:
    """A Rust library crate with no BUILD file."""
    return {
        f"{path}/Cargo.toml": dedent(
            f"""\
            [package]
            name = "{name}"
            version = "0.1.0"
            edition = "2021"
            {extra}
            """
        ),
        f"{path}/src/lib.rs": "pub fn one() -> i64 {\n    1\n}\n",
    }


def with_path_dependency(files: dict[str, str], crate: str, dep: str, spec: str) -> None:
    files[f"{crate}/Cargo.toml"] += f"{dep} = {spec}\n"


def dependencies(rule_runner: RuleRunner, address: Address) -> set[Address]:
    tgt = rule_runner.get_target(address)
    return set(rule_runner.request(Addresses, [DependenciesRequest(tgt[Dependencies])]))


def cargo_metadata(rule_runner: RuleRunner, sources: CrateSources) -> subprocess.CompletedProcess:
    """Runs `cargo metadata` (which loads the whole workspace) on exactly the crate's files."""
    sandbox = os.path.join(rule_runner.build_root, "sandbox")
    shutil.rmtree(sandbox, ignore_errors=True)
    rule_runner.write_digest(sources.sources.snapshot.digest, path_prefix="sandbox")
    return subprocess.run(
        [
            "cargo",
            "metadata",
            "--no-deps",
            "--offline",
            "--format-version=1",
            "--manifest-path",
            os.path.join(sandbox, EXT.spec_path, "Cargo.toml"),
        ],
        capture_output=True,
        text=True,
    )


def test_workspace_members_reach_the_sandbox(rule_runner: RuleRunner) -> None:
    # A maturin-style workspace: the extension and a CLI crate that it doesn't depend on.
    rule_runner.write_files(
        {
            "src/rust/Cargo.toml": (
                '[workspace]\nmembers = ["ext", "tools/*"]\nexclude = ["tools/old"]\n'
            ),
            **crate_files(EXT.spec_path, package="ext"),
            **plain_crate("src/rust/tools/cli", "cli"),
            **plain_crate("src/rust/tools/old", "old"),
        }
    )
    sources = rule_runner.request(CrateSources, [CrateSourcesRequest(EXT)])
    files = set(sources.sources.snapshot.files)
    assert {
        "src/rust/Cargo.toml",
        "src/rust/tools/cli/Cargo.toml",
        "src/rust/tools/cli/src/lib.rs",
    } <= files
    assert not any(f.startswith("src/rust/tools/old/") for f in files)
    # Without the member's manifest cargo says "failed to load manifest for workspace member".
    result = cargo_metadata(rule_runner, sources)
    assert result.returncode == 0, result.stderr
    assert '"name":"cli"' in result.stdout


def test_package_workspace_key_names_the_root(rule_runner: RuleRunner) -> None:
    files = {
        "rust/root/Cargo.toml": '[workspace]\nmembers = ["../cli", "../../src/rust/ext"]\n',
        **crate_files(EXT.spec_path, package="ext"),
        **plain_crate("rust/cli", "cli", 'workspace = "../root"'),
    }
    files[f"{EXT.spec_path}/Cargo.toml"] = files[f"{EXT.spec_path}/Cargo.toml"].replace(
        'edition = "2021"', 'edition = "2021"\nworkspace = "../../../rust/root"'
    )
    rule_runner.write_files(files)
    sources = rule_runner.request(CrateSources, [CrateSourcesRequest(EXT)])
    assert {"rust/root/Cargo.toml", "rust/cli/Cargo.toml"} <= set(sources.sources.snapshot.files)
    result = cargo_metadata(rule_runner, sources)
    assert result.returncode == 0, result.stderr


def test_a_crate_outside_any_workspace_gets_only_its_files(rule_runner: RuleRunner) -> None:
    rule_runner.write_files({**crate_files(EXT.spec_path, package="ext"), "src/rust/BUILD": ""})
    sources = rule_runner.request(CrateSources, [CrateSourcesRequest(EXT)])
    assert all(f.startswith(f"{EXT.spec_path}/") for f in sources.sources.snapshot.files)


@pytest.mark.parametrize(
    "spec, workspace",
    [
        pytest.param('{ path = "../util" }', "", id="path"),
        pytest.param(
            "{ workspace = true }",
            '[workspace]\nmembers = ["ext", "util"]\n[workspace.dependencies]\n'
            'util = { path = "util" }\n',
            id="workspace-dependency",
        ),
    ],
)
def test_path_dependency_on_a_cargo_crate_is_inferred(
    rule_runner: RuleRunner, spec: str, workspace: str
) -> None:
    files = {
        **crate_files(EXT.spec_path, package="ext"),
        **plain_crate("src/rust/util", "util"),
        "src/rust/util/BUILD": "cargo_crate()\n",
    }
    if workspace:
        files["src/rust/Cargo.toml"] = workspace
    with_path_dependency(files, EXT.spec_path, "util", spec)
    rule_runner.write_files(files)
    assert Address("src/rust/util") in dependencies(rule_runner, EXT)
    sources = rule_runner.request(CrateSources, [CrateSourcesRequest(EXT)])
    assert "src/rust/util/src/lib.rs" in sources.sources.snapshot.files


def test_path_dependency_without_a_target_is_a_named_error(rule_runner: RuleRunner) -> None:
    files = {**crate_files(EXT.spec_path, package="ext"), **plain_crate("src/rust/util", "util")}
    with_path_dependency(files, EXT.spec_path, "util", '{ path = "../util" }')
    rule_runner.write_files(files)
    with engine_error(CargoPathDependencyError, contains="`util` (`src/rust/util/Cargo.toml`)"):
        dependencies(rule_runner, EXT)


def test_a_manifest_that_is_not_toml_names_its_cargo_crate(rule_runner: RuleRunner) -> None:
    files = crate_files(EXT.spec_path, package="ext")
    files[f"{EXT.spec_path}/Cargo.toml"] = files[f"{EXT.spec_path}/Cargo.toml"].replace(
        "[package]", "[package", 1
    )
    rule_runner.write_files(files)
    with engine_error(
        CargoManifestError,
        contains=(
            "The `cargo_crate` target src/rust/ext:ext: "
            "`src/rust/ext/Cargo.toml` is not valid TOML"
        ),
    ):
        dependencies(rule_runner, EXT)


def test_path_dependency_listed_in_the_crates_sources_needs_no_target(
    rule_runner: RuleRunner,
) -> None:
    files = {
        **crate_files(EXT.spec_path, package="ext"),
        **plain_crate("src/rust/ext/util", "util"),
    }
    with_path_dependency(files, EXT.spec_path, "util", '{ path = "util" }')
    files[
        f"{EXT.spec_path}/BUILD"
    ] = 'cargo_crate(sources=["Cargo.toml", "src/**/*.rs", "util/Cargo.toml", "util/src/*.rs"])\n'
    rule_runner.write_files(files)
    assert dependencies(rule_runner, EXT) == set()
