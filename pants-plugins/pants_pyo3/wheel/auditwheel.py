# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""auditwheel's analysis of each built module, and the manylinux tags a wheel earns from them."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pants.backend.python.util_rules.interpreter_constraints import InterpreterConstraints
from pants.backend.python.util_rules.pex import PexRequest, VenvPex, VenvPexProcess
from pants.engine.fs import Digest, MergeDigests
from pants.engine.process import ProcessResult
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.util.logging import LogLevel
from pants_pyo3.build.extension import BuiltPyo3Extension
from pants_pyo3.build.plan import Pyo3ExtensionBuildRequest
from pants_pyo3.errors import Pyo3ManylinuxError
from pants_pyo3.subsystems.auditwheel import Pyo3AuditwheelSubsystem
from pants_pyo3.subsystems.pyo3 import Pyo3Subsystem
from pants_pyo3.toolchain.cross import wheel_platform_tag
from pants_pyo3.wheel.backend import BACKEND_MODULE

logger = logging.getLogger(__name__)


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
async def analyze_pyo3_module(
    request: Pyo3ModuleAnalysisRequest, auditwheel: Pyo3AuditwheelSubsystem
) -> Pyo3ModuleAnalysis:
    """In a process cached by the module alone (not the policy, not the Python code)."""
    built, pex = await MultiGet(
        Get(BuiltPyo3Extension, Pyo3ExtensionBuildRequest, request.build),
        Get(
            VenvPex,
            PexRequest,
            auditwheel.to_pex_request(interpreter_constraints=request.interpreter_constraints),
        ),
    )
    result = await Get(
        ProcessResult,
        VenvPexProcess(
            pex,
            argv=(
                BACKEND_MODULE + ".py",
                "analyze",
                wheel_platform_tag(built.triple),
                built.module_path,
            ),
            input_digest=await Get(Digest, MergeDigests([built.module_digest, request.backend])),
            description=f"Analyse {built.module_path} ({built.triple}) with auditwheel",
            level=LogLevel.DEBUG,
        ),
    )
    return Pyo3ModuleAnalysis(built, result.stdout.decode())


def _alias_tag(alias: str, arch: str) -> str:
    """A policy alias as a platform tag: auditwheel's are `manylinux2014_x86_64` already."""
    return alias if alias.endswith(f"_{arch}") else f"{alias}_{arch}"


def manylinux_platforms(
    label: str, platform: str, policy: str, analyses: list[dict]
) -> tuple[str, ...]:
    """The platform tags of a wheel whose modules auditwheel analysed (`wheel_backend.analyze`)
    under the `[pyo3].manylinux` `policy`: its most compatible policy they all comply with for
    `auto`, the named policy if they comply with it, else a named error."""
    if policy == "off" or not platform.startswith("linux_") or not analyses:
        return (platform,)
    arch = platform[len("linux_") :]
    policies = analyses[0]["policies"]
    priority = {p["name"]: p["priority"] for p in policies}
    # A wheel complies with what every module complies with.
    actual = min((a["overall"] for a in analyses), key=lambda name: priority[name])
    if policy == "auto":
        chosen = next(p for p in policies if p["name"] == actual)
    else:
        wanted = f"{policy}_{arch}"
        found = [
            p
            for p in policies
            if wanted in (p["name"], *(_alias_tag(a, arch) for a in p["aliases"]))
        ]
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
                f"{label} does not comply with {chosen['name']} (auditwheel: {actual}): "
                f"its modules need {symbols or 'other libraries'}. "
                f"Set `[{Pyo3Subsystem.options_scope}].manylinux` to `auto` (tags the wheel "
                f"{actual}) or to a newer policy, or build on a system with an older glibc."
            )
    if chosen["name"].startswith("linux_"):
        logger.warning(f"{label} complies with no manylinux policy; it keeps the tag {platform}.")
        return (platform,)
    return (chosen["name"], *(_alias_tag(alias, arch) for alias in chosen["aliases"]))


def rules():
    return collect_rules()
