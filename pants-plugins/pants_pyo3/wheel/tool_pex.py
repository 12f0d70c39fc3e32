# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""The wheel rules' shared names and the pinned setuptools they build base wheels with.

setuptools stays a requirement list, not a tool subsystem with a lockfile: Pants installs a dist's
`[build-system].requires` from raw requirements, and the base wheel shares that environment.
auditwheel is `[pyo3-auditwheel]` (subsystems/auditwheel.py).
"""

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


def tool_pex(
    name: str, requirements: tuple[str, ...], constraints: InterpreterConstraints
) -> PexRequest:
    """The environment of the setuptools that builds base wheels, pinned like the `[build-system]`
    requirements Pants installs for the dist (an identical request, so one pex serves both)."""
    return PexRequest(
        output_filename=name,
        internal_only=True,
        requirements=PexRequirements(requirements),
        interpreter_constraints=constraints,
    )
