# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""The programs of this folder are data: one rule ships them into a process's sandbox.

Each is a standard-library-only script that runs there under the interpreter a module is built for
(CPython 3.8+), never imported by Pants itself except to share its typed configuration.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pants.engine.fs import CreateDigest, Digest, FileContent
from pants.engine.rules import Get, collect_rules, rule
from pants.util.frozendict import FrozenDict
from pants.util.logging import LogLevel
from pants.util.resources import read_resource

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SandboxPrograms:
    """Programs of `pants_pyo3.sandbox` to place in a sandbox: the file name each gets there (the
    module name it is imported by, or the script to run) -> its file in this folder."""

    files: FrozenDict[str, str]

    @classmethod
    def of(cls, **files: str) -> SandboxPrograms:
        return cls(FrozenDict(files))


@rule(desc="Ship sandbox programs", level=LogLevel.DEBUG)
async def sandbox_programs_digest(request: SandboxPrograms) -> Digest:
    return await Get(
        Digest,
        CreateDigest(
            FileContent(dest, read_resource(__name__, source))
            for dest, source in sorted(request.files.items())
        ),
    )


def rules():
    return collect_rules()
