# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""A pinned Python tool's environment, from raw requirements (zig; the base wheels' setuptools).

Below both its users (`toolchain/zig.py`, `wheel/base_wheel.py`), so neither imports the other's
folder for it. Tools users may re-resolve are subsystems with lockfiles instead
(`subsystems/auditwheel.py`).
"""

from __future__ import annotations

import logging

from pants.backend.python.util_rules.interpreter_constraints import InterpreterConstraints
from pants.backend.python.util_rules.pex import PexRequest
from pants.backend.python.util_rules.pex_requirements import PexRequirements

logger = logging.getLogger(__name__)


def tool_pex(
    name: str, requirements: tuple[str, ...], constraints: InterpreterConstraints
) -> PexRequest:
    """An internal pex of pinned `requirements`. For the base wheels' setuptools it is the very
    request Pants makes for the dist's `[build-system]` requirements, so one pex serves both."""
    return PexRequest(
        output_filename=name,
        internal_only=True,
        requirements=PexRequirements(requirements),
        interpreter_constraints=constraints,
    )
