# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""`import myext._native` finds the `pyo3_extension` that builds `myext._native`."""

from __future__ import annotations

import logging
from collections import defaultdict
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
from pants.engine.rules import collect_rules, rule
from pants.engine.unions import UnionRule
from pants.util.logging import LogLevel
from pants_pyo3.build.plan import AllPyo3ExtensionTargets, check_unique_module_names
from pants_pyo3.target_types import Pyo3ModuleNameField

logger = logging.getLogger(__name__)


class Pyo3ModuleMappingMarker(FirstPartyPythonMappingImplMarker):
    pass


@rule(desc="Map `pyo3_extension` targets to Python modules", level=LogLevel.DEBUG)
async def map_pyo3_extensions_to_python_modules(
    extensions: AllPyo3ExtensionTargets,
    python_setup: PythonSetup,
    _: Pyo3ModuleMappingMarker,
) -> FirstPartyPythonMappingImpl:
    check_unique_module_names(extensions)
    resolves_to_modules: DefaultDict[
        ResolveName, DefaultDict[str, list[ModuleProvider]]
    ] = defaultdict(lambda: defaultdict(list))
    for tgt in extensions:
        resolve = tgt[PythonResolveField].normalized_value(python_setup)
        resolves_to_modules[resolve][tgt[Pyo3ModuleNameField].value].append(
            ModuleProvider(tgt.address, ModuleProviderType.IMPL)
        )
    return FirstPartyPythonMappingImpl.create(resolves_to_modules)


def rules():
    return [*collect_rules(), UnionRule(FirstPartyPythonMappingImplMarker, Pyo3ModuleMappingMarker)]
