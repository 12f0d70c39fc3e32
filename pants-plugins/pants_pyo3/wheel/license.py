# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""License metadata of a wheel (PEP 639): `License-Expression`, `License-File`, license files.

The expression is the `license` of the distribution's `python_artifact` if it has one, else the
`license` of the crates of its extensions (joined with AND when they differ), each checked as an
SPDX expression and written in its canonical form. The license files are the `LICENSE*`, `LICENCE*`,
`COPYING*`, `NOTICE*` and `AUTHORS*` files (setuptools' default patterns) in the distribution's
directory and in each crate's (with the crate's `license-file`).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Iterable

from pants.backend.python.target_types import PythonProvidesField
from pants.engine.fs import PathGlobs, Snapshot
from pants.engine.rules import Get, collect_rules, rule
from pants.engine.target import Target
from pants.util.logging import LogLevel
from pants.util.resources import read_resource
from pants.util.strutil import softwrap
from pants_pyo3.errors import Pyo3LicenseError

logger = logging.getLogger(__name__)

# setuptools' default `license_files` patterns.
LICENSE_FILE_PATTERNS = ("LICENSE*", "LICENCE*", "COPYING*", "NOTICE*", "AUTHORS*")


class InvalidLicenseExpression(ValueError):
    pass


def _spdx_ids() -> tuple[dict[str, str], dict[str, str]]:
    licenses: dict[str, str] = {}
    exceptions: dict[str, str] = {}
    for line in read_resource(__name__, "spdx_ids.txt").decode().splitlines():
        if not line or line.startswith("#"):
            continue
        kind, ident = line.split()
        (licenses if kind == "license" else exceptions)[ident.lower()] = ident
    return licenses, exceptions


_SPDX: tuple[dict[str, str], dict[str, str]] | None = None


def canonical_license_expression(expression: str) -> str:
    """`expression` as PEP 639 wants it: known SPDX ids in their case, operators upper-cased.

    The same rules as `packaging.licenses.canonicalize_license_expression` (packaging >= 24.2, which
    can't be installed beside Pants 2.17's own packaging): ids from the SPDX list (`spdx_ids.txt`),
    `LicenseRef-` ids, `AND`/`OR`/`WITH` and parentheses, no `+`.
    """
    global _SPDX
    if _SPDX is None:
        _SPDX = _spdx_ids()
    licenses, exceptions = _SPDX
    tokens = expression.replace("(", " ( ").replace(")", " ) ").split()
    if not tokens:
        raise InvalidLicenseExpression("it is empty")
    out: list[str] = []
    depth = 0
    expect_operand = True
    after_with = False
    for token in tokens:
        lower = token.lower()
        if token == "(":
            if not expect_operand:
                raise InvalidLicenseExpression("a `(` follows a license id")
            depth += 1
            out.append("(")
        elif token == ")":
            if expect_operand or depth == 0:
                raise InvalidLicenseExpression("a `)` doesn't close a group")
            depth -= 1
            out.append(")")
        elif lower in ("and", "or", "with"):
            if expect_operand:
                raise InvalidLicenseExpression(f"`{token}` doesn't follow a license id")
            if lower == "with" and out[-1] == ")":
                raise InvalidLicenseExpression("`WITH` follows a group, not a license id")
            expect_operand = True
            after_with = lower == "with"
            out.append(lower.upper())
        else:
            if not expect_operand:
                raise InvalidLicenseExpression(f"`{token}` follows a license id, not an operator")
            if after_with:
                if lower not in exceptions:
                    raise InvalidLicenseExpression(f"`{token}` is not an SPDX license exception")
                out.append(exceptions[lower])
            elif lower.startswith("licenseref-"):
                if not token.isascii():
                    raise InvalidLicenseExpression(f"`{token}` is not ASCII")
                out.append("LicenseRef-" + token[len("LicenseRef-") :])
            elif lower.endswith("+"):
                raise InvalidLicenseExpression(
                    f"`{token}`: write `-or-later` ids (e.g. `GPL-2.0-or-later`), not `+`"
                )
            elif lower in licenses:
                out.append(licenses[lower])
            else:
                raise InvalidLicenseExpression(f"`{token}` is not an SPDX license id")
            expect_operand = False
            after_with = False
    if expect_operand or depth:
        raise InvalidLicenseExpression("it ends with an operator or an open group")
    return " ".join(out).replace("( ", "(").replace(" )", ")")


def combined_expression(expressions: Iterable[str]) -> str | None:
    """Several canonical expressions as one: `A AND (B OR C)`, each once, in order."""
    unique = sorted(set(expressions))
    if len(unique) <= 1:
        return unique[0] if unique else None
    return " AND ".join(f"({e})" if " OR " in e else e for e in unique)


def dist_license_expression(
    dist: Target, crate_licenses: Iterable[tuple[str, str | None]]
) -> str | None:
    """The distribution's `License-Expression`: its `python_artifact(license=...)`, else its crates'
    `license` (`crate_licenses`: (the crate's Cargo.toml, its license) each)."""
    declared = dist[PythonProvidesField].value.kwargs.get("license")
    if declared:
        try:
            return canonical_license_expression(str(declared))
        except InvalidLicenseExpression as e:
            raise Pyo3LicenseError(
                softwrap(
                    f"""
                    The `license` of the `python_artifact` of {dist.address} is
                    {str(declared)!r}, which is not an SPDX license expression ({e}), so its wheels
                    can't say their license (PEP 639 `License-Expression`). Write an SPDX
                    expression, e.g. `license="Apache-2.0"` or `license="MIT OR Apache-2.0"` (ids:
                    https://spdx.org/licenses/).
                    """
                )
            )
    expressions = []
    for manifest, license in crate_licenses:
        if not license:
            continue
        try:
            expressions.append(canonical_license_expression(license))
        except InvalidLicenseExpression as e:
            raise Pyo3LicenseError(
                softwrap(
                    f"""
                    The `license` of {manifest} is {license!r}, which is not an SPDX license
                    expression ({e}), and the `python_artifact` of {dist.address}, whose wheels
                    hold that crate, names no `license` to use instead. Write an SPDX expression in
                    the crate's `license` (e.g. `MIT OR Apache-2.0`, not `MIT/Apache-2.0`), or give
                    `python_artifact` a `license="..."`.
                    """
                )
            )
    return combined_expression(expressions)


def check_no_license_classifiers(dist: Target, expression: str | None) -> None:
    classifiers = dist[PythonProvidesField].value.kwargs.get("classifiers") or ()
    legacy = [c for c in classifiers if str(c).startswith("License ::")]
    if expression and legacy:
        raise Pyo3LicenseError(
            softwrap(
                f"""
                The `python_artifact` of {dist.address} has license classifiers
                ({', '.join(legacy)}) and its wheels get `License-Expression: {expression}`: PEP
                639 replaces those classifiers, and PyPI refuses a wheel with both. Remove the
                `License ::` classifiers from its `classifiers`.
                """
            )
        )


@dataclass(frozen=True)
class LicenseFilesRequest:
    """The license files of a distribution (in `dist_dir`) and of its crates (in `crate_dirs`,
    with each crate's `license-file`, relative to its directory)."""

    dist_dir: str
    crates: tuple[tuple[str, str | None], ...]


@dataclass(frozen=True)
class LicenseFiles:
    """Each license file as (its path under `.dist-info/licenses/`, its path in the build root):
    the distribution's relative to its directory, the crates' relative to the build root."""

    snapshot: Snapshot
    files: tuple[tuple[str, str], ...]


def _patterns(directory: str) -> list[str]:
    return [os.path.join(directory, p) for p in LICENSE_FILE_PATTERNS]


@rule(desc="Find license files", level=LogLevel.DEBUG)
async def find_license_files(request: LicenseFilesRequest) -> LicenseFiles:
    globs = _patterns(request.dist_dir)
    for crate_dir, license_file in request.crates:
        globs += _patterns(crate_dir)
        if license_file:
            globs.append(os.path.normpath(os.path.join(crate_dir, license_file)))
    snapshot = await Get(Snapshot, PathGlobs(globs))
    files = {}
    for path in snapshot.files:
        if os.path.dirname(path) == request.dist_dir:
            files[os.path.relpath(path, request.dist_dir)] = path
        else:
            files.setdefault(path, path)
    return LicenseFiles(snapshot, tuple(sorted(files.items())))


def rules():
    return collect_rules()
