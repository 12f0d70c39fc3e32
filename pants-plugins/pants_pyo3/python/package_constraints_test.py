# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""An extension for fewer interpreters than the repo: the package narrows itself once."""

from __future__ import annotations

from textwrap import dedent

import pytest
from pants.backend.python.subsystems.setup import PythonSetup
from pants.backend.python.util_rules.interpreter_constraints import InterpreterConstraints
from pants.engine.addresses import Address, Addresses
from pants.engine.target import (
    Dependencies,
    DependenciesRequest,
    InvalidFieldException,
    TransitiveTargets,
    TransitiveTargetsRequest,
)
from pants.testutil.rule_runner import QueryRule, RuleRunner, engine_error
from pants_pyo3.build.plan import Pyo3ExtensionBuildPlan, Pyo3ExtensionBuildsRequest
from pants_pyo3.errors import Pyo3ExtensionError
from pants_pyo3.testutil import (
    RULE_RUNNER_ENV_INHERIT,
    RULE_RUNNER_GLOBAL_ARGS,
    crate_files,
    emptied_build_root,
    plugin_rule_runner,
    rule_runner_env,
)

ABI3_PY311 = '["extension-module", "abi3-py311"]'
SOURCES = Address("src/python/demo", relative_file_path="__init__.py")


@pytest.fixture(scope="module")
def engine() -> RuleRunner:
    return plugin_rule_runner(
        QueryRule(Addresses, [DependenciesRequest]),
        QueryRule(TransitiveTargets, [TransitiveTargetsRequest]),
        QueryRule(Pyo3ExtensionBuildPlan, [Pyo3ExtensionBuildsRequest]),
        QueryRule(PythonSetup, []),
    )


@pytest.fixture
def rule_runner(engine: RuleRunner) -> RuleRunner:
    rule_runner = emptied_build_root(engine)
    # The repo's default through the environment: as a flag it would override targets' own.
    rule_runner.set_options(
        list(RULE_RUNNER_GLOBAL_ARGS),
        env={
            **rule_runner_env(),
            "PANTS_PYTHON_INTERPRETER_CONSTRAINTS": "['CPython>=3.8,<3.14']",
        },
        env_inherit=set(RULE_RUNNER_ENV_INHERIT),
    )
    return rule_runner


def write_package(rule_runner: RuleRunner, defaults: str) -> None:
    rule_runner.write_files(
        {
            **crate_files("src/rust/demo", pyo3_features=ABI3_PY311),
            "src/python/demo/__init__.py": "from demo._native import add\n",
            "src/python/demo/test_demo.py": "import demo\n",
            "src/python/demo/BUILD": defaults
            + dedent(
                """\
                python_sources()
                python_tests(name="tests")
                pyo3_extension(name="native", crate="src/rust/demo", module_name="demo._native")
                """
            ),
        }
    )


def test_package_defaults_narrow_the_extension_and_its_importers(rule_runner: RuleRunner) -> None:
    write_package(
        rule_runner, '__defaults__(all=dict(interpreter_constraints=["CPython>=3.11,<3.14"]))\n'
    )
    tgt = rule_runner.get_target(SOURCES)
    # Pants' dependency check passes for the sibling module that imports the extension ...
    deps = rule_runner.request(Addresses, [DependenciesRequest(tgt[Dependencies])])
    assert Address("src/python/demo", target_name="native") in deps
    # ... and the tests' closure runs only interpreters the abi3 module serves.
    test = Address("src/python/demo", target_name="tests", relative_file_path="test_demo.py")
    closure = rule_runner.request(TransitiveTargets, [TransitiveTargetsRequest([test])]).closure
    python_setup = rule_runner.request(PythonSetup, [])
    ics = InterpreterConstraints.create_from_targets(closure, python_setup)
    assert ics == InterpreterConstraints(["CPython>=3.11,<3.14"])
    plan = rule_runner.request(
        Pyo3ExtensionBuildPlan,
        [
            Pyo3ExtensionBuildsRequest(
                rule_runner.get_target(Address("src/python/demo", target_name="native"))
            )
        ],
    )
    assert plan.abi3_floor == (3, 11)


def test_narrowing_only_the_extension_is_refused_by_pants(rule_runner: RuleRunner) -> None:
    """Why the README says `__defaults__`: Pants checks each importer against the extension."""
    write_package(rule_runner, "")
    rule_runner.write_files(
        {
            "src/python/demo/BUILD": rule_runner.read_file("src/python/demo/BUILD").replace(
                'module_name="demo._native")',
                'module_name="demo._native", interpreter_constraints=["CPython>=3.11,<3.14"])',
            )
        }
    )
    tgt = rule_runner.get_target(SOURCES)
    with engine_error(InvalidFieldException, contains="not a subset"):
        rule_runner.request(Addresses, [DependenciesRequest(tgt[Dependencies])])


def test_abi3_floor_error_names_the_package_defaults(rule_runner: RuleRunner) -> None:
    write_package(rule_runner, "")
    ext = rule_runner.get_target(Address("src/python/demo", target_name="native"))
    with engine_error(
        Pyo3ExtensionError,
        contains=(
            '`__defaults__(all=dict(interpreter_constraints=["CPython>=3.11,<3.14"]))` at the '
            "top of src/python/demo/BUILD"
        ),
    ):
        rule_runner.request(Pyo3ExtensionBuildPlan, [Pyo3ExtensionBuildsRequest(ext)])
