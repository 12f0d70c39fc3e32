# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

from __future__ import annotations

from pants.backend.python.goals.pytest_runner import PytestPluginSetup
from pants.engine.addresses import Address
from pants.engine.fs import EMPTY_DIGEST
from pants.testutil.rule_runner import QueryRule
from pants_pyo3.python.interpreter_check import Pyo3PytestPluginSetupRequest
from pants_pyo3.testutil import (
    RULE_RUNNER_ENV_INHERIT,
    RULE_RUNNER_GLOBAL_ARGS,
    package_files,
    plugin_rule_runner,
    rule_runner_env,
    shared_named_caches_arg,
)


def test_pytest_check_waits_for_no_build() -> None:
    """The interpreter check of a test reads the build plans, not the builds: a test waits only
    for the modules it imports (through codegen), never for other interpreters' or cross builds.
    Shown with a crate that does not compile: the check passes without running cargo."""
    rule_runner = plugin_rule_runner(QueryRule(PytestPluginSetup, [Pyo3PytestPluginSetupRequest]))
    rule_runner.set_options(
        [*RULE_RUNNER_GLOBAL_ARGS, shared_named_caches_arg()],
        env=rule_runner_env(),
        env_inherit=set(RULE_RUNNER_ENV_INHERIT),
    )
    files = package_files(
        "broken",
        body="fn add(a: i64, b: i64) -> i64 {\n    a + b + not_defined_anywhere\n}",
        extra_build='python_tests(name="tests")\n',
    )
    files["src/python/broken/test_broken.py"] = "import broken\n\n\ndef test_it():\n    pass\n"
    rule_runner.write_files(files)
    tgt = rule_runner.get_target(
        Address("src/python/broken", target_name="tests", relative_file_path="test_broken.py")
    )
    setup = rule_runner.request(PytestPluginSetup, [Pyo3PytestPluginSetupRequest(tgt)])
    assert setup.digest == EMPTY_DIGEST
