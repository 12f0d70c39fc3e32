# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

from __future__ import annotations

from textwrap import dedent

import pytest
from pants.backend.python.util_rules.package_dists import ExportedTarget, SetupKwargs
from pants.engine.addresses import Address
from pants.testutil.rule_runner import QueryRule, RuleRunner, engine_error
from pants_pyo3.errors import Pyo3PyprojectError
from pants_pyo3.pyproject.rules import cargo_version_to_pep440
from pants_pyo3.testutil import crate_files, emptied_build_root, plugin_rule_runner

DIST = Address("src/rust/demo", target_name="dist")

PYPROJECT = """\
[build-system]
requires = ["maturin>=1.9,<2"]
build-backend = "maturin"

[project]
name = "demo"
dynamic = ["version"]
description = "A demo"
readme = "README.md"
requires-python = ">=3.9"
license = { text = "MIT" }
authors = [{ name = "Ann", email = "ann@example.com" }, { name = "Bob" }]
keywords = ["rust", "demo"]
classifiers = ["Programming Language :: Rust"]
dependencies = ["attrs>=21"]

[project.optional-dependencies]
test = ["pytest"]

[project.scripts]
demo = "demo.cli:main"

[project.urls]
Source = "https://example.com/demo"

[tool.maturin]
module-name = "demo._native"
python-source = "python"
"""


@pytest.fixture(scope="module")
def engine() -> RuleRunner:
    return plugin_rule_runner(QueryRule(SetupKwargs, [ExportedTarget]))


@pytest.fixture
def rule_runner(engine: RuleRunner) -> RuleRunner:
    return emptied_build_root(engine)


def write_project(rule_runner: RuleRunner, pyproject: str = PYPROJECT, build: str = "") -> None:
    files = crate_files("src/rust/demo")
    files["src/rust/demo/Cargo.toml"] = files["src/rust/demo/Cargo.toml"].replace(
        'version = "0.1.0"', 'version = "0.3.0-rc.1"'
    )
    rule_runner.write_files(
        {
            **files,
            "src/rust/demo/pyproject.toml": pyproject,
            "src/rust/demo/README.md": "# Demo\n",
            "src/rust/demo/BUILD": build
            or dedent(
                """\
                cargo_crate()
                python_distribution(
                    name="dist",
                    provides=python_artifact(name="demo"),
                    pyproject="src/rust/demo/pyproject.toml",
                )
                """
            ),
        }
    )


def setup_kwargs(rule_runner: RuleRunner) -> dict:
    tgt = rule_runner.get_target(DIST)
    return rule_runner.request(SetupKwargs, [ExportedTarget(tgt)]).kwargs


def test_project_table_is_the_metadata(rule_runner: RuleRunner) -> None:
    write_project(rule_runner)
    kwargs = setup_kwargs(rule_runner)
    assert kwargs == {
        "name": "demo",
        # `dynamic = ["version"]`: Cargo's version, in the PEP 440 form maturin writes.
        "version": "0.3.0rc1",
        "description": "A demo",
        "long_description": "# Demo\n",
        "long_description_content_type": "text/markdown",
        "python_requires": ">=3.9",
        "license": "MIT",
        "author": "Bob",
        "author_email": "Ann <ann@example.com>",
        "keywords": ["rust", "demo"],
        "classifiers": ["Programming Language :: Rust"],
        "project_urls": {"Source": "https://example.com/demo"},
        "install_requires": ["attrs>=21"],
        "extras_require": {"test": ["pytest"]},
        "entry_points": {"console_scripts": ["demo = demo.cli:main"]},
    }


def test_dynamic_version_inherited_from_the_workspace(rule_runner: RuleRunner) -> None:
    write_project(rule_runner)
    rule_runner.write_files(
        {
            "src/rust/Cargo.toml": '[workspace]\nmembers = ["demo"]\n'
            '[workspace.package]\nversion = "1.2.0"\n',
            "src/rust/demo/Cargo.toml": rule_runner.read_file("src/rust/demo/Cargo.toml").replace(
                'version = "0.3.0-rc.1"', "version.workspace = true"
            ),
        }
    )
    assert setup_kwargs(rule_runner)["version"] == "1.2.0"


def test_static_version(rule_runner: RuleRunner) -> None:
    write_project(rule_runner, PYPROJECT.replace('dynamic = ["version"]', 'version = "0.3.0"'))
    assert setup_kwargs(rule_runner)["version"] == "0.3.0"


@pytest.mark.parametrize(
    "build, message",
    [
        pytest.param(
            'python_distribution(name="dist", provides=python_artifact(name="other"), '
            'pyproject="src/rust/demo/pyproject.toml")\n',
            "differs from the `[project]` name 'demo'",
            id="name",
        ),
        pytest.param(
            'python_distribution(name="dist", provides=python_artifact(name="demo", '
            'version="9.9"), pyproject="src/rust/demo/pyproject.toml")\n',
            "sets ['version'], which `src/rust/demo/pyproject.toml` also sets, differently",
            id="version",
        ),
        pytest.param(
            'python_distribution(name="dist", provides=python_artifact(name="demo"), '
            'pyproject="src/rust/demo/nope.toml")\n',
            "`src/rust/demo/nope.toml` doesn't exist",
            id="missing",
        ),
    ],
)
def test_disagreement_is_a_named_error(rule_runner: RuleRunner, build: str, message: str) -> None:
    write_project(rule_runner, build="cargo_crate()\n" + build)
    with engine_error(Pyo3PyprojectError, contains=message):
        setup_kwargs(rule_runner)


def test_dynamic_fields_maturin_does_not_take_from_cargo(rule_runner: RuleRunner) -> None:
    write_project(rule_runner, PYPROJECT.replace('["version"]', '["version", "dependencies"]'))
    with engine_error(Pyo3PyprojectError, contains="['dependencies'] in `dynamic`"):
        setup_kwargs(rule_runner)


@pytest.mark.parametrize(
    "cargo, python",
    [("0.1.0", "0.1.0"), ("0.2.0-rc.1", "0.2.0rc1"), ("1.0.0-alpha.2", "1.0.0a2")],
)
def test_cargo_version_to_pep440(cargo: str, python: str) -> None:
    assert cargo_version_to_pep440(cargo) == python
