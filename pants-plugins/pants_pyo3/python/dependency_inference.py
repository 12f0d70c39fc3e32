# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""A `pyo3_extension` depends on its `crate`."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pants.engine.rules import Get, collect_rules, rule
from pants.engine.target import (
    FieldSet,
    InferDependenciesRequest,
    InferredDependencies,
    WrappedTarget,
    WrappedTargetRequest,
)
from pants.engine.unions import UnionRule
from pants.util.logging import LogLevel
from pants_pyo3.crate.crate import crate_target
from pants_pyo3.target_types import Pyo3CrateField

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pyo3CrateDependencyFieldSet(FieldSet):
    required_fields = (Pyo3CrateField,)

    crate: Pyo3CrateField


class InferPyo3CrateDependencyRequest(InferDependenciesRequest):
    infer_from = Pyo3CrateDependencyFieldSet


@rule(
    desc="Add the `crate` of `pyo3_extension` targets to their dependencies", level=LogLevel.DEBUG
)
async def infer_pyo3_crate_dependency(
    request: InferPyo3CrateDependencyRequest,
) -> InferredDependencies:
    wrapped = await Get(
        WrappedTarget,
        WrappedTargetRequest(request.field_set.address, description_of_origin="<infallible>"),
    )
    crate = await crate_target(wrapped.target)
    return InferredDependencies([crate.address])


def rules():
    return [*collect_rules(), UnionRule(InferDependenciesRequest, InferPyo3CrateDependencyRequest)]
