# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""Hooks into the Python targets that consume extensions: tests and distributions.

Both check that the consumer runs the interpreter the module was built for, and distributions get a
build backend that tags their wheels for the platform.
"""

from __future__ import annotations

import json
import logging
import pkgutil
from dataclasses import dataclass
from typing import Iterable

from pants.backend.python.goals.pytest_runner import PytestPluginSetup, PytestPluginSetupRequest
from pants.backend.python.subsystems.setup import PythonSetup
from pants.backend.python.target_types import (
    BuildBackendEnvVarsField,
    GenerateSetupField,
    PythonProvidesField,
    WheelConfigSettingsField,
    WheelField,
)
from pants.backend.python.util_rules.interpreter_constraints import InterpreterConstraints
from pants.backend.python.util_rules.package_dists import (
    DistBuildChroot,
    DistBuildChrootRequest,
    DistBuildEnvironment,
    DistBuildEnvironmentRequest,
    ExportedTarget,
)
from pants.backend.python.util_rules.pex import PexRequest, VenvPex, VenvPexProcess
from pants.backend.python.util_rules.pex_requirements import PexRequirements
from pants.backend.python.subsystems.setuptools import PythonDistributionFieldSet
from pants.engine.addresses import Address, Addresses
from pants.engine.env_vars import EnvironmentVars, EnvironmentVarsRequest
from pants.engine.fs import (
    EMPTY_DIGEST,
    AddPrefix,
    CreateDigest,
    Digest,
    DigestSubset,
    FileContent,
    MergeDigests,
    PathGlobs,
)
from pants.engine.process import FallibleProcessResult, ProcessResult
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.engine.target import Target, Targets, TransitiveTargets, TransitiveTargetsRequest
from pants.engine.unions import UnionRule
from pants.util.logging import LogLevel
from pants.util.strutil import softwrap

from pants_pyo3 import wheel_backend
from pants_pyo3.cross import wheel_platform_tag
from pants_pyo3.rules import (
    BuiltPyo3Extension,
    BuiltPyo3Extensions,
    Pyo3ExtensionBuildPlan,
    Pyo3ExtensionBuildRequest,
    Pyo3ExtensionBuildsRequest,
    Pyo3ExtensionError,
    Pyo3InterpreterMismatchError,
    version_tuple,
)
from pants_pyo3.subsystems import Pyo3Subsystem
from pants_pyo3.target_types import (
    Pyo3ExtensionTarget,
    Pyo3InterpreterConstraintsField,
    Pyo3ModuleNameField,
    Pyo3TargetTriplesField,
)
from pants_pyo3.toolchain import Pyo3Interpreter, Pyo3InterpreterRequest, RustToolchain

logger = logging.getLogger(__name__)

_BACKEND_MODULE = "_pants_pyo3_backend"
_MODULES_DIR = "_pants_pyo3_modules"
# Pinned so wheel builds are reproducible; all support CPython 3.8 to 3.13.
_BUILD_REQUIREMENTS = ("setuptools==69.5.1", "wheel==0.43.0")
# For the manylinux check: auditwheel's own policies and analysis, in a process of their own.
_AUDITWHEEL_REQUIREMENTS = ("auditwheel==6.1.0", "pyelftools==0.31", "packaging==24.0")


class Pyo3WheelPlanError(Pyo3ExtensionError):
    pass


class Pyo3ManylinuxError(Pyo3ExtensionError):
    pass


def _extensions(targets: Iterable[Target]) -> tuple[Target, ...]:
    return tuple(t for t in targets if t.has_field(Pyo3ModuleNameField))


@dataclass(frozen=True)
class Pyo3ConsumerCheckRequest:
    """Check that a Python target runs an interpreter that can import the extensions it uses."""

    consumer: Address
    # How the consumer is named to users, e.g. "test" or "python_distribution".
    what: str
    interpreter_constraints: InterpreterConstraints
    extensions: tuple[Target, ...]


@dataclass(frozen=True)
class CheckedPyo3Extensions:
    built: tuple[BuiltPyo3Extensions, ...]


def _can_import(python: Pyo3Interpreter, ext: BuiltPyo3Extensions) -> bool:
    if ext.abi3_floor:
        return (python.major, python.minor) >= ext.abi3_floor
    return any(b.interpreter.ext_suffix == python.ext_suffix for b in ext.host_builds)


@rule(desc="Check the interpreter of a consumer of PyO3 extensions", level=LogLevel.DEBUG)
async def check_consumer_interpreter(request: Pyo3ConsumerCheckRequest) -> CheckedPyo3Extensions:
    consumer_python = await Get(Pyo3Interpreter, Pyo3InterpreterRequest(request.interpreter_constraints))
    built = await MultiGet(
        Get(BuiltPyo3Extensions, Pyo3ExtensionBuildsRequest(t)) for t in request.extensions
    )
    for ext in built:
        if not _can_import(consumer_python, ext):
            raise Pyo3InterpreterMismatchError(
                softwrap(
                    f"""
                    The {request.what} {request.consumer} runs under
                    {consumer_python.implementation} {consumer_python.version}
                    ({consumer_python.executable.path}), but the `{Pyo3ExtensionTarget.alias}` target
                    {ext.address} it depends on is built for {ext.describe()}, so the module would
                    not import. Give both compatible `{Pyo3InterpreterConstraintsField.alias}` (the
                    extension's are currently {ext.interpreter_constraints}; the consumer's, merged
                    with its dependencies', are {request.interpreter_constraints}).
                    """
                )
            )
    return CheckedPyo3Extensions(tuple(built))


@dataclass(frozen=True)
class Pyo3PytestPluginSetupRequest(PytestPluginSetupRequest):
    @classmethod
    def is_applicable(cls, target: Target) -> bool:
        return True


@rule(desc="Check the interpreter of tests that import PyO3 extensions", level=LogLevel.DEBUG)
async def check_pytest_interpreter(
    request: Pyo3PytestPluginSetupRequest, python_setup: PythonSetup
) -> PytestPluginSetup:
    transitive = await Get(TransitiveTargets, TransitiveTargetsRequest([request.target.address]))
    extensions = _extensions(transitive.closure)
    if extensions:
        ics = InterpreterConstraints.create_from_targets(transitive.closure, python_setup)
        assert ics is not None, "a python_tests target has interpreter constraints"
        await Get(
            CheckedPyo3Extensions,
            Pyo3ConsumerCheckRequest(request.target.address, "test", ics, extensions),
        )
    return PytestPluginSetup(EMPTY_DIGEST)


@dataclass(frozen=True)
class Pyo3DistBuildEnvironmentRequest(DistBuildEnvironmentRequest):
    @classmethod
    def is_applicable(cls, tgt: Target) -> bool:
        return PythonDistributionFieldSet.is_applicable(tgt) and tgt[GenerateSetupField].value is not False


def _wheel_plan(
    dist: Address,
    versions: tuple[str, ...],
    constraints: InterpreterConstraints,
    extensions: tuple[BuiltPyo3Extensions, ...],
) -> list[tuple[str, str, str, tuple[BuiltPyo3Extension, ...]]]:
    """The wheels of a distribution: (python tag, abi tag, triple, the modules in it) each."""
    triples = tuple(dict.fromkeys(t for ext in extensions for t in ext.triples))
    for ext in extensions:
        missing_triples = [t for t in triples if t not in ext.triples]
        if missing_triples:
            raise Pyo3WheelPlanError(
                softwrap(
                    f"""
                    The python_distribution {dist} holds extensions built for {', '.join(triples)},
                    but the `{Pyo3ExtensionTarget.alias}` target {ext.address} is not built for
                    {', '.join(missing_triples)}, so those wheels would lack it. Give every
                    extension of the distribution the same `{Pyo3TargetTriplesField.alias}`.
                    """
                )
            )
        if ext.abi3_floor:
            below = [v for v in versions if version_tuple(v) < ext.abi3_floor]
            missing = ", ".join(below)
        else:
            missing = ", ".join(v for v in versions if v not in ext.versions)
        if missing:
            raise Pyo3WheelPlanError(
                softwrap(
                    f"""
                    The python_distribution {dist} admits CPython {missing} (its
                    `interpreter_constraints`, merged with its dependencies', are {constraints}),
                    but the `{Pyo3ExtensionTarget.alias}` target {ext.address} in it is built for
                    {ext.describe()}, so a wheel for {missing} could not import it. Narrow the
                    distribution's `interpreter_constraints`, or widen the extension's.
                    """
                )
            )
    floors = {ext.abi3_floor for ext in extensions}
    plan = []
    for triple in triples:
        if None not in floors:
            # Every module uses the stable ABI: one `cpXY-abi3` wheel, for the highest floor.
            major, minor = max(f for f in floors if f)
            modules = tuple(b for ext in extensions for b in ext.builds if b.triple == triple)
            plan.append((f"cp{major}{minor}", "abi3", triple, modules))
            continue
        for version in versions:
            tag = "cp" + version.replace(".", "")
            modules = tuple(
                b
                for ext in extensions
                for b in ext.builds
                if b.triple == triple and (ext.abi3_floor or b.interpreter.version == version)
            )
            plan.append((tag, tag, triple, modules))
    return plan


def _tool_pex(name: str, requirements: tuple[str, ...], constraints: InterpreterConstraints) -> PexRequest:
    """The environment of a wheel-building tool (setuptools, auditwheel), pinned."""
    return PexRequest(
        output_filename=name,
        internal_only=True,
        requirements=PexRequirements(requirements),
        interpreter_constraints=constraints,
    )


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
        Get(Digest, DigestSubset(chroot.digest, PathGlobs(["**", *(f"!{p}" for p in request.strip)]))),
        # The very request Pants makes for the PEP 517 build's own environment (the same
        # requirements, from our pyproject.toml), so the two share one pex.
        Get(VenvPex, PexRequest, _tool_pex("build_backend.pex", _BUILD_REQUIREMENTS, request.interpreter_constraints)),
    )
    env_names = dist[BuildBackendEnvVarsField].value
    env = await Get(EnvironmentVars, EnvironmentVarsRequest(sorted(env_names or ())))
    settings = dist[WheelConfigSettingsField].value
    result = await Get(
        ProcessResult,
        VenvPexProcess(
            pex,
            argv=(
                _BACKEND_MODULE + ".py",
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


@dataclass(frozen=True)
class Pyo3ModuleAnalysisRequest:
    build: Pyo3ExtensionBuildRequest
    # Of the distribution: auditwheel runs under one of its interpreters.
    interpreter_constraints: InterpreterConstraints
    backend: Digest


@dataclass(frozen=True)
class Pyo3ModuleAnalysis:
    """auditwheel's analysis of one built module (see `wheel_backend.analyze`)."""

    build: BuiltPyo3Extension
    json: str


@rule(desc="Analyse a PyO3 module with auditwheel", level=LogLevel.DEBUG)
async def analyze_pyo3_module(request: Pyo3ModuleAnalysisRequest) -> Pyo3ModuleAnalysis:
    """In a process cached by the module alone (not the policy, not the Python code)."""
    built, pex = await MultiGet(
        Get(BuiltPyo3Extension, Pyo3ExtensionBuildRequest, request.build),
        Get(VenvPex, PexRequest, _tool_pex("pyo3_auditwheel.pex", _AUDITWHEEL_REQUIREMENTS, request.interpreter_constraints)),
    )
    result = await Get(
        ProcessResult,
        VenvPexProcess(
            pex,
            argv=(_BACKEND_MODULE + ".py", "analyze", wheel_platform_tag(built.triple), built.module_path),
            input_digest=await Get(Digest, MergeDigests([built.module_digest, request.backend])),
            description=f"Analyse {built.module_path} ({built.triple}) with auditwheel",
            level=LogLevel.DEBUG,
        ),
    )
    return Pyo3ModuleAnalysis(built, result.stdout.decode())


def manylinux_platforms(label: str, platform: str, policy: str, analyses: list[dict]) -> tuple[str, ...]:
    """The platform tags of a wheel whose modules auditwheel analysed (`wheel_backend.analyze`)
    under the `[pyo3].manylinux` `policy`: its most compatible policy they all comply with for
    `auto`, the named policy if they comply with it, else a named error."""
    if policy == "off" or not platform.startswith("linux_") or not analyses:
        return (platform,)
    arch = platform[len("linux_"):]
    policies = analyses[0]["policies"]
    priority = {p["name"]: p["priority"] for p in policies}
    # A wheel complies with what every module complies with.
    actual = min((a["overall"] for a in analyses), key=lambda name: priority[name])
    if policy == "auto":
        chosen = next(p for p in policies if p["name"] == actual)
    else:
        wanted = f"{policy}_{arch}"
        found = [p for p in policies if wanted in (p["name"], *(f"{a}_{arch}" for a in p["aliases"]))]
        if not found:
            raise Pyo3ManylinuxError(
                f"{label}: auditwheel knows no manylinux policy {policy!r} for {arch}. Set "
                f"`[{Pyo3Subsystem.options_scope}].manylinux` to `auto`, `off` or a policy such as "
                "`manylinux_2_28`."
            )
        chosen = found[0]
        if priority[actual] < chosen["priority"]:
            needed: dict[str, set[str]] = {}
            for a in analyses:
                for lib, versions in a["versioned_symbols"].items():
                    needed.setdefault(lib, set()).update(versions)
            symbols = "; ".join(f"{lib} {' '.join(sorted(v))}" for lib, v in sorted(needed.items()))
            raise Pyo3ManylinuxError(
                f"{label} does not comply with {chosen['name']} (auditwheel: {actual}): its modules "
                f"need {symbols or 'other libraries'}. Set `[{Pyo3Subsystem.options_scope}].manylinux` "
                f"to `auto` (tags the wheel {actual}) or to a newer policy, or build on a system with "
                "an older glibc."
            )
    if chosen["name"].startswith("linux_"):
        logger.warning(f"{label} complies with no manylinux policy; it keeps the tag {platform}.")
        return (platform,)
    return (chosen["name"], *(f"{alias}_{arch}" for alias in chosen["aliases"]))


@rule(desc="Prepare a platform wheel build for PyO3 extensions", level=LogLevel.DEBUG)
async def pyo3_dist_build_environment(
    request: Pyo3DistBuildEnvironmentRequest,
    python_setup: PythonSetup,
    pyo3: Pyo3Subsystem,
    toolchain: RustToolchain,
) -> DistBuildEnvironment:
    targets = await Get(Targets, Addresses(request.target_addresses))
    extensions = _extensions(targets)
    if not extensions:
        return DistBuildEnvironment((), EMPTY_DIGEST)
    dist = next(t.address for t in targets if t.has_field(PythonProvidesField))
    backend = pkgutil.get_data(wheel_backend.__name__.rpartition(".")[0], "wheel_backend.py")
    assert backend is not None, "wheel_backend.py is missing, which is a bug in the pants-pyo3 plugin"
    backend_digest = await Get(Digest, CreateDigest([FileContent(_BACKEND_MODULE + ".py", backend)]))
    versions = request.interpreter_constraints.partition_into_major_minor_versions(
        python_setup.interpreter_versions_universe
    )
    plans = await MultiGet(Get(Pyo3ExtensionBuildPlan, Pyo3ExtensionBuildsRequest(t)) for t in extensions)
    # The builds for this machine are in the chroot already; the copies generated into the package
    # tree are left out of the base wheel (each wheel gets its own modules).
    host_builds = await MultiGet(
        Get(BuiltPyo3Extension, Pyo3ExtensionBuildRequest, r)
        for build_plan in plans
        for r in build_plan.requests
        if r.triple == toolchain.host
    )
    strip = sorted({b.module_path for b in host_builds})
    # The modules that go into a wheel, for auditwheel. Its analyses are keyed by the build request,
    # not the built module: on a re-run in pantsd one starts as soon as its module is rebuilt, while
    # cargo builds the others.
    analysed = [
        r
        for build_plan in plans
        for r in build_plan.requests
        if pyo3.manylinux != "off"
        and wheel_platform_tag(r.triple).startswith("linux_")
        and (build_plan.abi3_floor or r.interpreter.version in versions)
    ]
    # The interpreter check (which waits for the cross builds), the base wheel and the analyses run
    # side by side, and so do the builds of the two tools' environments on a cold machine.
    checked, base, *analyses = await MultiGet(
        [
            Get(
                CheckedPyo3Extensions,
                Pyo3ConsumerCheckRequest(dist, "python_distribution", request.interpreter_constraints, extensions),
            ),
            Get(
                Pyo3BaseWheel,
                Pyo3BaseWheelRequest(dist, request.interpreter_constraints, tuple(strip), backend_digest),
            ),
            *(
                Get(
                    Pyo3ModuleAnalysis,
                    Pyo3ModuleAnalysisRequest(r, request.interpreter_constraints, backend_digest),
                )
                for r in analysed
            ),
        ]
    )
    plan = _wheel_plan(dist, versions, request.interpreter_constraints, checked.built)
    # Every module goes into the chroot under a private directory; the backend puts each wheel's
    # own into it.
    builds = tuple(dict.fromkeys(b for ext in checked.built for b in ext.builds))
    analysis_of = {a.build: json.loads(a.json) for a in analyses}
    placed = await MultiGet(
        Get(Digest, AddPrefix(b.module_digest, f"{_MODULES_DIR}/{i}")) for i, b in enumerate(builds)
    )
    platforms = [
        manylinux_platforms(
            f"The {python_tag}-{abi_tag} {triple} wheel of {dist}",
            wheel_platform_tag(triple),
            pyo3.manylinux,
            [analysis_of[b] for b in modules if b in analysis_of],
        )
        for python_tag, abi_tag, triple, modules in plan
    ]
    config = {
        "strip": strip,
        "wheels": [
            {
                "python_tag": python_tag,
                "abi_tag": abi_tag,
                "platforms": list(wheel_platforms),
                "modules": [
                    {"path": b.module_path, "source": f"{_MODULES_DIR}/{builds.index(b)}/{b.module_path}"}
                    for b in modules
                ],
            }
            for (python_tag, abi_tag, triple, modules), wheel_platforms in zip(plan, platforms)
        ],
    }
    requires = ", ".join(f'"{r}"' for r in _BUILD_REQUIREMENTS)
    files = [
        FileContent(
            "pyproject.toml",
            f'[build-system]\nrequires = [{requires}]\nbuild-backend = "{_BACKEND_MODULE}"\n'.encode(),
        ),
        FileContent(wheel_backend.PLAN_FILE, json.dumps(config, indent=1, sort_keys=True).encode()),
    ]
    digest = await Get(
        Digest,
        MergeDigests([await Get(Digest, CreateDigest(files)), backend_digest, base.digest, *placed]),
    )
    return DistBuildEnvironment((), digest)


def rules():
    return [
        *collect_rules(),
        UnionRule(PytestPluginSetupRequest, Pyo3PytestPluginSetupRequest),
        UnionRule(DistBuildEnvironmentRequest, Pyo3DistBuildEnvironmentRequest),
    ]
