# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""What a build for a target triple other than the host's needs: the `[pyo3-cross]` toolchain and
PyO3's cross-compilation variables."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from pants.engine.process import Process, ProcessCacheScope, ProcessResult
from pants.engine.rules import Get, collect_rules, rule
from pants.util.frozendict import FrozenDict
from pants.util.logging import LogLevel
from pants_pyo3.subsystems.cross import Pyo3CrossSubsystem
from pants_pyo3.toolchain.cross import (
    CrossToolchain,
    cross_env,
    find_target_python,
    probe_argv,
    target_ext_suffix,
    target_interpreter_tag,
)
from pants_pyo3.toolchain.rust import RustToolchain

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CrossBuildSetupRequest:
    triple: str
    python_version: str
    abi3: bool


@dataclass(frozen=True)
class CrossBuildSetup:
    """How to build for a triple other than the host's."""

    # The cross toolchain's cargo, and a fingerprint of its rustc and linker (empty: the host's).
    cargo: str
    fingerprint: str
    path: tuple[str, ...]
    env: FrozenDict[str, str]
    ext_suffix: str
    abi_tag: str


def cross_toolchain_probe(configured: CrossToolchain) -> Process:
    """Identifies a `[pyo3-cross]` toolchain; fails if its rustc has no standard library for the
    triple.

    Run uncached (once per Pants run), like the host's `rustc -vV`: its output keys the build's
    cache.
    """
    return Process(
        argv=probe_argv(configured),
        description=f"Identify the Rust toolchain for {configured.triple}",
        level=LogLevel.DEBUG,
        cache_scope=ProcessCacheScope.PER_SESSION,
    )


@rule(desc="Set up a cross build", level=LogLevel.DEBUG)
async def cross_build_setup(
    request: CrossBuildSetupRequest, cross: Pyo3CrossSubsystem, toolchain: RustToolchain
) -> CrossBuildSetup:
    configured = cross.toolchains().get(request.triple)
    abi_tag = target_interpreter_tag(request.triple, request.python_version, abi3=request.abi3)
    if configured is None:
        # rustup installed the triple's standard library into the host toolchain; its default
        # linker is used (configure `[pyo3-cross]` for another).
        env = {} if request.abi3 else {"PYO3_CROSS_PYTHON_VERSION": request.python_version}
        suffix = target_ext_suffix(request.triple, request.python_version, abi3=request.abi3)
        return CrossBuildSetup("", "", (), FrozenDict(env), suffix, abi_tag)
    probe = await Get(ProcessResult, Process, cross_toolchain_probe(configured))
    # The target's CPython, read (never run) from its sysroot: its `_sysconfigdata` names the
    # module suffix, and its content is part of the cache key.
    target_python = (
        None
        if request.abi3
        else find_target_python(configured.sysroot, request.python_version, request.triple)
    )
    key = probe.stdout
    if target_python is not None:
        with open(target_python.sysconfigdata, "rb") as f:
            key += f.read()
    return CrossBuildSetup(
        cargo=configured.cargo,
        fingerprint=hashlib.sha256(key).hexdigest(),
        path=tuple(configured.path_dirs()),
        env=FrozenDict(
            cross_env(
                configured,
                python_version=request.python_version,
                abi3=request.abi3,
                target_python=target_python,
            )
        ),
        ext_suffix=target_ext_suffix(
            request.triple, request.python_version, abi3=request.abi3, target_python=target_python
        ),
        abi_tag=abi_tag,
    )


def rules():
    return collect_rules()
