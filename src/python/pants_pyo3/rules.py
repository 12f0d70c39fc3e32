# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""Building `pyo3_extension` targets with cargo, and feeding the modules to Python targets."""

from __future__ import annotations

import json
import logging
import os
import pkgutil
from collections import defaultdict
from dataclasses import dataclass
from typing import DefaultDict

from pants.backend.python.dependency_inference.module_mapper import (
    FirstPartyPythonMappingImpl,
    FirstPartyPythonMappingImplMarker,
    ModuleProvider,
    ModuleProviderType,
    ResolveName,
)
from pants.backend.python.subsystems.setup import PythonSetup
from pants.backend.python.target_types import PythonResolveField
from pants.backend.python.util_rules.interpreter_constraints import InterpreterConstraints
from pants.core.target_types import FileSourceField, ResourceSourceField
from pants.core.util_rules.source_files import SourceFiles, SourceFilesRequest
from pants.engine.addresses import Address, Addresses, UnparsedAddressInputs
from pants.engine.env_vars import EnvironmentVars, EnvironmentVarsRequest
from pants.engine.fs import (
    CreateDigest,
    Digest,
    DigestContents,
    DigestSubset,
    FileContent,
    MergeDigests,
    PathGlobs,
    RemovePrefix,
    Snapshot,
)
from pants.engine.process import FallibleProcessResult, Process
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.engine.target import (
    AllTargets,
    FieldSet,
    GeneratedSources,
    GenerateSourcesRequest,
    InferDependenciesRequest,
    InferredDependencies,
    SourcesField,
    Target,
    Targets,
    TransitiveTargets,
    TransitiveTargetsRequest,
    WrappedTarget,
    WrappedTargetRequest,
)
from pants.engine.unions import UnionRule
from pants.option.global_options import GlobalOptions
from pants.source.source_root import SourceRoot, SourceRootRequest
from pants.util.logging import LogLevel
from pants.util.strutil import softwrap

from pants_pyo3 import pyo3_build
from pants_pyo3.cargo_manifest import CargoManifest, CargoManifestError, parse_cargo_manifest
from pants_pyo3.subsystems import Pyo3Subsystem
from pants_pyo3.target_types import (
    CargoCrateSourcesField,
    CargoCrateTarget,
    Pyo3CargoArgsField,
    Pyo3CrateField,
    Pyo3DefaultFeaturesField,
    Pyo3ExtensionSourcesField,
    Pyo3ExtensionTarget,
    Pyo3FeaturesField,
    Pyo3InterpreterConstraintsField,
    Pyo3ModuleNameField,
    Pyo3ProfileField,
)
from pants_pyo3.toolchain import Pyo3Interpreter, Pyo3InterpreterRequest, RustToolchain

logger = logging.getLogger(__name__)

# The named cache holding cargo's registry, its target directory and the source mirror. Every
# build shares it, so a second build (or another crate using the same dependencies) is incremental.
NAMED_CACHE = "pants_pyo_cargo"  # Cache names may not contain digits.
_CACHE_PATH = ".cache/pants_pyo_cargo"
_DRIVER = "__pants_pyo3_build.py"
_CONFIG = "__pants_pyo3_build.json"
_OUT = "__pants_pyo3_out"
# With a remote cache, Pants starts the local process while the remote lookup is still pending, and
# cancels whichever loses. A cargo build costs tens of seconds of every core and holds the named
# cache's lock, while a remote hit answers in well under a second: give the lookup a head start. A
# miss still starts cargo at once; only a lookup that hangs delays it.
_REMOTE_CACHE_SPECULATION_DELAY_MS = 5000


class Pyo3ExtensionError(Exception):
    """A `pyo3_extension` can't be built as declared; the message says how to fix it."""


class Pyo3BuildError(Pyo3ExtensionError):
    pass


class Pyo3InterpreterMismatchError(Pyo3ExtensionError):
    pass


class AllPyo3ExtensionTargets(Targets):
    pass


@rule(desc="Find all `pyo3_extension` targets", level=LogLevel.DEBUG)
async def find_all_pyo3_extensions(all_targets: AllTargets) -> AllPyo3ExtensionTargets:
    return AllPyo3ExtensionTargets(
        tgt for tgt in all_targets if tgt.has_field(Pyo3ModuleNameField)
    )


def check_unique_module_names(targets: AllPyo3ExtensionTargets) -> None:
    owners: DefaultDict[str, list[Address]] = defaultdict(list)
    for tgt in targets:
        owners[tgt[Pyo3ModuleNameField].value].append(tgt.address)
    clashes = {module: addrs for module, addrs in owners.items() if len(addrs) > 1}
    if clashes:
        module, addrs = sorted(clashes.items())[0]
        raise Pyo3ExtensionError(
            softwrap(
                f"""
                The `{Pyo3ExtensionTarget.alias}` targets {', '.join(str(a) for a in sorted(addrs))}
                all claim the Python module `{module}`, and only one library can be imported under
                a name. Give each a distinct `{Pyo3ModuleNameField.alias}`.
                """
            )
        )


@dataclass(frozen=True)
class Pyo3ExtensionBuildRequest:
    target: Target


@dataclass(frozen=True)
class BuiltPyo3Extension:
    """The compiled module, at its path under its Python source root (unstripped)."""

    address: Address
    digest: Digest
    interpreter: Pyo3Interpreter
    interpreter_constraints: InterpreterConstraints
    abi3_floor: tuple[int, int] | None


def extension_interpreter_constraints(tgt: Target, python_setup: PythonSetup) -> InterpreterConstraints:
    return InterpreterConstraints(
        tgt[Pyo3InterpreterConstraintsField].value_or_global_default(python_setup)
    )


async def _crate_target(tgt: Target) -> Target:
    """The `cargo_crate` target named by an extension's `crate` field."""
    field = tgt[Pyo3CrateField]
    addresses = await Get(
        Addresses,
        UnparsedAddressInputs(
            [field.value],
            owning_address=tgt.address,
            description_of_origin=f"the `{field.alias}` field of {tgt.address}",
        ),
    )
    crate = await Get(
        WrappedTarget,
        WrappedTargetRequest(addresses[0], description_of_origin=f"the `{field.alias}` field of {tgt.address}"),
    )
    if not crate.target.has_field(CargoCrateSourcesField):
        raise Pyo3ExtensionError(
            softwrap(
                f"""
                The `{field.alias}` field of the `{Pyo3ExtensionTarget.alias}` target {tgt.address}
                must name a `{CargoCrateTarget.alias}` target, but {crate.target.address} is a
                `{crate.target.alias}`. Add `{CargoCrateTarget.alias}()` to the BUILD file next to
                the crate's `Cargo.toml` and point `{field.alias}` at it.
                """
            )
        )
    return crate.target


def _read_manifest(tgt: Target, crate: Target, contents: DigestContents) -> CargoManifest:
    path = os.path.join(crate.address.spec_path, "Cargo.toml")
    content = next((fc.content for fc in contents if fc.path == path), None)
    if content is None:
        raise Pyo3ExtensionError(
            softwrap(
                f"""
                The `{Pyo3ExtensionTarget.alias}` target {tgt.address} builds the crate
                {crate.address}, which has no `{path}` among its sources. Put the
                `{CargoCrateTarget.alias}` target in the crate's directory, next to its `Cargo.toml`,
                and keep `Cargo.toml` in its `{CargoCrateSourcesField.alias}`.
                """
            )
        )
    try:
        return parse_cargo_manifest(
            content,
            path=path,
            features=tgt[Pyo3FeaturesField].value,
            default_features=tgt[Pyo3DefaultFeaturesField].value,
        )
    except CargoManifestError as e:
        raise Pyo3ExtensionError(f"The `{Pyo3ExtensionTarget.alias}` target {tgt.address}: {e}")


def _env_vars(pyo3: Pyo3Subsystem) -> tuple[tuple[str, ...], dict[str, str]]:
    """The `NAME` entries to read from Pants' environment, and the literal `NAME=value` ones."""
    names = tuple(v for v in pyo3.extra_env_vars if "=" not in v)
    literals = dict(v.split("=", 1) for v in pyo3.extra_env_vars if "=" in v)
    return names, literals


@rule(desc="Build a PyO3 extension with cargo")
async def build_pyo3_extension(
    request: Pyo3ExtensionBuildRequest,
    toolchain: RustToolchain,
    pyo3: Pyo3Subsystem,
    python_setup: PythonSetup,
    global_options: GlobalOptions,
    all_extensions: AllPyo3ExtensionTargets,
) -> BuiltPyo3Extension:
    tgt = request.target
    check_unique_module_names(all_extensions)
    env_names, env_literals = _env_vars(pyo3)
    crate = await _crate_target(tgt)
    crate_closure, python_root = await MultiGet(
        Get(TransitiveTargets, TransitiveTargetsRequest([crate.address])),
        Get(SourceRoot, SourceRootRequest, SourceRootRequest.for_target(tgt)),
    )
    interpreter_constraints = extension_interpreter_constraints(tgt, python_setup)
    sources, interpreter, env = await MultiGet(
        Get(
            SourceFiles,
            SourceFilesRequest(
                [t.get(SourcesField) for t in crate_closure.closure],
                for_sources_types=(CargoCrateSourcesField, FileSourceField),
            ),
        ),
        Get(
            Pyo3Interpreter,
            Pyo3InterpreterRequest(interpreter_constraints),
        ),
        Get(EnvironmentVars, EnvironmentVarsRequest(env_names)),
    )
    manifest_contents = await Get(
        DigestContents,
        DigestSubset(sources.snapshot.digest, PathGlobs([os.path.join(crate.address.spec_path, "Cargo.toml")])),
    )
    manifest = _read_manifest(tgt, crate, manifest_contents)
    if manifest.abi3_floor and (interpreter.major, interpreter.minor) < manifest.abi3_floor:
        floor = ".".join(map(str, manifest.abi3_floor))
        raise Pyo3ExtensionError(
            softwrap(
                f"""
                The `{Pyo3ExtensionTarget.alias}` target {tgt.address} enables pyo3's abi3 feature
                for CPython >= {floor}, but its interpreter constraints select CPython
                {interpreter.version}, which that module can't be imported on. Raise the
                `{Pyo3InterpreterConstraintsField.alias}` to `>={floor}` or lower the abi3 feature.
                """
            )
        )

    module_name = tgt[Pyo3ModuleNameField].value
    config = {
        "address": str(tgt.address),
        "crate_dir": crate.address.spec_path,
        "package": manifest.package_name,
        "files": sorted(sources.snapshot.files),
        "module_name": module_name,
        "profile": tgt[Pyo3ProfileField].value,
        "features": list(tgt[Pyo3FeaturesField].value),
        "default_features": tgt[Pyo3DefaultFeaturesField].value,
        "cargo_args": [*pyo3.cargo_args, *tgt[Pyo3CargoArgsField].value],
        "cargo": toolchain.cargo,
        "target_triple": toolchain.host,
        "cache_dir": _CACHE_PATH,
        "output_dir": os.path.join(_OUT, python_root.path),
        "abi3": manifest.abi3_floor is not None,
    }
    driver = pkgutil.get_data(pyo3_build.__name__.rpartition(".")[0], "pyo3_build.py")
    assert driver is not None, "pyo3_build.py is missing, which is a bug in the pants-pyo3 plugin"
    extra = await Get(
        Digest,
        CreateDigest(
            [
                FileContent(_DRIVER, driver),
                FileContent(_CONFIG, json.dumps(config, indent=1, sort_keys=True).encode()),
            ]
        ),
    )
    input_digest = await Get(Digest, MergeDigests([sources.snapshot.digest, extra]))
    process_env = {
        "PATH": os.pathsep.join(toolchain.path),
        "RUSTC": toolchain.rustc,
        # Part of the cache key: a different toolchain or interpreter never reuses a build.
        "__PANTS_PYO3_RUSTC": toolchain.fingerprint,
        "__PANTS_PYO3_PYTHON": interpreter.executable.fingerprint or interpreter.executable.path,
        **env,
        **env_literals,
    }
    if global_options.ca_certs_path:
        process_env.setdefault("CARGO_HTTP_CAINFO", global_options.ca_certs_path)
    result = await Get(
        FallibleProcessResult,
        Process(
            argv=(interpreter.executable.path, _DRIVER, _CONFIG),
            input_digest=input_digest,
            env=process_env,
            append_only_caches={NAMED_CACHE: _CACHE_PATH},
            output_directories=(_OUT,),
            description=(
                f"Building {tgt.address} with cargo ({tgt[Pyo3ProfileField].value}, "
                f"{'abi3' if manifest.abi3_floor else 'CPython ' + interpreter.version}, "
                f"{toolchain.host})"
            ),
            level=LogLevel.INFO,
            remote_cache_speculation_delay_millis=_REMOTE_CACHE_SPECULATION_DELAY_MS,
        ),
    )
    if result.exit_code != 0:
        stderr = result.stderr.decode(errors="replace").strip()
        if result.exit_code == pyo3_build.EXIT_NO_INIT_SYMBOL:
            hint = softwrap(
                f"""
                Name the crate's `#[pymodule]` function `{module_name.rpartition('.')[2]}` (or add
                `#[pyo3(name = "{module_name.rpartition('.')[2]}")]` to it), or change
                `{Pyo3ModuleNameField.alias}` to match the module the crate defines.
                """
            )
        elif result.exit_code == pyo3_build.EXIT_CARGO_FAILED:
            hint = "Fix the errors cargo reported above."
        else:
            hint = "See the output above."
        raise Pyo3BuildError(
            f"Building the `{Pyo3ExtensionTarget.alias}` target {tgt.address} failed:\n\n"
            f"{stderr}\n\n{hint}"
        )
    digest = await Get(Digest, RemovePrefix(result.output_digest, _OUT))
    return BuiltPyo3Extension(
        address=tgt.address,
        digest=digest,
        interpreter=interpreter,
        interpreter_constraints=interpreter_constraints,
        abi3_floor=manifest.abi3_floor,
    )


class GeneratePythonFromPyo3Request(GenerateSourcesRequest):
    input = Pyo3ExtensionSourcesField
    output = ResourceSourceField


@rule(desc="Generate a Python extension module from a PyO3 crate")
async def generate_python_from_pyo3(request: GeneratePythonFromPyo3Request) -> GeneratedSources:
    built = await Get(BuiltPyo3Extension, Pyo3ExtensionBuildRequest(request.protocol_target))
    return GeneratedSources(await Get(Snapshot, Digest, built.digest))


@dataclass(frozen=True)
class Pyo3CrateDependencyFieldSet(FieldSet):
    required_fields = (Pyo3CrateField,)

    crate: Pyo3CrateField


class InferPyo3CrateDependencyRequest(InferDependenciesRequest):
    infer_from = Pyo3CrateDependencyFieldSet


@rule(desc="Add the `crate` of `pyo3_extension` targets to their dependencies", level=LogLevel.DEBUG)
async def infer_pyo3_crate_dependency(request: InferPyo3CrateDependencyRequest) -> InferredDependencies:
    wrapped = await Get(
        WrappedTarget,
        WrappedTargetRequest(request.field_set.address, description_of_origin="<infallible>"),
    )
    crate = await _crate_target(wrapped.target)
    return InferredDependencies([crate.address])


class Pyo3ModuleMappingMarker(FirstPartyPythonMappingImplMarker):
    pass


@rule(desc="Map `pyo3_extension` targets to Python modules", level=LogLevel.DEBUG)
async def map_pyo3_extensions_to_python_modules(
    extensions: AllPyo3ExtensionTargets,
    python_setup: PythonSetup,
    _: Pyo3ModuleMappingMarker,
) -> FirstPartyPythonMappingImpl:
    check_unique_module_names(extensions)
    resolves_to_modules: DefaultDict[ResolveName, DefaultDict[str, list[ModuleProvider]]] = (
        defaultdict(lambda: defaultdict(list))
    )
    for tgt in extensions:
        resolve = tgt[PythonResolveField].normalized_value(python_setup)
        resolves_to_modules[resolve][tgt[Pyo3ModuleNameField].value].append(
            ModuleProvider(tgt.address, ModuleProviderType.IMPL)
        )
    return FirstPartyPythonMappingImpl.create(resolves_to_modules)


def rules():
    return [
        *collect_rules(),
        UnionRule(GenerateSourcesRequest, GeneratePythonFromPyo3Request),
        UnionRule(FirstPartyPythonMappingImplMarker, Pyo3ModuleMappingMarker),
        UnionRule(InferDependenciesRequest, InferPyo3CrateDependencyRequest),
    ]
