# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""What a build for a non-host target triple needs: cargo's and PyO3's cross-compilation settings.

Pure functions over a toolchain description (see `[pyo3-cross].toolchains` and docs/cross.md), using
only the standard library and working on CPython 3.8+, so that both the Pants rules and the build
driver in the sandbox can use them. Nothing here runs the target's interpreter: its configuration is
read from its `_sysconfigdata` file as data.

The route measured on Debian 12 (see docs/cross.md): Debian's `rustc-web`/`cargo-web` 1.96 with the
`libstd-rust-web-dev:arm64` standard library, `aarch64-linux-gnu-gcc` as linker, `qemu-aarch64` to
run the results, and an aarch64 CPython unpacked into a private sysroot.
"""

from __future__ import annotations

import ast
import glob
import logging
import os
import re
import shlex
import shutil
from dataclasses import dataclass
from typing import Mapping

from pants_pyo3.errors import CrossToolchainError

logger = logging.getLogger(__name__)

# The keys a toolchain entry may have; `rustc`, `cargo` and `linker` are required.
TOOLCHAIN_KEYS = ("rustc", "cargo", "linker", "sysroot", "runner")
_REQUIRED_KEYS = ("rustc", "cargo", "linker")
_TRIPLE = re.compile(r"^[a-z0-9_]+(-[a-z0-9_.]+){1,3}$")


@dataclass(frozen=True)
class CrossToolchain:
    """The tools that build for, and run programs of, one target triple."""

    triple: str
    # A rustc whose sysroot holds the target's standard library (`rustc --print target-libdir
    # --target <triple>` exists), and the cargo to drive it (best: the same release).
    rustc: str
    cargo: str
    # The C compiler driver that links for the target, e.g. `/usr/bin/aarch64-linux-gnu-gcc`.
    linker: str
    # The target's root file system: its libc and its CPython (`usr/bin/python3.X`,
    # `usr/lib/python3.X/_sysconfigdata_*.py`). Empty if there is none (abi3 builds need none).
    sysroot: str = ""
    # A command prefix that runs the target's programs here, e.g. `qemu-aarch64 -L <sysroot>`.
    # Empty if they can't be run (then nothing built for the triple can be tested).
    runner: str = ""

    @classmethod
    def from_mapping(cls, triple: str, entry: Mapping[str, str]) -> "CrossToolchain":
        """Validate one `[pyo3-cross].toolchains` entry (any `{sysroot}` in `runner` is
        expanded)."""
        if not _TRIPLE.match(triple):
            raise CrossToolchainError(
                f"`{triple}` is not a target triple like `aarch64-unknown-linux-gnu`."
            )
        if not isinstance(entry, Mapping):
            raise CrossToolchainError(
                f"The toolchain for `{triple}` must be a dict with the keys "
                f"{', '.join(TOOLCHAIN_KEYS)}, but it is {entry!r}."
            )
        unknown = sorted(set(entry) - set(TOOLCHAIN_KEYS))
        missing = [k for k in _REQUIRED_KEYS if not entry.get(k)]
        if unknown or missing:
            problems = []
            if missing:
                problems.append(f"it lacks {', '.join(repr(k) for k in missing)}")
            if unknown:
                problems.append(f"it has unknown keys {', '.join(repr(k) for k in unknown)}")
            raise CrossToolchainError(
                f"The toolchain for `{triple}` must have the keys {', '.join(_REQUIRED_KEYS)} "
                f"(and may have sysroot, runner), but {' and '.join(problems)}."
            )
        values = {k: str(entry.get(k) or "") for k in TOOLCHAIN_KEYS}
        values["runner"] = values["runner"].replace("{sysroot}", values["sysroot"])
        return cls(triple=triple, **values)

    def runner_argv(self) -> list[str]:
        return shlex.split(self.runner)

    def path_dirs(self) -> list[str]:
        """Directories cargo needs on PATH: the toolchain's and the linker's (host build scripts
        still link with the host's `cc`, which the caller keeps on PATH)."""
        return list(
            dict.fromkeys(
                os.path.dirname(p)
                for p in (self.cargo, self.rustc, self.linker)
                if os.path.dirname(p)
            )
        )


def parse_toolchains(value: Mapping[str, Mapping[str, str]]) -> dict[str, CrossToolchain]:
    """`[pyo3-cross].toolchains` as `CrossToolchain`s, keyed by triple."""
    return {
        triple: CrossToolchain.from_mapping(triple, entry)
        for triple, entry in sorted(value.items())
    }


def cargo_target_env_prefix(triple: str) -> str:
    """Cargo's environment prefix for per-target settings:
    `CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU`."""
    return "CARGO_TARGET_" + re.sub(r"[^A-Za-z0-9]", "_", triple).upper()


def multiarch(triple: str) -> str:
    """Debian's and CPython's name for a Linux triple: `aarch64-unknown-linux-gnu` ->
    `aarch64-linux-gnu`."""
    parts = triple.split("-")
    if len(parts) == 4:
        return "-".join([parts[0], *parts[2:]])
    return triple


def linux_platform_tag(triple: str) -> str:
    """The (unaudited) wheel platform tag for a Linux triple: `aarch64-unknown-linux-gnu` ->
    `linux_aarch64`.

    A manylinux tag must be earned by checking the module's glibc symbol versions (see
    docs/cross.md).
    """
    arch = triple.split("-")[0]
    if "linux" not in triple.split("-"):
        raise CrossToolchainError(
            f"`{triple}` is not a Linux triple; only Linux targets have `linux_*` tags."
        )
    return f"linux_{arch}"


def wheel_platform_tag(triple: str) -> str:
    """The wheel platform tag (before any manylinux tag) of any Rust target triple."""
    arch, _, rest = triple.partition("-")
    if "linux" in triple.split("-"):
        return linux_platform_tag(triple)
    if "apple-darwin" in rest:
        return f"macosx_11_0_{arch}"
    if "windows" in rest:
        return {"x86_64": "win_amd64", "i686": "win32", "aarch64": "win_arm64"}.get(arch, arch)
    return f"{rest.replace('-', '_')}_{arch}"


@dataclass(frozen=True)
class TargetPython:
    """A target CPython found in a sysroot, described by its `_sysconfigdata` (never run)."""

    major: int
    minor: int
    # The directory holding `_sysconfigdata_*.py`: what PyO3 calls `PYO3_CROSS_LIB_DIR`.
    lib_dir: str
    sysconfigdata: str
    # The interpreter inside the sysroot, to run under the toolchain's runner.
    executable: str
    ext_suffix: str

    @property
    def version(self) -> str:
        return f"{self.major}.{self.minor}"


def read_sysconfigdata(path: str) -> dict:
    """The `build_time_vars` of a `_sysconfigdata_*.py` file, parsed as a literal, not executed."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), filename=path)
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "build_time_vars" for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise CrossToolchainError(
        f"{path} has no `build_time_vars`, so it is not a `_sysconfigdata` file."
    )


def find_target_python(sysroot: str, version: str, triple: str) -> TargetPython | None:
    """The CPython `version` (e.g. "3.11") for `triple` in `sysroot`, or None if it has none.

    Debian's layout (`usr/lib/python3.X/_sysconfigdata__linux_<multiarch>.py`,
    `usr/bin/python3.X`) and a plain `--prefix` install (`lib/python3.X/...`, `bin/python3.X`) are
    both found.
    """
    if not sysroot:
        return None
    name = f"_sysconfigdata__linux_{multiarch(triple)}.py"
    for prefix in ("usr", "usr/local", ""):
        lib_dir = os.path.join(sysroot, prefix, "lib", f"python{version}")
        candidates = [os.path.join(lib_dir, name)] + sorted(
            glob.glob(os.path.join(lib_dir, "_sysconfigdata_*.py"))
        )
        path = next((c for c in candidates if os.path.isfile(c)), None)
        if path is None:
            continue
        config = read_sysconfigdata(path)
        found = str(config.get("VERSION", ""))
        if found != version:
            raise CrossToolchainError(
                f"{path} describes CPython {found or '(unknown)'}, not {version}."
            )
        major, minor = (int(x) for x in version.split("."))
        return TargetPython(
            major=major,
            minor=minor,
            lib_dir=lib_dir,
            sysconfigdata=path,
            executable=os.path.join(sysroot, prefix, "bin", f"python{version}"),
            ext_suffix=str(config.get("EXT_SUFFIX") or ""),
        )
    return None


def target_ext_suffix(
    triple: str, version: str, *, abi3: bool, target_python: TargetPython | None = None
) -> str:
    """The file name suffix of the module for `triple` and CPython `version`.

    `.abi3.so` for abi3 builds; else the target interpreter's `EXT_SUFFIX` if it is known, which for
    CPython on Linux is always `.cpython-<XY>-<multiarch>.so` (the fallback).
    """
    if abi3:
        return ".abi3.so"
    if target_python is not None and target_python.ext_suffix:
        return target_python.ext_suffix
    major, minor = version.split(".")
    return f".cpython-{major}{minor}-{multiarch(triple)}.so"


def target_interpreter_tag(triple: str, version: str, *, abi3: bool) -> str:
    """A name for the target ABI, e.g. `cpython-311-aarch64-linux-gnu`: it names the target
    directory of its builds."""
    major, minor = version.split(".")
    return f"cpython-{major}{minor}-{multiarch(triple)}" + ("-abi3" if abi3 else "")


def cross_env(
    toolchain: CrossToolchain,
    *,
    python_version: str,
    abi3: bool,
    target_python: TargetPython | None = None,
) -> dict[str, str]:
    """The environment cargo runs with to build a PyO3 module for `toolchain.triple`.

    Run `toolchain.cargo build --target <triple>` with these on top of the usual variables. PyO3
    ignores `PYO3_PYTHON` when it is cross-compiling (the host's interpreter may stay in it), and
    its build fails loudly if neither `PYO3_CROSS_PYTHON_VERSION` nor an abi3 feature is set.
    """
    prefix = cargo_target_env_prefix(toolchain.triple)
    env = {
        "RUSTC": toolchain.rustc,
        f"{prefix}_LINKER": toolchain.linker,
    }
    # The `cc` crate (build scripts compiling C for the target) reads `CC_<triple>`.
    linker_name = os.path.basename(toolchain.linker)
    if linker_name.endswith(("gcc", "clang", "-cc")):
        env[f"CC_{toolchain.triple.replace('-', '_')}"] = toolchain.linker
    if toolchain.runner:
        # Lets `cargo test`/`cargo run --target <triple>` run the target's programs.
        env[f"{prefix}_RUNNER"] = toolchain.runner
    if not abi3:
        # The version alone is enough on Linux (extension modules don't link libpython); with the
        # target's `_sysconfigdata` PyO3 also checks its build flags and ABI.
        env["PYO3_CROSS_PYTHON_VERSION"] = python_version
        if target_python is not None:
            if target_python.version != python_version:
                raise CrossToolchainError(
                    f"The target CPython in {target_python.lib_dir} is {target_python.version}, "
                    f"not {python_version}."
                )
            env["PYO3_CROSS_LIB_DIR"] = target_python.lib_dir
    return env


def probe_argv(toolchain: CrossToolchain) -> tuple[str, ...]:
    """A command whose output identifies the toolchain, for the build's cache key (run it uncached,
    once per Pants run, like the host's `rustc -vV`): rustc's `-vV`, the target's library directory
    (the command fails if it doesn't exist, i.e. rustc has no standard library for the triple) and
    the linker's version line. Uses only `/bin/sh` builtins, so it needs no PATH."""
    script = (
        '"$1" -vV && d="$("$1" --print target-libdir --target "$2")" && [ -d "$d" ] && '
        'echo "target-libdir: $d" && '
        '{ "$3" --version 2>&1 || true; } | { read -r line; echo "linker: $line"; }'
    )
    return ("/bin/sh", "-c", script, "probe", toolchain.rustc, toolchain.triple, toolchain.linker)


def toolchain_problems(toolchain: CrossToolchain, python_version: str | None = None) -> list[str]:
    """What is missing on this machine for `toolchain`, as sentences (empty if nothing is).

    Checks files only (no tool is run): the three tools, the runner's program, and the target
    CPython `python_version` in the sysroot (without it version-specific modules still build, from
    `PYO3_CROSS_PYTHON_VERSION` alone, but can't be tested).
    """
    problems = []
    for key in ("rustc", "cargo", "linker"):
        path = getattr(toolchain, key)
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            problems.append(
                f"The `{key}` of the `{toolchain.triple}` toolchain, {path}, "
                "is not an executable file."
            )
    runner = toolchain.runner_argv()
    if runner and not shutil.which(runner[0]):
        problems.append(
            f"The runner of the `{toolchain.triple}` toolchain, `{runner[0]}`, is not installed."
        )
    if toolchain.sysroot and not os.path.isdir(toolchain.sysroot):
        problems.append(
            f"The sysroot of the `{toolchain.triple}` toolchain, {toolchain.sysroot}, "
            "does not exist."
        )
    elif python_version and toolchain.sysroot:
        target_python = find_target_python(toolchain.sysroot, python_version, toolchain.triple)
        if target_python is None or not os.path.isfile(target_python.executable):
            problems.append(
                f"The sysroot {toolchain.sysroot} has no CPython {python_version} "
                f"for `{toolchain.triple}`, "
                "so modules built for it can't be tested."
            )
    return problems
