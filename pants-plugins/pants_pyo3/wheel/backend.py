# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""The wheel rules' shared names for the in-chroot build backend, and the pinned setuptools it
builds base wheels with.

setuptools stays a requirement list, not a tool subsystem with a lockfile: Pants installs a dist's
`[build-system].requires` from raw requirements, and the base wheel shares that environment
(`toolchain/tool_pex.py`). auditwheel is `[pyo3-auditwheel]` (subsystems/auditwheel.py).
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


BACKEND_MODULE = "_pants_pyo3_backend"
MODULES_DIR = "_pants_pyo3_modules"
# Pinned so wheel builds are reproducible; all support CPython 3.8 to 3.13.
BUILD_REQUIREMENTS = ("setuptools==69.5.1", "wheel==0.43.0")
