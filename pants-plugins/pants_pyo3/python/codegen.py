# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""The compiled modules (and a generated type stub) as generated sources of a `pyo3_extension`, so
Python targets get them."""

from __future__ import annotations

import logging

from pants.core.target_types import ResourceSourceField
from pants.engine.fs import Digest, MergeDigests, Snapshot
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.engine.target import GeneratedSources, GenerateSourcesRequest
from pants.engine.unions import UnionRule
from pants_pyo3.build.extension import BuiltPyo3Extension
from pants_pyo3.build.plan import (
    Pyo3ExtensionBuildPlan,
    Pyo3ExtensionBuildRequest,
    Pyo3ExtensionBuildsRequest,
)
from pants_pyo3.stubs.rules import Pyo3Stubs, Pyo3StubsRequest
from pants_pyo3.target_types import Pyo3ExtensionSourcesField
from pants_pyo3.toolchain.rust import RustToolchain

logger = logging.getLogger(__name__)


class GeneratePythonFromPyo3Request(GenerateSourcesRequest):
    input = Pyo3ExtensionSourcesField
    output = ResourceSourceField


@rule(desc="Generate a Python extension module from a PyO3 crate")
async def generate_python_from_pyo3(
    request: GeneratePythonFromPyo3Request, toolchain: RustToolchain
) -> GeneratedSources:
    # Every build for this machine, side by side: their file names differ by interpreter
    # (`_native.cpython-39-x86_64-linux-gnu.so`, ...), so each interpreter imports its own. Only
    # those: tests, pex files and the package tree of a wheel don't wait for the cross builds.
    # The type stub, if the target asks for one (and its package has none written by hand), sits
    # beside them: mypy (`check`) finds it on the source root, and wheels and sdists carry it.
    tgt = request.protocol_target
    plan, stubs = await MultiGet(
        Get(Pyo3ExtensionBuildPlan, Pyo3ExtensionBuildsRequest(tgt)),
        Get(Pyo3Stubs, Pyo3StubsRequest(tgt)),
    )
    host_builds = await MultiGet(
        Get(BuiltPyo3Extension, Pyo3ExtensionBuildRequest, r)
        for r in plan.requests
        if r.triple == toolchain.host
    )
    digest = await Get(Digest, MergeDigests([*(b.digest for b in host_builds), stubs.digest]))
    return GeneratedSources(await Get(Snapshot, Digest, digest))


def rules():
    return [*collect_rules(), UnionRule(GenerateSourcesRequest, GeneratePythonFromPyo3Request)]
