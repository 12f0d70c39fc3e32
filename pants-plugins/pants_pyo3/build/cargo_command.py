# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""`cargo test` and `cargo clippy` on a `cargo_crate`: a `CargoProcess` that shares the build's
cache and interpreter. Callers ask for `Get(FallibleProcessResult, CargoCommandRequest(...))`."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from pants.backend.python.subsystems.setup import PythonSetup
from pants.backend.python.util_rules.interpreter_constraints import InterpreterConstraints
from pants.engine.addresses import Address
from pants.engine.fs import Digest, MergeDigests, PathGlobs, Snapshot
from pants.engine.internals.native_engine import AddressInput
from pants.engine.process import Process, ProcessCacheScope
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.util.logging import LogLevel
from pants_pyo3.build.cargo import CACHE_PATH, CargoProcess
from pants_pyo3.build.plan import (
    AllPyo3ExtensionTargets,
    extension_interpreter_constraints,
    host_abi_tag,
)
from pants_pyo3.crate.crate import CrateSources, CrateSourcesRequest
from pants_pyo3.sandbox.build_extension import config_json
from pants_pyo3.sandbox.run_cargo import CargoCommandConfig
from pants_pyo3.target_types import Pyo3CrateField
from pants_pyo3.toolchain.interpreter import Pyo3Interpreter, Pyo3InterpreterRequest
from pants_pyo3.toolchain.rust import RustComponent, RustComponentRequest, RustToolchain

logger = logging.getLogger(__name__)


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
    python_setup: PythonSetup,
    extensions: AllPyo3ExtensionTargets,
) -> Process:
    interpreter_constraints = crate_interpreter_constraints(
        request.address, extensions, python_setup
    )
    crate, interpreter = await MultiGet(
        Get(CrateSources, CrateSourcesRequest(request.address)),
        Get(Pyo3Interpreter, Pyo3InterpreterRequest(interpreter_constraints)),
    )
    tool_fingerprint = ""
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
        tool_fingerprint = toolchain.fingerprint + clippy.binary.fingerprint
        files_digest = await Get(Digest, MergeDigests([files_digest, clippy_config.digest]))
        files = (*files, *clippy_config.files)
    config = CargoCommandConfig(
        mode=request.mode,
        args=list(request.args),
        deny_warnings=request.deny_warnings,
        crate_dir=request.address.spec_path,
        files=sorted(set(files)),
        cargo=toolchain.cargo,
        target_triple=toolchain.host,
        # The build's target directory for this interpreter, so clippy reuses the build's artifacts.
        abi_tag=host_abi_tag(interpreter),
        cache_dir=CACHE_PATH,
    )
    return await Get(
        Process,
        CargoProcess(
            program="run_cargo.py",
            config_json=config_json(config),
            input_digest=files_digest,
            interpreter=interpreter,
            description=request.description,
            tool_fingerprint=tool_fingerprint,
            cache_scope=request.cache_scope,
        ),
    )


def rules():
    return collect_rules()
