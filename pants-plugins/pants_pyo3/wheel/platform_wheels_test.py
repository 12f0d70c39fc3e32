# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""How a wheel's manylinux tags follow from auditwheel's analyses of its modules.

The analyses here have the shape `wheel_backend.analyze` prints; package_integration_test.py runs
the real auditwheel on a real module.
"""

from __future__ import annotations

import pytest
from pants_pyo3.errors import Pyo3ManylinuxError
from pants_pyo3.wheel.auditwheel import manylinux_platforms

POLICIES = [
    {"name": "linux_x86_64", "priority": 0, "aliases": []},
    {"name": "manylinux_2_34_x86_64", "priority": 66, "aliases": []},
    {"name": "manylinux_2_28_x86_64", "priority": 70, "aliases": []},
    # auditwheel's aliases carry the architecture, as `WheelPolicies(arch=...)` gives them.
    {"name": "manylinux_2_17_x86_64", "priority": 80, "aliases": ["manylinux2014_x86_64"]},
]


def analysis(overall: str, **symbols: list[str]) -> dict:
    return {
        "overall": overall,
        "versioned_symbols": {lib.replace("_", "."): v for lib, v in symbols.items()},
        "policies": POLICIES,
    }


def test_auto_takes_what_every_module_complies_with() -> None:
    modules = [analysis("manylinux_2_17_x86_64"), analysis("manylinux_2_34_x86_64")]
    assert manylinux_platforms("w", "linux_x86_64", "auto", modules) == ("manylinux_2_34_x86_64",)
    assert manylinux_platforms("w", "linux_x86_64", "auto", modules[:1]) == (
        "manylinux_2_17_x86_64",
        "manylinux2014_x86_64",
    )
    # Asked by its legacy name (the default `[pyo3].manylinux`), the policy gets both tags.
    assert manylinux_platforms("w", "linux_x86_64", "manylinux2014", modules[:1]) == (
        "manylinux_2_17_x86_64",
        "manylinux2014_x86_64",
    )


def test_a_named_policy_is_checked() -> None:
    modules = [analysis("manylinux_2_28_x86_64")]
    assert manylinux_platforms("w", "linux_x86_64", "manylinux_2_28", modules) == (
        "manylinux_2_28_x86_64",
    )
    # A legacy alias names the same policy.
    older = [analysis("manylinux_2_17_x86_64")]
    assert (
        manylinux_platforms("w", "linux_x86_64", "manylinux2014", older)[0]
        == "manylinux_2_17_x86_64"
    )
    with pytest.raises(Pyo3ManylinuxError) as exc:
        manylinux_platforms(
            "The cp311-cp311 wheel of a:dist",
            "linux_x86_64",
            "manylinux_2_17",
            [analysis("manylinux_2_34_x86_64", libc_so_6=["GLIBC_2.34", "GLIBC_2.2.5"]), *older],
        )
    message = str(exc.value)
    assert "The cp311-cp311 wheel of a:dist does not comply with manylinux_2_17_x86_64" in message
    assert "libc.so.6 GLIBC_2.2.5 GLIBC_2.34" in message
    assert "`[pyo3].manylinux` to `auto` (tags the wheel manylinux_2_34_x86_64)" in message


def test_unknown_policy_and_no_policy_at_all() -> None:
    with pytest.raises(Pyo3ManylinuxError, match="knows no manylinux policy 'manylinux_9_99'"):
        manylinux_platforms(
            "w", "linux_x86_64", "manylinux_9_99", [analysis("manylinux_2_34_x86_64")]
        )
    # A module that complies with no policy keeps the plain platform tag.
    assert manylinux_platforms("w", "linux_x86_64", "auto", [analysis("linux_x86_64")]) == (
        "linux_x86_64",
    )


def test_off_and_other_platforms_keep_their_tag() -> None:
    modules = [analysis("manylinux_2_34_x86_64")]
    assert manylinux_platforms("w", "linux_x86_64", "off", modules) == ("linux_x86_64",)
    assert manylinux_platforms("w", "macosx_11_0_arm64", "auto", []) == ("macosx_11_0_arm64",)
