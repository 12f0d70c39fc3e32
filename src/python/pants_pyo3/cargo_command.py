# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""A `Process` that runs `cargo test` or `cargo clippy` on a `cargo_crate`, sharing the build's cache."""

from __future__ import annotations

import json
import logging
import os
import pkgutil
from dataclasses import dataclass

from pants.backend.python.subsystems.setup import PythonSetup
from pants.backend.python.util_rules.interpreter_constraints import InterpreterConstraints
from pants.engine.addresses import Address
from pants.engine.env_vars import EnvironmentVars, EnvironmentVarsRequest
from pants.engine.fs import CreateDigest, Digest, FileContent, MergeDigests, PathGlobs, Snapshot
from pants.engine.internals.native_engine import AddressInput
from pants.engine.process import Process, ProcessCacheScope
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.option.global_options import GlobalOptions
from pants.util.logging import LogLevel

from pants_pyo3 import cargo_driver, pyo3_build
from pants_pyo3.rules import (
    _CACHE_PATH,
    NAMED_CACHE,
    AllPyo3ExtensionTargets,
    CrateSources,
    CrateSourcesRequest,
    _env_vars,
    extension_interpreter_constraints,
    host_abi_tag,
)
from pants_pyo3.subsystems import Pyo3Subsystem
from pants_pyo3.target_types import Pyo3CrateField
from pants_pyo3.toolchain import (
    Pyo3Interpreter,
    Pyo3InterpreterRequest,
    RustComponent,
    RustComponentRequest,
    RustToolchain,
)

logger = logging.getLogger(__name__)

_DRIVER = "__pants_pyo3_cargo.py"
_BUILD_DRIVER = f"{cargo_driver.BUILD_DRIVER_MODULE}.py"
_CONFIG = "__pants_pyo3_cargo.json"


@dataclass(frozen=True)
class CargoCommandRequest:
    """Run `cargo <mode>` (`test` or `clippy`) on the crate at `address`."""

    address: Address
    mode: str
    args: tuple[str, ...]
    description: str
    deny_warnings: bool = False
    cache_scope: ProcessCacheScope = ProcessCacheScope.SUCCESSFUL


def crate_interpreter_constraints(
    address: Address, extensions: AllPyo3ExtensionTargets, python_setup: PythonSetup
) -> InterpreterConstraints:
    """The constraints of the first `pyo3_extension` that builds this crate, else the global ones.

    pyo3 is compiled for one interpreter, so tests and clippy use the one the crate is built for.
    """
    for tgt in sorted(extensions, key=lambda t: t.address):
        field = tgt[Pyo3CrateField]
        crate = AddressInput.parse(
            field.value,
            relative_to=tgt.address.spec_path,
            description_of_origin=f"the `{field.alias}` field of {tgt.address}",
        )
        if crate.path_component == address.spec_path:
            return extension_interpreter_constraints(tgt, python_setup)
    return InterpreterConstraints(python_setup.interpreter_constraints)


@rule(desc="Prepare a cargo command for a crate", level=LogLevel.DEBUG)
async def cargo_command_process(
    request: CargoCommandRequest,
    toolchain: RustToolchain,
    pyo3: Pyo3Subsystem,
    python_setup: PythonSetup,
    global_options: GlobalOptions,
    extensions: AllPyo3ExtensionTargets,
) -> Process:
    env_names, env_literals = _env_vars(pyo3)
    interpreter_constraints = crate_interpreter_constraints(request.address, extensions, python_setup)
    crate, interpreter, env = await MultiGet(
        Get(CrateSources, CrateSourcesRequest(request.address)),
        Get(Pyo3Interpreter, Pyo3InterpreterRequest(interpreter_constraints)),
        Get(EnvironmentVars, EnvironmentVarsRequest(env_names)),
    )
    tool_fingerprint = toolchain.fingerprint
    files_digest = crate.sources.snapshot.digest
    files = crate.sources.snapshot.files
    if request.mode == "clippy":
        # clippy reads its configuration from the crate's directory; it isn't a build input, so
        # it isn't among the crate's sources.
        clippy, clippy_config = await MultiGet(
            Get(RustComponent, RustComponentRequest("clippy")),
            Get(
                Snapshot,
                PathGlobs(
                    os.path.join(request.address.spec_path, name)
                    for name in ("clippy.toml", ".clippy.toml")
                ),
            ),
        )
        tool_fingerprint += clippy.binary.fingerprint
        files_digest = await Get(Digest, MergeDigests([files_digest, clippy_config.digest]))
        files = (*files, *clippy_config.files)
    config = {
        "mode": request.mode,
        # The build's target directory for this interpreter, so clippy reuses the build's artifacts.
        "abi_tag": host_abi_tag(interpreter),
        "crate_dir": request.address.spec_path,
        "files": sorted(set(files)),
        "args": list(request.args),
        "deny_warnings": request.deny_warnings,
        "cargo": toolchain.cargo,
        "target_triple": toolchain.host,
        "cache_dir": _CACHE_PATH,
    }
    package = pyo3_build.__name__.rpartition(".")[0]
    driver = pkgutil.get_data(package, "cargo_driver.py")
    build_driver = pkgutil.get_data(package, "pyo3_build.py")
    assert driver and build_driver, "a driver script is missing, which is a bug in the pants-pyo3 plugin"
    extra = await Get(
        Digest,
        CreateDigest(
            [
                FileContent(_DRIVER, driver),
                FileContent(_BUILD_DRIVER, build_driver),
                FileContent(_CONFIG, json.dumps(config, indent=1, sort_keys=True).encode()),
            ]
        ),
    )
    input_digest = await Get(Digest, MergeDigests([files_digest, extra]))
    process_env = {
        "PATH": os.pathsep.join(toolchain.path),
        "RUSTC": toolchain.rustc,
        # Part of the cache key: another toolchain or interpreter never reuses a result.
        "__PANTS_PYO3_RUSTC": tool_fingerprint,
        "__PANTS_PYO3_PYTHON": interpreter.executable.fingerprint or interpreter.executable.path,
        **env,
        **env_literals,
    }
    if global_options.ca_certs_path:
        process_env.setdefault("CARGO_HTTP_CAINFO", global_options.ca_certs_path)
    return Process(
        argv=(interpreter.executable.path, _DRIVER, _CONFIG),
        input_digest=input_digest,
        env=process_env,
        append_only_caches={NAMED_CACHE: _CACHE_PATH},
        description=request.description,
        level=LogLevel.DEBUG,
        cache_scope=request.cache_scope,
    )


def rules():
    return collect_rules()
