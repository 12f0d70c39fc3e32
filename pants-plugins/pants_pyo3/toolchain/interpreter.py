# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""The Python interpreter an extension is built for: found for constraints, then probed for what a
build needs (its version and module suffix)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from pants.backend.python.util_rules.interpreter_constraints import InterpreterConstraints
from pants.backend.python.util_rules.pex_environment import PythonExecutable
from pants.engine.process import Process, ProcessResult
from pants.engine.rules import Get, collect_rules, rule
from pants.util.logging import LogLevel

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pyo3InterpreterRequest:
    interpreter_constraints: InterpreterConstraints


@dataclass(frozen=True)
class Pyo3Interpreter:
    """A Python interpreter selected for some interpreter constraints, with what a build needs."""

    executable: PythonExecutable
    major: int
    minor: int
    implementation: str
    ext_suffix: str

    @property
    def version(self) -> str:
        return f"{self.major}.{self.minor}"


_INTERPRETER_PROBE = (
    "import json, sys, sysconfig; print(json.dumps({"
    "'version': list(sys.version_info[:2]), 'implementation': sys.implementation.name, "
    "'ext_suffix': sysconfig.get_config_var('EXT_SUFFIX')}))"
)


@rule(desc="Identify a Python interpreter for a PyO3 build", level=LogLevel.DEBUG)
async def identify_interpreter(request: Pyo3InterpreterRequest) -> Pyo3Interpreter:
    python = await Get(PythonExecutable, InterpreterConstraints, request.interpreter_constraints)
    result = await Get(
        ProcessResult,
        Process(
            argv=(python.path, "-c", _INTERPRETER_PROBE),
            # The interpreter's hash keys the cache, so a rebuilt interpreter is probed again.
            env={"__PANTS_PYO3_PYTHON_FINGERPRINT": python.fingerprint or ""},
            description=f"Identify Python interpreter {python.path}",
            level=LogLevel.DEBUG,
        ),
    )
    info = json.loads(result.stdout)
    return Pyo3Interpreter(
        executable=python,
        major=info["version"][0],
        minor=info["version"][1],
        implementation=info["implementation"],
        ext_suffix=info["ext_suffix"],
    )


def rules():
    return collect_rules()
