# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""Type stubs generated from a crate, for a `pyo3_extension` that asks for them.

pyo3's `experimental-inspect` feature makes its macros compile a description of each class,
function and constant of an inline `#[pymodule] mod` into the library (as data behind
`PYO3_INTROSPECTION_*` symbols); pyo3's `pyo3-introspection` crate reads that data back and writes
a `.pyi`. Here:

1. the extension is built once more, for this machine and one interpreter, with
   `pyo3/experimental-inspect` (`build/extension.py`, `inspect=True`), in a target directory of
   its own: the modules of wheels, tests and pex files stay byte for byte what they were;
2. the plugin's stub generator (`stubgen/`, a small Rust program over pyo3-introspection, one
   release per pyo3 minor version, pinned by its `Cargo.lock`) is built once with cargo in the
   plugin's named cache;
3. it runs on the module of step 1 and writes `<module>.pyi`, which `python/codegen.py` generates
   beside the module, so every consumer of the module gets its stub.

A stub written by hand in the package wins: then none of this runs.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from typing import Any, Mapping

import toml
from pants.engine.fs import (
    EMPTY_DIGEST,
    AddPrefix,
    CreateDigest,
    Digest,
    DigestContents,
    DigestSubset,
    FileContent,
    MergeDigests,
    PathGlobs,
    Paths,
    RemovePrefix,
    Snapshot,
)
from pants.engine.process import FallibleProcessResult, Process
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.engine.target import Target
from pants.source.source_root import SourceRoot, SourceRootRequest
from pants.util.logging import LogLevel
from pants.util.resources import read_resource
from pants.util.strutil import softwrap
from pants_pyo3.build.cargo import CACHE_PATH, CargoProcess
from pants_pyo3.build.extension import BuiltPyo3Extension
from pants_pyo3.build.plan import (
    Pyo3ExtensionBuildPlan,
    Pyo3ExtensionBuildRequest,
    Pyo3ExtensionBuildsRequest,
)
from pants_pyo3.crate.crate import Pyo3Crate, Pyo3CrateRequest
from pants_pyo3.crate.workspace import CargoWorkspace, CargoWorkspaceRequest
from pants_pyo3.errors import Pyo3StubsError
from pants_pyo3.sandbox.build_extension import config_json
from pants_pyo3.sandbox.build_stubgen import BINARY, StubgenConfig
from pants_pyo3.subsystems.pyo3 import Pyo3Subsystem
from pants_pyo3.target_types import (
    Pyo3ExtensionTarget,
    Pyo3GenerateStubsField,
    Pyo3ModuleNameField,
    Pyo3ProfileField,
)
from pants_pyo3.toolchain.interpreter import Pyo3Interpreter
from pants_pyo3.toolchain.rust import RustToolchain

logger = logging.getLogger(__name__)

# The pyo3-introspection release the generator reads each pyo3 minor version's data with (the
# newest of that minor: its patch releases changed how stubs are written, not the data). It must
# match `stubgen/Cargo.toml`. pyo3 0.26 is the first whose data pyo3-introspection reads.
INTROSPECTION_VERSIONS: Mapping[tuple[int, int], str] = {
    (0, 26): "0.26.0",
    (0, 27): "0.27.2",
    (0, 28): "0.28.3",
    (0, 29): "0.29.3",
    (0, 30): "0.30.1",
}

# The generator's crate, shipped with the plugin as resources of this package.
STUBGEN_DIR = "stubgen"
STUBGEN_FILES = ("Cargo.toml", "Cargo.lock", "src/main.rs")
_TOOL_OUT = "__pants_pyo3_stubgen"
_OUT = "__pants_pyo3_stubs"

# The generator's exit codes (`stubgen/src/main.rs`, `Failure::exit_code`).
EXIT_STRIPPED = 4
EXIT_NO_DATA = 5
EXIT_NO_MODULE = 6
EXIT_NO_MEMBERS = 8

_VERSION_RE = re.compile(r"^(\d+)\.(\d+)\.")


def locked_pyo3_version(lock: bytes, package: str) -> str | None:
    """The version of pyo3 that `Cargo.lock` resolves for the crate `package`, if it holds one."""
    packages = toml.loads(lock.decode()).get("package", [])
    versions = sorted({p["version"] for p in packages if p.get("name") == "pyo3"})
    if len(versions) <= 1:
        return versions[0] if versions else None
    # Several (a workspace whose crates use different pyo3s): the one the crate's entry names, as
    # `pyo3 0.29.3` (cargo adds the version only where the name alone is ambiguous).
    for entry in packages:
        if entry.get("name") != package:
            continue
        for dep in entry.get("dependencies", []):
            name, _, version = dep.partition(" ")
            if name == "pyo3" and version.split(" ")[0] in versions:
                return version.split(" ")[0]
    return None


def introspection_version(pyo3_version: str) -> str | None:
    """The pyo3-introspection release for a pyo3 version, or None if the plugin has none."""
    m = _VERSION_RE.match(pyo3_version)
    return INTROSPECTION_VERSIONS.get((int(m.group(1)), int(m.group(2)))) if m else None


def profile_strips_symbols(manifest: Mapping[str, Any], profile: str) -> bool:
    """Whether cargo's `profile` (as `manifest`'s `[profile]` tables set it, following `inherits`)
    strips the symbol table, where the stub generator finds pyo3's data."""
    profiles = manifest.get("profile", {})
    builtin_parents = {"bench": "release", "test": "dev"}
    seen: set[str] = set()
    name: str | None = profile
    while name and name not in seen:
        seen.add(name)
        table = profiles.get(name, {})
        if "strip" in table:
            return table["strip"] is True or table["strip"] == "symbols"
        name = table.get("inherits") or builtin_parents.get(name)
    return False


@dataclass(frozen=True)
class Pyo3StubgenRequest:
    # The interpreter the sandbox program that drives cargo runs under (any will do).
    interpreter: Pyo3Interpreter


@dataclass(frozen=True)
class Pyo3Stubgen:
    """The stub generator: a digest holding its binary at `BINARY`."""

    digest: Digest


@rule(desc="Build pants-pyo3's stub generator", level=LogLevel.DEBUG)
async def build_stubgen(request: Pyo3StubgenRequest, toolchain: RustToolchain) -> Pyo3Stubgen:
    files = [os.path.join(STUBGEN_DIR, f) for f in STUBGEN_FILES]
    sources = await Get(
        Digest, CreateDigest(FileContent(f, read_resource(__name__, f)) for f in files)
    )
    config = StubgenConfig(
        crate_dir=STUBGEN_DIR,
        files=files,
        cargo=toolchain.cargo,
        cache_dir=CACHE_PATH,
        output=os.path.join(_TOOL_OUT, BINARY),
    )
    result = await Get(
        FallibleProcessResult,
        CargoProcess(
            program="build_stubgen.py",
            config_json=config_json(config),
            input_digest=sources,
            interpreter=request.interpreter,
            description="Building pants-pyo3's stub generator (pyo3-introspection) with cargo",
            level=LogLevel.INFO,
            output_directories=(_TOOL_OUT,),
        ),
    )
    if result.exit_code != 0:
        raise Pyo3StubsError(
            "Building pants-pyo3's stub generator (for `generate_stubs`) failed:\n\n"
            + result.stderr.decode(errors="replace").strip()
            + "\n\n"
            + softwrap(
                f"""
                It needs Rust 1.85 or newer (this toolchain is {toolchain.release}) and crates.io
                (or a registry mirror) for its dependencies. Upgrade the toolchain, or turn
                `generate_stubs` off and write the stubs by hand.
                """
            )
        )
    return Pyo3Stubgen(await Get(Digest, RemovePrefix(result.output_digest, _TOOL_OUT)))


@dataclass(frozen=True)
class Pyo3StubsRequest:
    target: Target


@dataclass(frozen=True)
class Pyo3Stubs:
    """An extension's generated type stub, at its path under the source root (unstripped), e.g.
    `src/python/pp3sum/_pp3sum.pyi`; empty if none is generated."""

    digest: Digest
    files: tuple[str, ...]
    # The stub written by hand that wins over a generated one, if the package has one.
    handwritten: str | None = None


def _wants_stubs(tgt: Target, pyo3: Pyo3Subsystem) -> bool:
    value = tgt[Pyo3GenerateStubsField].value
    return pyo3.generate_stubs if value is None else value


@rule(desc="Generate the type stub of a PyO3 extension")
async def generate_pyo3_stubs(
    request: Pyo3StubsRequest, pyo3: Pyo3Subsystem, toolchain: RustToolchain
) -> Pyo3Stubs:
    tgt = request.target
    if not _wants_stubs(tgt, pyo3):
        return Pyo3Stubs(EMPTY_DIGEST, ())
    module_name = tgt[Pyo3ModuleNameField].value
    package, _, name = module_name.rpartition(".")
    python_root = await Get(SourceRoot, SourceRootRequest, SourceRootRequest.for_target(tgt))
    package_dir = os.path.normpath(os.path.join(python_root.path, *package.split(".")))
    handwritten = await Get(
        Paths,
        PathGlobs(
            [
                os.path.normpath(os.path.join(package_dir, f"{name}.pyi")),
                os.path.normpath(os.path.join(package_dir, name, "__init__.pyi")),
            ]
        ),
    )
    if handwritten.files:
        logger.debug(f"{tgt.address}: the stub written by hand, {handwritten.files[0]}, wins.")
        return Pyo3Stubs(EMPTY_DIGEST, (), handwritten.files[0])

    crate, plan = await MultiGet(
        Get(Pyo3Crate, Pyo3CrateRequest(tgt)),
        Get(Pyo3ExtensionBuildPlan, Pyo3ExtensionBuildsRequest(tgt)),
    )
    what = f"The `{Pyo3ExtensionTarget.alias}` target {tgt.address} asks for a generated stub"
    fix_by_hand = softwrap(
        f"""
        Or write the stub by hand as `{os.path.join(package_dir, name)}.pyi` (it wins), or set
        `{Pyo3GenerateStubsField.alias}=False` on {tgt.address}.
        """
    )
    if not crate.manifest.pyo3_dependency:
        raise Pyo3StubsError(
            softwrap(
                f"""
                {what}, but its crate {crate.target.address} has no dependency named `pyo3` in
                its `[dependencies]`, which the stub's build enables `pyo3/experimental-inspect`
                on. Depend on pyo3 directly (not renamed, not only through another crate).
                """
            )
            + f" {fix_by_hand}"
        )
    crate_dir = crate.target.address.spec_path
    workspace = await Get(CargoWorkspace, CargoWorkspaceRequest(crate_dir))
    lock_path = os.path.join(workspace.root or crate_dir, "Cargo.lock")
    manifest_path = os.path.join(workspace.root or crate_dir, "Cargo.toml")
    contents = await Get(
        DigestContents,
        DigestSubset(crate.sources.snapshot.digest, PathGlobs([lock_path, manifest_path])),
    )
    by_path = {fc.path: fc.content for fc in contents}
    if lock_path not in by_path:
        raise Pyo3StubsError(
            softwrap(
                f"""
                {what}, but `{lock_path}` is missing: it says which pyo3 the crate builds with,
                and so which pyo3-introspection reads the stub. Run `cargo generate-lockfile` in
                `{os.path.dirname(lock_path) or '.'}` and add it to the crate's sources.
                """
            )
        )
    pyo3_version = locked_pyo3_version(by_path[lock_path], crate.manifest.package_name)
    if pyo3_version is None:
        raise Pyo3StubsError(
            softwrap(
                f"""
                {what}, but `{lock_path}` resolves no single pyo3 for the crate
                `{crate.manifest.package_name}`. Run `cargo update --workspace` there.
                """
            )
        )
    introspection = introspection_version(pyo3_version)
    if introspection is None:
        known = ", ".join(f"{major}.{minor}" for major, minor in INTROSPECTION_VERSIONS)
        first = min(INTROSPECTION_VERSIONS)
        too_old = tuple(map(int, pyo3_version.split(".")[:2])) < first
        reason = (
            f"pyo3 {pyo3_version} is too old: pyo3-introspection reads the data of pyo3 "
            f"{first[0]}.{first[1]} and newer. Upgrade the crate's pyo3."
            if too_old
            else f"pants-pyo3 has no pyo3-introspection for pyo3 {pyo3_version} yet (it has one "
            f"for pyo3 {known}). Upgrade pants-pyo3, or keep pyo3 at a version it knows."
        )
        raise Pyo3StubsError(
            softwrap(
                f"""
                {what}, but its crate builds with pyo3 {pyo3_version} (`{lock_path}`): {reason}
                """
            )
            + f" {fix_by_hand}"
        )

    # One build for this machine describes the module: the stub is read from its data, which
    # doesn't depend on the interpreter or the platform.
    base = next((r for r in plan.requests if r.triple == toolchain.host), plan.requests[0])
    profile = tgt[Pyo3ProfileField].value
    keep_symbols = profile_strips_symbols(
        toml.loads(by_path.get(manifest_path, b"").decode()), profile
    )
    built, stubgen = await MultiGet(
        Get(
            BuiltPyo3Extension,
            Pyo3ExtensionBuildRequest(
                tgt, base.interpreter, toolchain.host, inspect=True, keep_symbols=keep_symbols
            ),
        ),
        Get(Pyo3Stubgen, Pyo3StubgenRequest(base.interpreter)),
    )
    minor = ".".join(pyo3_version.split(".")[:2])
    result = await Get(
        FallibleProcessResult,
        Process(
            argv=(f"./{BINARY}", minor, built.module_path, name, _OUT),
            input_digest=await Get(Digest, MergeDigests([built.module_digest, stubgen.digest])),
            output_directories=(_OUT,),
            description=(
                f"Generating the type stub of {tgt.address} with pyo3-introspection "
                f"{introspection}"
            ),
            level=LogLevel.DEBUG,
        ),
    )
    if result.exit_code != 0:
        stderr = result.stderr.decode(errors="replace").strip()
        raise Pyo3StubsError(
            _failure(result.exit_code, stderr, name, what, lock_path, pyo3_version)
            + f" {fix_by_hand}"
        )
    digest = await Get(
        Digest, AddPrefix(await Get(Digest, RemovePrefix(result.output_digest, _OUT)), package_dir)
    )
    snapshot = await Get(Snapshot, Digest, digest)
    return Pyo3Stubs(snapshot.digest, tuple(snapshot.files))


def _failure(exit_code: int, stderr: str, name: str, what: str, lock: str, pyo3: str) -> str:
    """What a failed run of the generator means, and the fix."""
    if exit_code == EXIT_NO_MEMBERS:
        return softwrap(
            f"""
            {what}, but pyo3 describes nothing of its module: `{name}` is declared by a
            `#[pymodule] fn {name}`, and pyo3 can't see what that function adds. Declare it as an
            inline module, `#[pymodule] mod {name} {{ #[pymodule_export] use super::my_function;
            }}` (pyo3's guide, "Type stub generation"), so pyo3 can describe its members.
            """
        )
    if exit_code == EXIT_NO_MODULE:
        return softwrap(
            f"""
            {what}, but the library's introspection data has no module named `{name}`
            ({stderr}). Declare it as an inline `#[pymodule] mod {name}` in the crate.
            """
        )
    if exit_code == EXIT_STRIPPED:
        return softwrap(
            f"""
            {what}, but the library built for it has no symbol table, where pyo3's data is found:
            remove `-C strip=...` from `RUSTFLAGS` or the target's `cargo_args`.
            """
        )
    if exit_code == EXIT_NO_DATA:
        return softwrap(
            f"""
            {what}, but the library built with `pyo3/experimental-inspect` holds no pyo3
            introspection data (pyo3 {pyo3}, `{lock}`): is the `#[pymodule]` defined in another
            crate than the one pyo3's feature was enabled for?
            """
        )
    return f"{what}, but pyo3-introspection failed:\n\n{stderr}\n\n"


def rules():
    return collect_rules()
