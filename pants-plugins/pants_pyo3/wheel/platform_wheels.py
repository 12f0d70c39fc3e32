# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""`python_distribution`s holding extensions write one platform wheel per interpreter and triple:
the hook that plans them and prepares their build."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from pants.backend.python.subsystems.setup import PythonSetup
from pants.backend.python.subsystems.setuptools import PythonDistributionFieldSet
from pants.backend.python.target_types import GenerateSetupField
from pants.backend.python.util_rules.interpreter_constraints import InterpreterConstraints
from pants.backend.python.util_rules.package_dists import (
    DistBuildEnvironment,
    DistBuildEnvironmentRequest,
)
from pants.engine.addresses import Address, Addresses
from pants.engine.fs import EMPTY_DIGEST, AddPrefix, CreateDigest, Digest, FileContent, MergeDigests
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.engine.target import Target, Targets
from pants.engine.unions import UnionRule
from pants.util.logging import LogLevel
from pants.util.strutil import softwrap
from pants_pyo3.build.extension import BuiltPyo3Extension, BuiltPyo3Extensions
from pants_pyo3.build.plan import (
    Pyo3ExtensionBuildPlan,
    Pyo3ExtensionBuildRequest,
    Pyo3ExtensionBuildsRequest,
    version_tuple,
)
from pants_pyo3.errors import Pyo3WheelPlanError
from pants_pyo3.python.interpreter_check import (
    CheckedPyo3Extensions,
    Pyo3ConsumerCheckRequest,
    extension_targets,
)
from pants_pyo3.sandbox import wheel_backend
from pants_pyo3.sandbox.programs import SandboxPrograms
from pants_pyo3.subsystems.pyo3 import Pyo3Subsystem
from pants_pyo3.target_types import (
    Pyo3ExtensionTarget,
    Pyo3ManylinuxField,
    Pyo3TargetTriplesField,
    dist_of_closure,
)
from pants_pyo3.toolchain.cross import wheel_platform_tag
from pants_pyo3.toolchain.rust import RustToolchain
from pants_pyo3.wheel.auditwheel import (
    Pyo3ModuleAnalysis,
    Pyo3ModuleAnalysisRequest,
    manylinux_platforms,
)
from pants_pyo3.wheel.backend import BACKEND_MODULE, BUILD_REQUIREMENTS, MODULES_DIR
from pants_pyo3.wheel.base_wheel import Pyo3BaseWheel, Pyo3BaseWheelRequest
from pants_pyo3.wheel.license import (
    LicenseFiles,
    LicenseFilesRequest,
    check_no_license_classifiers,
    dist_license_expression,
)
from pants_pyo3.wheel.sbom import Pyo3Sbom, Pyo3SbomRequest

# Where the SBOMs and license files go in the build chroot; the backend puts them into each wheel.
META_DIR = "_pants_pyo3_meta"

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pyo3DistBuildEnvironmentRequest(DistBuildEnvironmentRequest):
    @classmethod
    def is_applicable(cls, tgt: Target) -> bool:
        return (
            PythonDistributionFieldSet.is_applicable(tgt)
            and tgt[GenerateSetupField].value is not False
        )


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


def wheel_policy(policies: set[str]) -> str:
    """The manylinux policy of a wheel: its extensions' one, or `auto` if they differ."""
    return next(iter(policies)) if len(policies) == 1 else "auto"


@rule(desc="Prepare a platform wheel build for PyO3 extensions", level=LogLevel.DEBUG)
async def pyo3_dist_build_environment(
    request: Pyo3DistBuildEnvironmentRequest,
    python_setup: PythonSetup,
    pyo3: Pyo3Subsystem,
    toolchain: RustToolchain,
) -> DistBuildEnvironment:
    targets = await Get(Targets, Addresses(request.target_addresses))
    extensions = extension_targets(targets)
    if not extensions:
        return DistBuildEnvironment((), EMPTY_DIGEST)
    dist_target = dist_of_closure(targets)
    dist = dist_target.address
    backend_digest = await Get(
        Digest, SandboxPrograms, SandboxPrograms.of(**{f"{BACKEND_MODULE}.py": "wheel_backend.py"})
    )
    versions = request.interpreter_constraints.partition_into_major_minor_versions(
        python_setup.interpreter_versions_universe
    )
    plans = await MultiGet(
        Get(Pyo3ExtensionBuildPlan, Pyo3ExtensionBuildsRequest(t)) for t in extensions
    )
    # The builds for this machine are in the chroot already; the copies generated into the package
    # tree are left out of the base wheel (each wheel gets its own modules).
    host_builds = await MultiGet(
        Get(BuiltPyo3Extension, Pyo3ExtensionBuildRequest, r)
        for build_plan in plans
        for r in build_plan.requests
        if r.triple == toolchain.host
    )
    strip = sorted({b.module_path for b in host_builds})
    # Each extension's manylinux policy (its field, else `[pyo3].manylinux`).
    policy_of = {t.address: pyo3.manylinux_for(t[Pyo3ManylinuxField].value) for t in extensions}
    # The modules that go into a wheel, for auditwheel. Its analyses are keyed by the build request,
    # not the built module: on a re-run in pantsd one starts as soon as its module is rebuilt, while
    # cargo builds the others.
    analysed = [
        r
        for build_plan in plans
        for r in build_plan.requests
        if policy_of[r.target.address] != "off"
        and wheel_platform_tag(r.triple).startswith("linux_")
        and (build_plan.abi3_floor or r.interpreter.version in versions)
    ]
    # The interpreter check (which waits for the cross builds), the base wheel and the analyses run
    # side by side, and so do the builds of the two tools' environments on a cold machine.
    checked, base, *analyses = await MultiGet(
        [
            Get(
                CheckedPyo3Extensions,
                Pyo3ConsumerCheckRequest(
                    dist, "python_distribution", request.interpreter_constraints, extensions
                ),
            ),
            Get(
                Pyo3BaseWheel,
                Pyo3BaseWheelRequest(
                    dist, request.interpreter_constraints, tuple(strip), backend_digest
                ),
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
    # Each wheel's SBOM (PEP 770) lists the crates of its modules; its license metadata (PEP 639)
    # comes from the distribution's `python_artifact` or its crates.
    triples = tuple(dict.fromkeys(triple for _, _, triple, _ in plan))
    sboms = await MultiGet(
        Get(Pyo3Sbom, Pyo3SbomRequest(t, triple)) for triple in triples for t in extensions
    )
    crates = {s.crate_dir: s for s in sboms}
    license_expression = dist_license_expression(
        dist_target,
        [(f"{d}/Cargo.toml", s.crate_license) for d, s in sorted(crates.items())],
    )
    check_no_license_classifiers(dist_target, license_expression)
    license_files = await Get(
        LicenseFiles,
        LicenseFilesRequest(
            dist.spec_path, tuple((d, s.crate_license_file) for d, s in sorted(crates.items()))
        ),
    )
    sbom_files = [
        FileContent(f"{META_DIR}/sboms/{i}/{s.file_name}", s.content) for i, s in enumerate(sboms)
    ]
    # Every module goes into the chroot under a private directory; the backend puts each wheel's
    # own into it.
    builds = tuple(dict.fromkeys(b for ext in checked.built for b in ext.builds))
    analysis_of = {a.build: json.loads(a.json) for a in analyses}
    placed = await MultiGet(
        Get(Digest, AddPrefix(b.module_digest, f"{MODULES_DIR}/{i}")) for i, b in enumerate(builds)
    )
    platforms = [
        manylinux_platforms(
            f"The {python_tag}-{abi_tag} {triple} wheel of {dist}",
            wheel_platform_tag(triple),
            wheel_policy({policy_of[b.address] for b in modules}),
            [analysis_of[b] for b in modules if b in analysis_of],
        )
        for python_tag, abi_tag, triple, modules in plan
    ]
    config = {
        "strip": strip,
        "license_expression": license_expression,
        "license_files": [
            [name, f"{META_DIR}/licenses/{path}"] for name, path in license_files.files
        ],
        "wheels": [
            {
                "python_tag": python_tag,
                "abi_tag": abi_tag,
                "platforms": list(wheel_platforms),
                "modules": [
                    {
                        "path": b.module_path,
                        "source": f"{MODULES_DIR}/{builds.index(b)}/{b.module_path}",
                    }
                    for b in modules
                ],
                "sboms": [
                    [s.file_name, sbom_files[i].path]
                    for i, s in enumerate(sboms)
                    if s.triple == triple
                ],
            }
            for (python_tag, abi_tag, triple, modules), wheel_platforms in zip(plan, platforms)
        ],
    }
    requires = ", ".join(f'"{r}"' for r in BUILD_REQUIREMENTS)
    files = [
        FileContent(
            "pyproject.toml",
            (
                f"[build-system]\nrequires = [{requires}]\n" f'build-backend = "{BACKEND_MODULE}"\n'
            ).encode(),
        ),
        FileContent(wheel_backend.PLAN_FILE, json.dumps(config, indent=1, sort_keys=True).encode()),
        *sbom_files,
    ]
    created, licenses = await MultiGet(
        Get(Digest, CreateDigest(files)),
        Get(Digest, AddPrefix(license_files.snapshot.digest, f"{META_DIR}/licenses")),
    )
    digest = await Get(
        Digest, MergeDigests([created, licenses, backend_digest, base.digest, *placed])
    )
    return DistBuildEnvironment((), digest)


def rules():
    return [
        *collect_rules(),
        UnionRule(DistBuildEnvironmentRequest, Pyo3DistBuildEnvironmentRequest),
    ]
