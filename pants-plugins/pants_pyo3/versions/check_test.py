# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

from __future__ import annotations

from textwrap import dedent

import pytest
from pants.engine.addresses import Address
from pants.engine.internals.scheduler import ExecutionError
from pants.testutil.rule_runner import QueryRule, RuleRunner
from pants_pyo3.errors import Pyo3VersionMismatchError
from pants_pyo3.testutil import (
    RULE_RUNNER_ENV_INHERIT,
    RULE_RUNNER_GLOBAL_ARGS,
    crate_files,
    plugin_rule_runner,
    rule_runner_env,
)
from pants_pyo3.versions.check import CheckedDistVersion, DistVersionCheckRequest


# One engine for the module: building it costs more than the checks, and every test rewrites all the
# files it reads (the RuleRunner invalidates what it writes).
@pytest.fixture(scope="module")
def rule_runner() -> RuleRunner:
    rule_runner = plugin_rule_runner(QueryRule(CheckedDistVersion, [DistVersionCheckRequest]))
    rule_runner.set_options(
        list(RULE_RUNNER_GLOBAL_ARGS),
        env=rule_runner_env(),
        env_inherit=set(RULE_RUNNER_ENV_INHERIT),
    )
    return rule_runner


def write_dist(
    rule_runner: RuleRunner,
    *,
    artifact: str = "0.1.0",
    cargo: str = "0.1.0",
    dunder: str | None = "0.1.0",
) -> None:
    files = crate_files("src/rust/demo")
    files["src/rust/demo/Cargo.toml"] = files["src/rust/demo/Cargo.toml"].replace(
        'version = "0.1.0"', f'version = "{cargo}"', 1
    )
    rule_runner.write_files(
        {
            **files,
            "src/python/demo/__init__.py": "from demo._native import add\n"
            + (f'\n__version__ = "{dunder}"\n' if dunder is not None else ""),
            "src/python/demo/BUILD": dedent(
                f"""\
                python_sources()
                pyo3_extension(name="native", crate="src/rust/demo", module_name="demo._native")
                python_distribution(
                    name="dist",
                    dependencies=[":demo"],
                    provides=python_artifact(name="demo", version="{artifact}"),
                )
                """
            ),
        }
    )


def check(rule_runner: RuleRunner) -> CheckedDistVersion:
    dist = rule_runner.get_target(Address("src/python/demo", target_name="dist"))
    return rule_runner.request(CheckedDistVersion, [DistVersionCheckRequest(dist)])


def test_agreeing_versions_pass(rule_runner: RuleRunner) -> None:
    write_dist(rule_runner)
    checked = check(rule_runner)
    assert checked.version == "0.1.0"
    assert [where for _, where in checked.places] == [
        "`provides=python_artifact(version=...)` of src/python/demo:dist",
        "`[package] version` in src/rust/demo/Cargo.toml",
        "`__version__` in src/python/demo/__init__.py",
    ]


def test_cargo_prerelease_equals_its_pep440_spelling(rule_runner: RuleRunner) -> None:
    write_dist(rule_runner, artifact="0.2.0rc1", cargo="0.2.0-rc.1", dunder="0.2.0rc1")
    assert check(rule_runner).version == "0.2.0rc1"


def test_missing_dunder_version_is_not_a_mismatch(rule_runner: RuleRunner) -> None:
    write_dist(rule_runner, dunder=None)
    assert len(check(rule_runner).places) == 2


@pytest.mark.parametrize(
    "versions, odd_one_out",
    [
        pytest.param(
            {"cargo": "0.2.0"}, "0.2.0  `[package] version` in src/rust/demo/Cargo.toml", id="crate"
        ),
        pytest.param(
            {"dunder": "0.0.9"}, "0.0.9  `__version__` in src/python/demo/__init__.py", id="dunder"
        ),
        pytest.param(
            {"artifact": "1.0.0"},
            "1.0.0  `provides=python_artifact(version=...)` of src/python/demo:dist",
            id="wheel",
        ),
    ],
)
def test_mismatch_names_the_three_places_and_the_fix(
    rule_runner: RuleRunner, versions: dict[str, str], odd_one_out: str
) -> None:
    write_dist(rule_runner, **versions)
    with pytest.raises(ExecutionError) as exc:
        check(rule_runner)
    (error,) = exc.value.wrapped_exceptions
    assert isinstance(error, Pyo3VersionMismatchError)
    message = str(error)
    assert "src/python/demo:dist" in message
    assert odd_one_out in message
    assert "src/rust/demo/Cargo.toml" in message and "src/python/demo/__init__.py" in message
    assert "pants pyo3-bump-version --to=X.Y.Z src/python/demo:dist" in message
