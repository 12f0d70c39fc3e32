# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""The pinned Python tools the wheel rules run in processes of their own."""

from __future__ import annotations

import logging

from pants.backend.python.util_rules.interpreter_constraints import InterpreterConstraints
from pants.backend.python.util_rules.pex import PexRequest
from pants.backend.python.util_rules.pex_requirements import PexRequirements

logger = logging.getLogger(__name__)


BACKEND_MODULE = "_pants_pyo3_backend"
MODULES_DIR = "_pants_pyo3_modules"
# Pinned so wheel builds are reproducible; all support CPython 3.8 to 3.13.
BUILD_REQUIREMENTS = ("setuptools==69.5.1", "wheel==0.43.0")
# For the manylinux check: auditwheel's own policies and analysis, in a process of their own.
AUDITWHEEL_REQUIREMENTS = ("auditwheel==6.1.0", "pyelftools==0.31", "packaging==24.0")


def tool_pex(
    name: str, requirements: tuple[str, ...], constraints: InterpreterConstraints
) -> PexRequest:
    """The environment of a wheel-building tool (setuptools, auditwheel), pinned."""
    return PexRequest(
        output_filename=name,
        internal_only=True,
        requirements=PexRequirements(requirements),
        interpreter_constraints=constraints,
    )
