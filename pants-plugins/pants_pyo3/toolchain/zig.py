# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""zig as the C compiler and linker that builds modules for an older glibc (a manylinux baseline).

A module linked on this machine needs the glibc symbol versions of this machine's glibc (2.36 on
Debian 12: auditwheel says `manylinux_2_34`), which pip refuses on RHEL 8, Ubuntu 20.04 or Debian
11. zig ships stub libraries of every glibc version: `zig cc -target x86_64-linux-gnu.2.17` links
against glibc 2.17's, and its headers hide the functions that version lacks. The plugin installs
zig itself, from PyPI (`ziglang`, pinned), as a Pants-managed tool environment, and writes a tiny
wrapper per target that cargo uses as linker and the `cc` crate as C compiler (see
`sandbox/build_extension.py`).
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass

from pants.backend.python.subsystems.setup import PythonSetup
from pants.backend.python.util_rules.interpreter_constraints import InterpreterConstraints
from pants.backend.python.util_rules.pex import PexRequest, VenvPex, VenvPexProcess
from pants.engine.process import ProcessCacheScope, ProcessResult
from pants.engine.rules import Get, collect_rules, rule
from pants.util.logging import LogLevel
from pants_pyo3.toolchain.tool_pex import tool_pex

logger = logging.getLogger(__name__)

# Pinned: zig's version keys every build it links. ~100 MB download, ~410 MB installed, once.
ZIG_VERSION = "0.17.1"
ZIG_REQUIREMENTS = (f"ziglang=={ZIG_VERSION}",)
# zig's own cache (its compiled glibc stubs and C runtime objects, ~50 MB, filled once per target):
# a named cache, as zig needs a writable cache directory and Pants' processes have no HOME.
ZIG_NAMED_CACHE = "pants_pyo_zig"  # Cache names may not contain digits.
ZIG_CACHE_PATH = ".cache/pants_pyo_zig"

# Rust's `*-linux-gnu` standard library needs glibc 2.17 (manylinux2014) or newer.
RUST_MIN_GLIBC = (2, 17)
# The legacy manylinux names and their glibc versions (PEP 599, PEP 571, PEP 513).
LEGACY_POLICIES = {"manylinux2014": (2, 17), "manylinux2010": (2, 12), "manylinux1": (2, 5)}
_POLICY = re.compile(r"^manylinux_(\d+)_(\d+)$")

# Architectures zig can target for glibc, by the first part of the Rust triple.
_ZIG_ARCH = {
    "x86_64": "x86_64",
    "aarch64": "aarch64",
    "i686": "x86",
    "armv7": "arm",
    "powerpc64le": "powerpc64le",
    "s390x": "s390x",
    "riscv64gc": "riscv64",
}


def policy_glibc(policy: str) -> tuple[int, int] | None:
    """The glibc version of a manylinux policy (`manylinux_2_17` or an alias such as
    `manylinux2014`); None for `auto` and `off`."""
    if policy in LEGACY_POLICIES:
        return LEGACY_POLICIES[policy]
    match = _POLICY.match(policy)
    return (int(match.group(1)), int(match.group(2))) if match else None


def zig_target(triple: str, glibc: tuple[int, int]) -> str | None:
    """zig's `-target` for a Rust triple and glibc version, e.g. `x86_64-linux-gnu.2.17`; None if
    the triple is not a glibc Linux one zig can target (it is then linked as without a baseline)."""
    parts = triple.split("-")
    if len(parts) != 4 or parts[2] != "linux" or parts[3] not in ("gnu", "gnueabihf"):
        return None
    arch = _ZIG_ARCH.get(parts[0])
    if arch is None:
        return None
    abi = "gnueabihf" if parts[3] == "gnueabihf" else "gnu"
    return f"{arch}-linux-{abi}.{glibc[0]}.{glibc[1]}"


# When some glibc functions that C code commonly calls appeared (for the error that names them).
GLIBC_FUNCTIONS = {
    "getrandom": (2, 25),
    "getentropy": (2, 25),
    "explicit_bzero": (2, 25),
    "reallocarray": (2, 26),
    "memfd_create": (2, 27),
    "copy_file_range": (2, 27),
    "statx": (2, 28),
    "gettid": (2, 30),
    "close_range": (2, 34),
    "secure_getenv": (2, 17),
    "timespec_get": (2, 16),
    "pthread_getattr_default_np": (2, 18),
}


# The policies wheels on PyPI are mostly built for (maturin-action's, cibuildwheel's images).
_COMMON_POLICIES = ((2, 17), (2, 28), (2, 31), (2, 34), (2, 35), (2, 39))


def policy_for_functions(names: list) -> str:
    """The oldest common manylinux policy whose glibc has every function named (those
    `GLIBC_FUNCTIONS` knows), e.g. `manylinux_2_34` for `close_range`; `manylinux_2_28` if none is
    known."""
    needed = max((GLIBC_FUNCTIONS[n] for n in names if n in GLIBC_FUNCTIONS), default=(2, 28))
    glibc = next((p for p in _COMMON_POLICIES if p >= needed), needed)
    return f"manylinux_{glibc[0]}_{glibc[1]}"


def glibc_function_hint(name: str) -> str:
    """`getrandom` -> "`getrandom` (glibc 2.25)": the function, and its glibc if known."""
    version = GLIBC_FUNCTIONS.get(name)
    return f"`{name}` (glibc {version[0]}.{version[1]})" if version else f"`{name}`"


@dataclass(frozen=True)
class Zig:
    """The zig binary (an absolute path in Pants' pex cache, stable across runs) and its version."""

    path: str
    version: str

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(f"zig {self.version} {self.path}".encode()).hexdigest()


_FIND_ZIG = """\
import os, subprocess, ziglang
zig = os.path.realpath(os.path.join(os.path.dirname(ziglang.__file__), "zig"))
print(zig)
print(subprocess.run([zig, "version"], check=True, stdout=subprocess.PIPE).stdout.decode().strip())
"""


@rule(desc="Install zig", level=LogLevel.DEBUG)
async def find_zig(python_setup: PythonSetup) -> Zig:
    pex = await Get(
        VenvPex,
        PexRequest,
        tool_pex(
            "pyo3_zig.pex",
            ZIG_REQUIREMENTS,
            InterpreterConstraints(python_setup.interpreter_constraints),
        ),
    )
    # Run once per Pants run: the path lies in Pants' pex cache, which may have been cleaned since.
    result = await Get(
        ProcessResult,
        VenvPexProcess(
            pex,
            argv=("-c", _FIND_ZIG),
            description=f"Find zig {ZIG_VERSION} (installed from PyPI's ziglang)",
            level=LogLevel.DEBUG,
            cache_scope=ProcessCacheScope.PER_SESSION,
        ),
    )
    path, version = result.stdout.decode().strip().splitlines()[-2:]
    return Zig(path=path, version=version)


def rules():
    return collect_rules()
