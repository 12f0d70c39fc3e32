# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""The pure-Python part of a distribution's wheels: built once with setuptools, without modules."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from pants.backend.python.target_types import (
    BuildBackendEnvVarsField,
    WheelConfigSettingsField,
    WheelField,
)
from pants.backend.python.util_rules.interpreter_constraints import InterpreterConstraints
from pants.backend.python.util_rules.package_dists import (
    DistBuildChroot,
    DistBuildChrootRequest,
    ExportedTarget,
)
from pants.backend.python.util_rules.pex import PexRequest, VenvPex, VenvPexProcess
from pants.engine.addresses import Address, Addresses
from pants.engine.env_vars import EnvironmentVars, EnvironmentVarsRequest
from pants.engine.fs import EMPTY_DIGEST, Digest, DigestSubset, MergeDigests, PathGlobs
from pants.engine.process import ProcessResult
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.engine.target import Targets
from pants.util.logging import LogLevel
from pants_pyo3.sandbox import wheel_backend
from pants_pyo3.toolchain.tool_pex import tool_pex
from pants_pyo3.wheel.backend import BACKEND_MODULE, BUILD_REQUIREMENTS

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pyo3BaseWheelRequest:
    dist: Address
    interpreter_constraints: InterpreterConstraints
    # The modules generated into the package tree, left out of the base wheel.
    strip: tuple[str, ...]
    backend: Digest


@dataclass(frozen=True)
class Pyo3BaseWheel:
    """The distribution's wheel without any module, under `wheel_backend.BASE_DIR` (or empty)."""

    digest: Digest


@rule(desc="Build the pure-Python part of a wheel", level=LogLevel.DEBUG)
async def build_pyo3_base_wheel(request: Pyo3BaseWheelRequest) -> Pyo3BaseWheel:
    """setuptools builds the wheel once from the chroot without the modules: the process depends on
    the Python sources and the metadata only, so an edit of the Rust code finds it cached."""
    [dist] = await Get(Targets, Addresses([request.dist]))
    if not dist[WheelField].value:
        return Pyo3BaseWheel(EMPTY_DIGEST)
    chroot = await Get(
        DistBuildChroot,
        DistBuildChrootRequest(ExportedTarget(dist), request.interpreter_constraints),
    )
    if chroot.working_directory:
        # A handwritten setup.py: Pants builds with it and its pyproject.toml, not with our backend.
        return Pyo3BaseWheel(EMPTY_DIGEST)
    sources, pex = await MultiGet(
        Get(
            Digest,
            DigestSubset(chroot.digest, PathGlobs(["**", *(f"!{p}" for p in request.strip)])),
        ),
        # The very request Pants makes for the PEP 517 build's own environment (the same
        # requirements, from our pyproject.toml), so the two share one pex.
        Get(
            VenvPex,
            PexRequest,
            tool_pex("build_backend.pex", BUILD_REQUIREMENTS, request.interpreter_constraints),
        ),
    )
    env_names = dist[BuildBackendEnvVarsField].value
    env = await Get(EnvironmentVars, EnvironmentVarsRequest(sorted(env_names or ())))
    settings = dist[WheelConfigSettingsField].value
    result = await Get(
        ProcessResult,
        VenvPexProcess(
            pex,
            argv=(
                BACKEND_MODULE + ".py",
                "base",
                wheel_backend.BASE_DIR,
                json.dumps({k: list(v) for k, v in settings.items()} if settings else None),
            ),
            input_digest=await Get(Digest, MergeDigests([sources, request.backend])),
            extra_env=env,
            output_directories=(wheel_backend.BASE_DIR,),
            description=f"Build the pure-Python part of {request.dist}'s wheels with setuptools",
            level=LogLevel.DEBUG,
        ),
    )
    return Pyo3BaseWheel(result.output_digest)


def rules():
    return collect_rules()
