# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""`CargoProcess`: every call of cargo (build, test, clippy) becomes a `Process` here.

One place adds the sandbox program that drives cargo, its typed configuration, the environment
(toolchain, `[pyo3].extra_env_vars`, the CA bundle), the cache key and the named cache that holds
cargo's registry, target directories and source mirror. Callers only say what differs, and ask for
the result in one step, `Get(FallibleProcessResult, CargoProcess(...))`: the engine runs the
`Process` this rule makes (as for Pants' `GoSdkProcess`).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from pants.engine.env_vars import EnvironmentVars, EnvironmentVarsRequest
from pants.engine.fs import CreateDigest, Digest, FileContent, MergeDigests
from pants.engine.process import Process, ProcessCacheScope
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.option.global_options import GlobalOptions
from pants.util.frozendict import FrozenDict
from pants.util.logging import LogLevel
from pants_pyo3.sandbox.programs import SandboxPrograms
from pants_pyo3.sandbox.run_cargo import BUILD_DRIVER_MODULE
from pants_pyo3.subsystems.pyo3 import Pyo3Subsystem
from pants_pyo3.toolchain.interpreter import Pyo3Interpreter
from pants_pyo3.toolchain.rust import RustToolchain

logger = logging.getLogger(__name__)

# The named cache holding cargo's registry, its target directories and the source mirror. Every
# build shares it, so a second build (or another crate using the same dependencies) is incremental.
NAMED_CACHE = "pants_pyo_cargo"  # Cache names may not contain digits.
CACHE_PATH = ".cache/pants_pyo_cargo"
# The build driver is always shipped, under the module name the other programs import it by.
_BUILD_DRIVER = f"{BUILD_DRIVER_MODULE}.py"
_BUILD_DRIVER_SOURCE = "build_extension.py"
_PROGRAM = "__pants_pyo3_cargo.py"
_CONFIG = "__pants_pyo3_cargo.json"


@dataclass(frozen=True)
class CargoProcess:
    """Run a sandbox program that drives cargo on a crate's files, in the shared named cache."""

    # A program of `pants_pyo3.sandbox` (e.g. `build_extension.py`) and its configuration, the
    # JSON of its config dataclass (`build_extension.config_json`).
    program: str
    config_json: bytes
    # The crate's files (and anything else the program reads).
    input_digest: Digest
    # The interpreter the program runs under, which pyo3 is compiled for.
    interpreter: Pyo3Interpreter
    description: str
    level: LogLevel = LogLevel.DEBUG
    # Set for a toolchain other than the host's (a cross build) or an extra tool (clippy): keys the
    # cache instead of the host toolchain's fingerprint.
    tool_fingerprint: str = ""
    # Directories put before the toolchain's on PATH, and variables of the call (a cross build's).
    path: tuple[str, ...] = ()
    env: FrozenDict[str, str] = FrozenDict()
    output_directories: tuple[str, ...] = ()
    # Named caches besides cargo's (name -> path in the sandbox), e.g. zig's.
    caches: FrozenDict[str, str] = FrozenDict()
    cache_scope: ProcessCacheScope = ProcessCacheScope.SUCCESSFUL
    remote_cache_speculation_delay_millis: int = 0


def extra_env_vars(pyo3: Pyo3Subsystem) -> tuple[tuple[str, ...], dict[str, str]]:
    """The `NAME` entries of `[pyo3].extra_env_vars` to read from Pants' environment, and the
    literal `NAME=value` ones."""
    names = tuple(v for v in pyo3.extra_env_vars if "=" not in v)
    literals = dict(v.split("=", 1) for v in pyo3.extra_env_vars if "=" in v)
    return names, literals


@rule(desc="Prepare a cargo process", level=LogLevel.DEBUG)
async def cargo_process(
    request: CargoProcess,
    toolchain: RustToolchain,
    pyo3: Pyo3Subsystem,
    global_options: GlobalOptions,
) -> Process:
    env_names, env_literals = extra_env_vars(pyo3)
    programs = {_BUILD_DRIVER: _BUILD_DRIVER_SOURCE}
    script = _BUILD_DRIVER
    if request.program != _BUILD_DRIVER_SOURCE:
        programs[_PROGRAM] = request.program
        script = _PROGRAM
    programs_digest, config_digest, env = await MultiGet(
        Get(Digest, SandboxPrograms, SandboxPrograms.of(**programs)),
        Get(Digest, CreateDigest([FileContent(_CONFIG, request.config_json)])),
        Get(EnvironmentVars, EnvironmentVarsRequest(env_names)),
    )
    input_digest = await Get(
        Digest, MergeDigests([request.input_digest, programs_digest, config_digest])
    )
    interpreter = request.interpreter.executable
    process_env = {
        "PATH": os.pathsep.join(dict.fromkeys([*request.path, *toolchain.path])),
        "RUSTC": toolchain.rustc,
        # Part of the cache key: another toolchain or interpreter never reuses a result.
        "__PANTS_PYO3_RUSTC": request.tool_fingerprint or toolchain.fingerprint,
        "__PANTS_PYO3_PYTHON": interpreter.fingerprint or interpreter.path,
        **request.env,
        **env,
        **env_literals,
    }
    if global_options.ca_certs_path:
        process_env.setdefault("CARGO_HTTP_CAINFO", global_options.ca_certs_path)
    return Process(
        argv=(interpreter.path, script, _CONFIG),
        input_digest=input_digest,
        env=process_env,
        append_only_caches={**request.caches, NAMED_CACHE: CACHE_PATH},
        output_directories=request.output_directories,
        description=request.description,
        level=request.level,
        cache_scope=request.cache_scope,
        remote_cache_speculation_delay_millis=request.remote_cache_speculation_delay_millis,
    )


def rules():
    return collect_rules()
