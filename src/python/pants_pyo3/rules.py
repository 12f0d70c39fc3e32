# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""Building `pyo3_extension` targets with cargo, and feeding the modules to Python targets."""

from __future__ import annotations

import hashlib
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
from pants.engine.process import (
    FallibleProcessResult,
    Process,
    ProcessCacheScope,
    ProcessExecutionFailure,
    ProcessResult,
)
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
from pants.util.frozendict import FrozenDict
from pants.util.logging import LogLevel
from pants.util.strutil import softwrap

from pants_pyo3 import pyo3_build
from pants_pyo3.cargo_manifest import CargoManifest, CargoManifestError, parse_cargo_manifest
from pants_pyo3.cross import (
    CrossToolchain,
    cross_env,
    find_target_python,
    probe_argv,
    target_ext_suffix,
    target_interpreter_tag,
)
from pants_pyo3.cross_subsystem import SETUP_SCRIPT as CROSS_SETUP_SCRIPT
from pants_pyo3.cross_subsystem import Pyo3CrossSubsystem
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
    Pyo3TargetTriplesField,
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


class Pyo3InterpreterNotFoundError(Pyo3ExtensionError):
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
    """One cargo build of an extension: for one interpreter (or the stable ABI) and one triple."""

    target: Target
    interpreter: Pyo3Interpreter
    triple: str


@dataclass(frozen=True)
class BuiltPyo3Extension:
    """One compiled module, at its path under its Python source root (unstripped)."""

    address: Address
    digest: Digest
    # The module's path relative to its source root, e.g. `myext/_native.cpython-311-x86_64-linux-gnu.so`,
    # and a digest holding it there.
    module_path: str
    module_digest: Digest
    interpreter: Pyo3Interpreter
    abi3_floor: tuple[int, int] | None
    triple: str
    # Built for the platform Pants runs on, so tests and pex files here can import it.
    host: bool


@dataclass(frozen=True)
class Pyo3ExtensionBuildsRequest:
    target: Target


@dataclass(frozen=True)
class BuiltPyo3Extensions:
    """Every build of one extension: one per interpreter (a single one for abi3) and triple."""

    address: Address
    interpreter_constraints: InterpreterConstraints
    abi3_floor: tuple[int, int] | None
    builds: tuple[BuiltPyo3Extension, ...]

    @property
    def host_builds(self) -> tuple[BuiltPyo3Extension, ...]:
        return tuple(b for b in self.builds if b.host)

    @property
    def versions(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(b.interpreter.version for b in self.builds))

    @property
    def triples(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(b.triple for b in self.builds))

    def describe(self) -> str:
        if self.abi3_floor:
            return f"the stable ABI of CPython >= {'.'.join(map(str, self.abi3_floor))}"
        return "CPython " + ", ".join(self.versions)


def extension_interpreter_constraints(tgt: Target, python_setup: PythonSetup) -> InterpreterConstraints:
    return InterpreterConstraints(
        tgt[Pyo3InterpreterConstraintsField].value_or_global_default(python_setup)
    )


def host_abi_tag(interpreter: Pyo3Interpreter) -> str:
    """The ABI a module for `interpreter` is compiled for, e.g. `cpython-311-x86_64-linux-gnu`:
    cargo commands for different ABIs get their own target directory (see pyo3_build.py)."""
    return interpreter.ext_suffix.strip(".").rpartition(".")[0]


def version_tuple(version: str) -> tuple[int, int]:
    """`"3.11"` -> `(3, 11)`."""
    major, minor = version.split(".")
    return int(major), int(minor)


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


@dataclass(frozen=True)
class CrateSourcesRequest:
    """The files cargo reads to build the `cargo_crate` at `address`: its own and its path
    dependencies' (and `files` such as a workspace root)."""

    address: Address


@dataclass(frozen=True)
class CrateSources:
    sources: SourceFiles
    # The directories of the crate and of every `cargo_crate` it depends on.
    crate_dirs: tuple[str, ...]


@rule(desc="Find the files of a crate and its path dependencies", level=LogLevel.DEBUG)
async def crate_sources(request: CrateSourcesRequest) -> CrateSources:
    closure = await Get(TransitiveTargets, TransitiveTargetsRequest([request.address]))
    sources = await Get(
        SourceFiles,
        SourceFilesRequest(
            [t.get(SourcesField) for t in closure.closure],
            for_sources_types=(CargoCrateSourcesField, FileSourceField),
        ),
    )
    crate_dirs = tuple(t.address.spec_path for t in closure.closure if t.has_field(CargoCrateSourcesField))
    return CrateSources(sources, crate_dirs)


@dataclass(frozen=True)
class Pyo3CrateRequest:
    target: Target


@dataclass(frozen=True)
class Pyo3Crate:
    """The crate an extension builds: its target, files (with path dependencies) and manifest."""

    target: Target
    sources: SourceFiles
    crate_dirs: tuple[str, ...]
    manifest: CargoManifest


@rule(desc="Read the crate of a `pyo3_extension`", level=LogLevel.DEBUG)
async def read_pyo3_crate(request: Pyo3CrateRequest) -> Pyo3Crate:
    crate = await _crate_target(request.target)
    files = await Get(CrateSources, CrateSourcesRequest(crate.address))
    manifest_contents = await Get(
        DigestContents,
        DigestSubset(
            files.sources.snapshot.digest,
            PathGlobs([os.path.join(crate.address.spec_path, "Cargo.toml")]),
        ),
    )
    return Pyo3Crate(
        crate, files.sources, files.crate_dirs, _read_manifest(request.target, crate, manifest_contents)
    )


def _env_vars(pyo3: Pyo3Subsystem) -> tuple[tuple[str, ...], dict[str, str]]:
    """The `NAME` entries to read from Pants' environment, and the literal `NAME=value` ones."""
    names = tuple(v for v in pyo3.extra_env_vars if "=" not in v)
    literals = dict(v.split("=", 1) for v in pyo3.extra_env_vars if "=" in v)
    return names, literals


def extension_triples(tgt: Target, toolchain: RustToolchain) -> tuple[str, ...]:
    """The Rust target triples an extension is built for (default: the host's)."""
    return tgt[Pyo3TargetTriplesField].value or (toolchain.host,)


def triple_problem(
    tgt: Target, triple: str, toolchain: RustToolchain, cross: Pyo3CrossSubsystem
) -> Pyo3ExtensionError | None:
    """Why `tgt` can't be built for `triple` with the host toolchain, or None if it can (or a
    `[pyo3-cross]` toolchain is configured for it: `cross.toolchain_problems` checks that one)."""
    field = tgt[Pyo3TargetTriplesField]
    if triple in cross.toolchains():
        return None
    if triple not in toolchain.known:
        return Pyo3ExtensionError(
            softwrap(
                f"""
                The `{field.alias}` of the `{Pyo3ExtensionTarget.alias}` target {tgt.address}
                names `{triple}`, which is not a target triple that rustc
                {toolchain.release} knows. Use a triple from `rustc --print target-list`, e.g.
                `{toolchain.host}`.
                """
            )
        )
    if triple not in toolchain.installed:
        setup = (
            f" (on Debian 12: run `{CROSS_SETUP_SCRIPT}` as root, then Pants through `./pants`)"
            if triple == "aarch64-unknown-linux-gnu"
            else ""
        )
        return Pyo3ExtensionError(
            softwrap(
                f"""
                The `{Pyo3ExtensionTarget.alias}` target {tgt.address} is built for `{triple}`,
                but the Rust standard library for `{triple}` is not installed in the toolchain
                at {toolchain.sysroot} (installed: {', '.join(toolchain.installed) or 'none'}),
                and `[{cross.options_scope}].toolchains` has no toolchain for it. Install it
                with `rustup target add {triple}` (for the toolchain {toolchain.release}), or
                configure a cross toolchain for it{setup}; see docs/cross.md. Or remove
                `{triple}` from `{field.alias}`.
                """
            )
        )
    return None


def _check_triples(
    tgt: Target, triples: tuple[str, ...], toolchain: RustToolchain, cross: Pyo3CrossSubsystem
) -> None:
    for triple in triples:
        problem = triple_problem(tgt, triple, toolchain, cross)
        if problem is not None:
            raise problem


def admitted_versions(
    tgt: Target, constraints: InterpreterConstraints, python_setup: PythonSetup
) -> tuple[str, ...]:
    """The CPython major.minor versions an extension's constraints admit: one build each (one in all
    for abi3). Partitioned with `[python].interpreter_versions_universe`; an error if there are none."""
    try:
        versions = constraints.partition_into_major_minor_versions(
            python_setup.interpreter_versions_universe
        )
    except ValueError:  # Pants' own complaint, which can't name the target.
        versions = ()
    if not versions:
        raise Pyo3InterpreterNotFoundError(
            softwrap(
                f"""
                The `{Pyo3InterpreterConstraintsField.alias}` of the `{Pyo3ExtensionTarget.alias}`
                target {tgt.address} ({constraints}) admit none of the Python versions in
                `[python].interpreter_versions_universe`
                ({', '.join(python_setup.interpreter_versions_universe)}). Fix the constraints, or
                add the version to the universe.
                """
            )
        )
    return tuple(versions)


def check_abi3_floor(
    tgt: Target,
    constraints: InterpreterConstraints,
    versions: tuple[str, ...],
    floor: tuple[int, int] | None,
) -> None:
    """An abi3 module can't be imported below its floor: every admitted version must reach it."""
    below = [v for v in versions if floor and version_tuple(v) < floor]
    if floor and below:
        floor_text = ".".join(map(str, floor))
        raise Pyo3ExtensionError(
            softwrap(
                f"""
                The `{Pyo3ExtensionTarget.alias}` target {tgt.address} enables pyo3's abi3
                feature for CPython >= {floor_text}, but its
                `{Pyo3InterpreterConstraintsField.alias}` ({constraints}) also admit CPython
                {', '.join(below)}, which can't import that module. Raise the constraints to
                `["CPython>={floor_text}"]` (or narrower), or lower the abi3 feature (e.g.
                `abi3-py{below[0].replace('.', '')}`).
                """
            )
        )


def build_versions(versions: tuple[str, ...], floor: tuple[int, int] | None) -> tuple[str, ...]:
    """The versions built: each admitted one, or for abi3 only the lowest (the module serves all)."""
    return versions[:1] if floor else versions


def narrow_to_version(constraints: InterpreterConstraints, version: str) -> InterpreterConstraints:
    """The part of `constraints` that admits CPython `version` (major.minor) alone."""
    return InterpreterConstraints(f"{c},=={version}.*" for c in constraints)


async def _interpreter_for_version(
    tgt: Target, constraints: InterpreterConstraints, version: str
) -> Pyo3Interpreter:
    """The interpreter of one major.minor version that the constraints admit."""
    try:
        return await Get(Pyo3Interpreter, Pyo3InterpreterRequest(narrow_to_version(constraints, version)))
    except ProcessExecutionFailure:
        major, minor = version_tuple(version)
        raise Pyo3InterpreterNotFoundError(
            softwrap(
                f"""
                The `{Pyo3ExtensionTarget.alias}` target {tgt.address} is built for every CPython
                version its `{Pyo3InterpreterConstraintsField.alias}` ({constraints}) admit, which
                includes {version}, but no CPython {version} interpreter was found where
                `[python-bootstrap].search_path` looks. Install CPython {version} (e.g. `pyenv
                install {version}`), or narrow the constraints to exclude it, e.g.
                `{Pyo3InterpreterConstraintsField.alias}=["CPython>={major}.{minor + 1}"]`.
                """
            )
        )


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
    """Identifies a `[pyo3-cross]` toolchain; fails if its rustc has no standard library for the triple.

    Run uncached (once per Pants run), like the host's `rustc -vV`: its output keys the build's cache.
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


@dataclass(frozen=True)
class Pyo3ExtensionBuildPlan:
    """The builds of one extension, before they run: one per interpreter (a single one for abi3)
    and triple."""

    address: Address
    interpreter_constraints: InterpreterConstraints
    abi3_floor: tuple[int, int] | None
    requests: tuple[Pyo3ExtensionBuildRequest, ...]


@rule(desc="Plan the builds of a PyO3 extension", level=LogLevel.DEBUG)
async def plan_pyo3_extension_builds(
    request: Pyo3ExtensionBuildsRequest,
    toolchain: RustToolchain,
    python_setup: PythonSetup,
    cross: Pyo3CrossSubsystem,
) -> Pyo3ExtensionBuildPlan:
    tgt = request.target
    crate = await Get(Pyo3Crate, Pyo3CrateRequest(tgt))
    constraints = extension_interpreter_constraints(tgt, python_setup)
    admitted = admitted_versions(tgt, constraints, python_setup)
    floor = crate.manifest.abi3_floor
    check_abi3_floor(tgt, constraints, admitted, floor)
    triples = extension_triples(tgt, toolchain)
    _check_triples(tgt, triples, toolchain, cross)
    interpreters = []
    for version in build_versions(admitted, floor):
        interpreters.append(await _interpreter_for_version(tgt, constraints, version))
    return Pyo3ExtensionBuildPlan(
        tgt.address,
        constraints,
        floor,
        tuple(
            Pyo3ExtensionBuildRequest(tgt, interpreter, triple)
            for triple in triples
            for interpreter in interpreters
        ),
    )


@rule(desc="Build a PyO3 extension for each interpreter and target triple")
async def build_pyo3_extension_matrix(request: Pyo3ExtensionBuildsRequest) -> BuiltPyo3Extensions:
    plan = await Get(Pyo3ExtensionBuildPlan, Pyo3ExtensionBuildsRequest, request)
    builds = await MultiGet(Get(BuiltPyo3Extension, Pyo3ExtensionBuildRequest, r) for r in plan.requests)
    return BuiltPyo3Extensions(plan.address, plan.interpreter_constraints, plan.abi3_floor, tuple(builds))


@rule(desc="Build a PyO3 extension with cargo")
async def build_pyo3_extension(
    request: Pyo3ExtensionBuildRequest,
    toolchain: RustToolchain,
    pyo3: Pyo3Subsystem,
    global_options: GlobalOptions,
    all_extensions: AllPyo3ExtensionTargets,
) -> BuiltPyo3Extension:
    tgt = request.target
    interpreter = request.interpreter
    check_unique_module_names(all_extensions)
    env_names, env_literals = _env_vars(pyo3)
    crate, python_root, env = await MultiGet(
        Get(Pyo3Crate, Pyo3CrateRequest(tgt)),
        Get(SourceRoot, SourceRootRequest, SourceRootRequest.for_target(tgt)),
        Get(EnvironmentVars, EnvironmentVarsRequest(env_names)),
    )
    abi3 = crate.manifest.abi3_floor is not None
    host = request.triple == toolchain.host
    cargo, rustc_fingerprint, cross_vars = toolchain.cargo, toolchain.fingerprint, {}
    path = list(toolchain.path)
    if host:
        ext_suffix = ".abi3.so" if abi3 else interpreter.ext_suffix
        abi_tag = "abi3" if abi3 else host_abi_tag(interpreter)
    else:
        # Another platform: its toolchain from `[pyo3-cross]` (or the host's, if rustup installed the
        # triple's standard library), and PyO3's cross-compilation variables for its CPython.
        cross_build = await Get(
            CrossBuildSetup, CrossBuildSetupRequest(request.triple, interpreter.version, abi3)
        )
        cargo = cross_build.cargo or cargo
        rustc_fingerprint = cross_build.fingerprint or rustc_fingerprint
        cross_vars = dict(cross_build.env)
        path = [*cross_build.path, *path]
        ext_suffix = cross_build.ext_suffix
        abi_tag = cross_build.abi_tag

    module_name = tgt[Pyo3ModuleNameField].value
    package, _, name = module_name.rpartition(".")
    module_path = os.path.join(*package.split("."), name + ext_suffix) if package else name + ext_suffix
    config = {
        "address": str(tgt.address),
        "crate_dir": crate.target.address.spec_path,
        "package": crate.manifest.package_name,
        "files": sorted(crate.sources.snapshot.files),
        "module_name": module_name,
        "profile": tgt[Pyo3ProfileField].value,
        "features": list(tgt[Pyo3FeaturesField].value),
        "default_features": tgt[Pyo3DefaultFeaturesField].value,
        "cargo_args": [*pyo3.cargo_args, *tgt[Pyo3CargoArgsField].value],
        "cargo": cargo,
        "target_triple": request.triple,
        "cache_dir": _CACHE_PATH,
        "output": os.path.join(_OUT, python_root.path, module_path),
        "abi_tag": abi_tag,
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
    input_digest = await Get(Digest, MergeDigests([crate.sources.snapshot.digest, extra]))
    process_env = {
        "PATH": os.pathsep.join(dict.fromkeys(path)),
        "RUSTC": toolchain.rustc,
        # Part of the cache key: a different toolchain or interpreter never reuses a build.
        "__PANTS_PYO3_RUSTC": rustc_fingerprint,
        "__PANTS_PYO3_PYTHON": interpreter.executable.fingerprint or interpreter.executable.path,
        **cross_vars,
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
                f"{'abi3' if abi3 else 'CPython ' + interpreter.version}, {request.triple})"
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
                Name the crate's `#[pymodule]` function `{name}` (or add
                `#[pyo3(name = "{name}")]` to it), or change `{Pyo3ModuleNameField.alias}` to match
                the module the crate defines.
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
    digest, module_digest = await MultiGet(
        Get(Digest, RemovePrefix(result.output_digest, _OUT)),
        Get(Digest, RemovePrefix(result.output_digest, os.path.normpath(os.path.join(_OUT, python_root.path)))),
    )
    return BuiltPyo3Extension(
        address=tgt.address,
        digest=digest,
        module_path=module_path,
        module_digest=module_digest,
        interpreter=interpreter,
        abi3_floor=crate.manifest.abi3_floor,
        triple=request.triple,
        host=host,
    )


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
    plan = await Get(Pyo3ExtensionBuildPlan, Pyo3ExtensionBuildsRequest(request.protocol_target))
    host_builds = await MultiGet(
        Get(BuiltPyo3Extension, Pyo3ExtensionBuildRequest, r) for r in plan.requests if r.triple == toolchain.host
    )
    digest = await Get(Digest, MergeDigests(b.digest for b in host_builds))
    return GeneratedSources(await Get(Snapshot, Digest, digest))


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
