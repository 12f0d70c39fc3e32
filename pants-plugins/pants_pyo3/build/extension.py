# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""Building one `pyo3_extension` module with cargo, per interpreter and target triple."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from pants.backend.python.util_rules.interpreter_constraints import InterpreterConstraints
from pants.engine.addresses import Address
from pants.engine.fs import Digest, RemovePrefix
from pants.engine.process import FallibleProcessResult
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.source.source_root import SourceRoot, SourceRootRequest
from pants.util.frozendict import FrozenDict
from pants.util.logging import LogLevel
from pants.util.strutil import softwrap
from pants_pyo3.build.cargo import CACHE_PATH, CargoProcess
from pants_pyo3.build.cross import CrossBuildSetup, CrossBuildSetupRequest
from pants_pyo3.build.plan import (
    Pyo3ExtensionBuildPlan,
    Pyo3ExtensionBuildRequest,
    Pyo3ExtensionBuildsRequest,
    host_abi_tag,
)
from pants_pyo3.crate.crate import Pyo3Crate, Pyo3CrateRequest
from pants_pyo3.crate.manifest import effective_abi3_floor
from pants_pyo3.errors import (
    Pyo3BuildError,
    Pyo3GlibcBaselineError,
    Pyo3ImportCheckError,
    Pyo3LockfileOutdatedError,
)
from pants_pyo3.sandbox import build_extension
from pants_pyo3.sandbox.build_extension import BuildConfig, config_json
from pants_pyo3.subsystems.pyo3 import Pyo3Subsystem
from pants_pyo3.target_types import (
    Pyo3CargoArgsField,
    Pyo3DefaultFeaturesField,
    Pyo3ExtensionTarget,
    Pyo3FeaturesField,
    Pyo3ManylinuxField,
    Pyo3ModuleNameField,
    Pyo3ProfileField,
)
from pants_pyo3.toolchain.interpreter import Pyo3Interpreter
from pants_pyo3.toolchain.rust import RustToolchain
from pants_pyo3.toolchain.zig import (
    RUST_MIN_GLIBC,
    ZIG_CACHE_PATH,
    ZIG_NAMED_CACHE,
    Zig,
    glibc_function_hint,
    policy_for_functions,
    policy_glibc,
    zig_target,
)

logger = logging.getLogger(__name__)


_OUT = "__pants_pyo3_out"
# With a remote cache, Pants starts the local process while the remote lookup is still pending, and
# cancels whichever loses. A cargo build costs tens of seconds of every core and holds the named
# cache's lock, while a remote hit answers in well under a second: give the lookup a head start. A
# miss still starts cargo at once; only a lookup that hangs delays it.
_REMOTE_CACHE_SPECULATION_DELAY_MS = 5000


@dataclass(frozen=True)
class BuiltPyo3Extension:
    """One compiled module, at its path under its Python source root (unstripped)."""

    address: Address
    digest: Digest
    # The module's path relative to its source root, e.g.
    # `myext/_native.cpython-311-x86_64-linux-gnu.so`, and a digest holding it there.
    module_path: str
    module_digest: Digest
    interpreter: Pyo3Interpreter
    abi3_floor: tuple[int, int] | None
    triple: str
    # Built for the platform Pants runs on, so tests and pex files here can import it.
    host: bool


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


@rule(desc="Build a PyO3 extension for each interpreter and target triple")
async def build_pyo3_extension_matrix(request: Pyo3ExtensionBuildsRequest) -> BuiltPyo3Extensions:
    plan = await Get(Pyo3ExtensionBuildPlan, Pyo3ExtensionBuildsRequest, request)
    builds = await MultiGet(
        Get(BuiltPyo3Extension, Pyo3ExtensionBuildRequest, r) for r in plan.requests
    )
    return BuiltPyo3Extensions(
        plan.address, plan.interpreter_constraints, plan.abi3_floor, tuple(builds)
    )


@rule(desc="Build a PyO3 extension with cargo")
async def build_pyo3_extension(
    request: Pyo3ExtensionBuildRequest,
    toolchain: RustToolchain,
    pyo3: Pyo3Subsystem,
) -> BuiltPyo3Extension:
    tgt = request.target
    interpreter = request.interpreter
    crate, python_root = await MultiGet(
        Get(Pyo3Crate, Pyo3CrateRequest(tgt)),
        Get(SourceRoot, SourceRootRequest, SourceRootRequest.for_target(tgt)),
    )
    abi3 = crate.manifest.abi3
    host = request.triple == toolchain.host
    cargo, tool_fingerprint, cross_vars, path = toolchain.cargo, "", FrozenDict(), ()
    if host:
        ext_suffix = ".abi3.so" if abi3 else interpreter.ext_suffix
        abi_tag = "abi3" if abi3 else host_abi_tag(interpreter)
    else:
        # Another platform: its toolchain from `[pyo3-cross]` (or the host's, if rustup installed
        # the triple's standard library), and PyO3's cross-compilation variables for its CPython.
        cross_build = await Get(
            CrossBuildSetup, CrossBuildSetupRequest(request.triple, interpreter.version, abi3)
        )
        cargo = cross_build.cargo or cargo
        tool_fingerprint = cross_build.fingerprint
        cross_vars = cross_build.env
        path = cross_build.path
        ext_suffix = cross_build.ext_suffix
        abi_tag = cross_build.abi_tag

    features = list(tgt[Pyo3FeaturesField].value)
    profile = tgt[Pyo3ProfileField].value
    if request.inspect:
        # The build a type stub is read from (see `stubs/rules.py`): pyo3's introspection data in
        # it, in a target directory of its own (seeded from another of the triple's, built with
        # this machine's linker) that never holds a module of a wheel.
        features.append("pyo3/experimental-inspect")
        abi_tag = f"{abi_tag}+inspect"
        if request.keep_symbols:
            env_name = f"CARGO_PROFILE_{profile.upper().replace('-', '_')}_STRIP"
            cross_vars = FrozenDict({**cross_vars, env_name: "debuginfo"})

    # A manylinux policy is a glibc baseline: zig links the module (and compiles its C code) for it.
    # Not the stub's build: no wheel gets it, and zig's linker drops the symbol table pyo3's
    # introspection data is found by.
    policy = "off" if request.inspect else pyo3.manylinux_for(tgt[Pyo3ManylinuxField].value)
    glibc = policy_glibc(policy)
    target = zig_target(request.triple, glibc) if glibc else None
    if target and glibc < RUST_MIN_GLIBC:
        raise Pyo3GlibcBaselineError(
            softwrap(
                f"""
                The `{Pyo3ExtensionTarget.alias}` target {tgt.address} is built for the manylinux
                policy `{policy}` (glibc {glibc[0]}.{glibc[1]}), but Rust's standard library needs
                glibc {RUST_MIN_GLIBC[0]}.{RUST_MIN_GLIBC[1]} or newer. Use `manylinux2014` (the
                default) or a newer policy, in its `{Pyo3ManylinuxField.alias}` field or
                `[{pyo3.options_scope}].manylinux`.
                """
            )
        )
    zig = await Get(Zig) if target else None
    if zig is not None:
        tool_fingerprint = f"{tool_fingerprint or toolchain.fingerprint}/zig {zig.fingerprint}"

    module_name = tgt[Pyo3ModuleNameField].value
    package, _, name = module_name.rpartition(".")
    module_path = (
        os.path.join(*package.split("."), name + ext_suffix) if package else name + ext_suffix
    )
    config = BuildConfig(
        address=str(tgt.address),
        crate_dir=crate.target.address.spec_path,
        files=sorted(crate.sources.snapshot.files),
        package=crate.manifest.package_name,
        module_name=module_name,
        profile=profile,
        features=features,
        default_features=tgt[Pyo3DefaultFeaturesField].value,
        cargo_args=[*pyo3.cargo_args, *tgt[Pyo3CargoArgsField].value],
        cargo=cargo,
        target_triple=request.triple,
        abi_tag=abi_tag,
        cache_dir=CACHE_PATH,
        output=os.path.join(_OUT, python_root.path, module_path),
        # Only a module this machine can load is imported (cross builds are not: see README). The
        # stub's build is the same code, checked by the module's own build.
        import_check=host and not request.inspect,
        watched_dirs=[]
        if request.inspect
        else sorted(
            {
                # Not a crate at the build root: that would walk the whole repo.
                *(
                    os.path.dirname(f)
                    for f in crate.sources.snapshot.files
                    if f.endswith("/Cargo.toml")
                ),
                *([os.path.join(python_root.path, *package.split("."))] if package else []),
            }
        ),
        zig=zig.path if zig else "",
        zig_target=target or "",
        zig_cache_dir=ZIG_CACHE_PATH if zig else "",
    )
    result = await Get(
        FallibleProcessResult,
        CargoProcess(
            program="build_extension.py",
            config_json=config_json(config),
            input_digest=crate.sources.snapshot.digest,
            interpreter=interpreter,
            description=(
                f"Building {tgt.address} with cargo "
                + ("for its type stub (experimental-inspect, " if request.inspect else "(")
                + f"{profile}, "
                f"{'abi3' if abi3 else 'CPython ' + interpreter.version}, {request.triple}"
                + (f", glibc {glibc[0]}.{glibc[1]} with zig)" if zig else ")")
            ),
            level=LogLevel.INFO,
            tool_fingerprint=tool_fingerprint,
            path=path,
            env=cross_vars,
            output_directories=(_OUT,),
            caches=FrozenDict({ZIG_NAMED_CACHE: ZIG_CACHE_PATH} if zig else {}),
            remote_cache_speculation_delay_millis=_REMOTE_CACHE_SPECULATION_DELAY_MS,
        ),
    )
    stderr = result.stderr.decode(errors="replace").strip()
    what = f"{'abi3' if abi3 else 'CPython ' + interpreter.version}, {request.triple}"
    if result.exit_code == build_extension.EXIT_IMPORT_FAILED:
        raise Pyo3ImportCheckError(
            f"The module `{module_name}` that the `{Pyo3ExtensionTarget.alias}` target "
            f"{tgt.address} built ({what}) fails when it is imported, so it goes into no wheel, "
            f"pex or test:\n\n{stderr}\n\n"
            + softwrap(
                f"""
                Fix the crate's `#[pymodule] fn {name}` (a panic or an `Err` returned while the
                module initialises), then build again.
                """
            )
        )
    if result.exit_code == build_extension.EXIT_LOCKFILE_OUTDATED:
        raise Pyo3LockfileOutdatedError.for_target(tgt.address, stderr)
    if result.exit_code == 0:
        written = [
            line[len(build_extension.SOURCE_TREE_WRITE) :]
            for line in stderr.splitlines()
            if line.startswith(build_extension.SOURCE_TREE_WRITE)
        ]
        if written:
            logger.warning(
                f"While cargo built the `{Pyo3ExtensionTarget.alias}` target {tgt.address} "
                f"({what}), these files of the repo changed: {', '.join(written)}. "
                + softwrap(
                    """
                    A build script (`build.rs`) should write only into its `OUT_DIR`: pants-pyo3
                    builds a copy of the crate, and a file written into the repo's source tree
                    is not part of this build's inputs, so it takes effect one build late and
                    makes Pants restart the run. (Or they were edited during the build.)
                    """
                )
            )
    if result.exit_code != 0:
        if result.exit_code == build_extension.EXIT_NO_INIT_SYMBOL:
            hint = softwrap(
                f"""
                Name the crate's `#[pymodule]` function `{name}` (or add
                `#[pyo3(name = "{name}")]` to it), or change `{Pyo3ModuleNameField.alias}` to match
                the module the crate defines.
                """
            )
        elif result.exit_code == build_extension.EXIT_NO_PYMODULE:
            features = crate.manifest.disabled_features
            feature_hint = (
                f" The crate has Cargo features this build doesn't enable: "
                f"{', '.join(f'`{f}`' for f in features)}."
                if features
                else ""
            )
            hint = softwrap(
                f"""
                Define `#[pymodule] fn {name}(m: &Bound<'_, PyModule>) -> PyResult<()>` in the
                crate's library, or, if it is behind a Cargo feature (e.g. `#[cfg(feature =
                "python")]`), enable that feature: `{Pyo3FeaturesField.alias}=["..."]` on
                {tgt.address}.{feature_hint}
                """
            )
        elif result.exit_code == build_extension.EXIT_GLIBC_BASELINE and glibc:
            missing = next(
                (
                    line[len(build_extension.MISSING_SYMBOLS_PREFIX) :].split()
                    for line in stderr.splitlines()
                    if line.startswith(build_extension.MISSING_SYMBOLS_PREFIX)
                ),
                [],
            )
            raise Pyo3GlibcBaselineError(
                softwrap(
                    f"""
                    Building the `{Pyo3ExtensionTarget.alias}` target {tgt.address} for
                    {request.triple} failed: its code calls
                    {', '.join(glibc_function_hint(m) for m in missing)}, which glibc
                    {glibc[0]}.{glibc[1]} (the manylinux policy `{policy}`) does not have, so a
                    module using it can't be imported where that policy promises it can. Raise
                    the baseline for this target
                    (`{Pyo3ManylinuxField.alias}="{policy_for_functions(missing)}"` or the policy
                    of the glibc that has it) or for every target
                    (`[{pyo3.options_scope}].manylinux`), set it to `auto` to link against this
                    machine's glibc (wheels then install only on systems as new as this one), or
                    turn off the crate feature that needs it.
                    """
                )
                + f"\n\n{stderr}"
            )
        elif result.exit_code == build_extension.EXIT_CARGO_FAILED:
            hint = "Fix the errors cargo reported above."
        else:
            hint = "See the output above."
        raise Pyo3BuildError(
            f"Building the `{Pyo3ExtensionTarget.alias}` target {tgt.address} failed:\n\n"
            f"{stderr}\n\n{hint}"
        )
    digest, module_digest = await MultiGet(
        Get(Digest, RemovePrefix(result.output_digest, _OUT)),
        Get(
            Digest,
            RemovePrefix(
                result.output_digest, os.path.normpath(os.path.join(_OUT, python_root.path))
            ),
        ),
    )
    return BuiltPyo3Extension(
        address=tgt.address,
        digest=digest,
        module_path=module_path,
        module_digest=module_digest,
        interpreter=interpreter,
        abi3_floor=effective_abi3_floor(crate.manifest, (interpreter.version,)),
        triple=request.triple,
        host=host,
    )


def rules():
    return collect_rules()
