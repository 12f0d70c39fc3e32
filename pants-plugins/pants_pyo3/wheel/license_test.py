# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

from __future__ import annotations

import pytest
from pants_pyo3.sandbox.wheel_backend import pep639_metadata
from pants_pyo3.wheel.license import (
    InvalidLicenseExpression,
    canonical_license_expression,
    combined_expression,
)


@pytest.mark.parametrize(
    "given, canonical",
    [
        ("mit", "MIT"),
        ("MIT OR Apache-2.0", "MIT OR Apache-2.0"),
        ("mit and (apache-2.0 or bsd-2-clause)", "MIT AND (Apache-2.0 OR BSD-2-Clause)"),
        ("(MIT OR Apache-2.0) AND Unicode-3.0", "(MIT OR Apache-2.0) AND Unicode-3.0"),
        ("Apache-2.0 with llvm-exception", "Apache-2.0 WITH LLVM-exception"),
        ("LicenseRef-Proprietary", "LicenseRef-Proprietary"),
        ("licenseref-Mine OR 0bsd", "LicenseRef-Mine OR 0BSD"),
    ],
)
def test_canonical_license_expression(given: str, canonical: str) -> None:
    assert canonical_license_expression(given) == canonical


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "MIT/Apache-2.0",  # Old crates' way of writing OR.
        "Apache License 2.0",
        "MIT OR",
        "(MIT",
        "MIT)",
        "MIT Apache-2.0",
        "GPL-2.0+",
        "MIT WITH Apache-2.0",
        "(MIT OR Apache-2.0) WITH LLVM-exception",
        "Use-it-after-midnight",
    ],
)
def test_invalid_license_expressions_are_refused(bad: str) -> None:
    with pytest.raises(InvalidLicenseExpression):
        canonical_license_expression(bad)


def test_combined_expression() -> None:
    assert combined_expression([]) is None
    assert combined_expression(["MIT", "MIT"]) == "MIT"
    assert combined_expression(["MIT OR Apache-2.0", "BSD-3-Clause"]) == (
        "BSD-3-Clause AND (MIT OR Apache-2.0)"
    )


SETUPTOOLS_METADATA = (
    "Metadata-Version: 2.1\n"
    "Name: demo\n"
    "Version: 0.1.0\n"
    "License: Apache License\n"
    "        Version 2.0\n"
    "License-File: LICENSE\n"
    "Requires-Python: >=3.8\n"
    "Description-Content-Type: text/markdown\n"
    "\n"
    "# demo\n\nLicense: not a header here.\n"
)


def test_pep639_metadata_replaces_setuptools_license_headers() -> None:
    out = pep639_metadata(SETUPTOOLS_METADATA, "Apache-2.0", ["LICENSE", "src/rust/demo/LICENSE"])
    assert out == (
        "Metadata-Version: 2.4\n"
        "Name: demo\n"
        "Version: 0.1.0\n"
        "Requires-Python: >=3.8\n"
        "Description-Content-Type: text/markdown\n"
        "License-Expression: Apache-2.0\n"
        "License-File: LICENSE\n"
        "License-File: src/rust/demo/LICENSE\n"
        "\n"
        "# demo\n\nLicense: not a header here.\n"
    )


def test_pep639_metadata_without_a_body() -> None:
    out = pep639_metadata("Metadata-Version: 2.1\nName: demo\nVersion: 1\n", "MIT", [])
    assert out == "Metadata-Version: 2.4\nName: demo\nVersion: 1\nLicense-Expression: MIT\n"
