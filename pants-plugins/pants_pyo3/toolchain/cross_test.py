# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from textwrap import dedent

import pytest
from pants_pyo3.errors import CrossToolchainError
from pants_pyo3.testutil import (
    AARCH64_LINUX,
    crate_files,
    cross_toolchain,
    import_wheel_under_emulation,
    write_wheel,
)
from pants_pyo3.toolchain.cross import (
    CrossToolchain,
    TargetPython,
    cargo_target_env_prefix,
    cross_env,
    find_target_python,
    linux_platform_tag,
    multiarch,
    parse_toolchains,
    probe_argv,
    read_sysconfigdata,
    target_ext_suffix,
    target_interpreter_tag,
    toolchain_problems,
)

DEBIAN_AARCH64 = {
    "rustc": "/usr/bin/rustc",
    "cargo": "/usr/bin/cargo",
    "linker": "/usr/bin/aarch64-linux-gnu-gcc",
    "sysroot": "/opt/sysroot",
    "runner": "/usr/bin/qemu-aarch64 -L {sysroot}",
}


def toolchain(**overrides: str) -> CrossToolchain:
    return CrossToolchain.from_mapping(AARCH64_LINUX, {**DEBIAN_AARCH64, **overrides})


def write_sysroot_python(
    sysroot: Path, version: str = "3.11", ext_suffix: str | None = None
) -> Path:
    """A sysroot holding only what `find_target_python` reads: Debian's `_sysconfigdata` layout."""
    lib = sysroot / "usr" / "lib" / f"python{version}"
    lib.mkdir(parents=True)
    suffix = ext_suffix or f".cpython-{version.replace('.', '')}-aarch64-linux-gnu.so"
    # A real file is a big dict literal; this one also has code that would fail if it were executed.
    (lib / "_sysconfigdata__aarch64-linux-gnu.py").write_text(
        dedent(
            f"""\
            # system configuration generated and used by the sysconfig module
            build_time_vars = {{'ABIFLAGS': '',
             'EXT_SUFFIX': '{suffix}',
             'MULTIARCH': 'aarch64-linux-gnu',
             'SOABI': '{suffix.strip('.').rpartition('.')[0]}',
             'VERSION': '{version}'}}
            raise SystemExit("executed")
            """
        )
    )
    (lib / "_sysconfigdata__linux_aarch64-linux-gnu.py").symlink_to(
        "_sysconfigdata__aarch64-linux-gnu.py"
    )
    return lib


def test_toolchain_from_mapping_expands_sysroot_in_runner() -> None:
    tc = toolchain()
    assert tc.triple == AARCH64_LINUX
    assert tc.runner == "/usr/bin/qemu-aarch64 -L /opt/sysroot"
    assert tc.runner_argv() == ["/usr/bin/qemu-aarch64", "-L", "/opt/sysroot"]
    assert tc.path_dirs() == ["/usr/bin"]


@pytest.mark.parametrize(
    "triple, entry, message",
    [
        pytest.param(
            AARCH64_LINUX,
            {"rustc": "/usr/bin/rustc"},
            "it lacks 'cargo', 'linker'",
            id="missing-keys",
        ),
        pytest.param(
            AARCH64_LINUX,
            {**DEBIAN_AARCH64, "python": "/x"},
            "unknown keys 'python'",
            id="unknown-key",
        ),
        pytest.param("aarch64", DEBIAN_AARCH64, "is not a target triple", id="bad-triple"),
        pytest.param(AARCH64_LINUX, "/usr/bin/rustc", "must be a dict", id="not-a-dict"),
    ],
)
def test_toolchain_from_mapping_rejects(triple: str, entry: object, message: str) -> None:
    with pytest.raises(CrossToolchainError, match=message):
        CrossToolchain.from_mapping(triple, entry)  # type: ignore[arg-type]


def test_parse_toolchains_keys_by_triple() -> None:
    parsed = parse_toolchains({AARCH64_LINUX: DEBIAN_AARCH64})
    assert list(parsed) == [AARCH64_LINUX]
    assert parsed[AARCH64_LINUX].linker == "/usr/bin/aarch64-linux-gnu-gcc"


@pytest.mark.parametrize(
    "triple, prefix, arch, tag",
    [
        (
            AARCH64_LINUX,
            "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU",
            "aarch64-linux-gnu",
            "linux_aarch64",
        ),
        (
            "x86_64-unknown-linux-gnu",
            "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU",
            "x86_64-linux-gnu",
            "linux_x86_64",
        ),
        (
            "armv7-unknown-linux-gnueabihf",
            "CARGO_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF",
            "armv7-linux-gnueabihf",
            "linux_armv7",
        ),
    ],
)
def test_triple_names(triple: str, prefix: str, arch: str, tag: str) -> None:
    assert cargo_target_env_prefix(triple) == prefix
    assert multiarch(triple) == arch
    assert linux_platform_tag(triple) == tag


def test_linux_platform_tag_refuses_other_systems() -> None:
    with pytest.raises(CrossToolchainError, match="not a Linux triple"):
        linux_platform_tag("aarch64-apple-darwin")


def test_cross_env_version_specific_with_target_python(tmp_path: Path) -> None:
    lib = write_sysroot_python(tmp_path)
    tc = toolchain(sysroot=str(tmp_path))
    target_python = find_target_python(tc.sysroot, "3.11", AARCH64_LINUX)
    assert target_python is not None
    assert cross_env(tc, python_version="3.11", abi3=False, target_python=target_python) == {
        "RUSTC": "/usr/bin/rustc",
        "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER": "/usr/bin/aarch64-linux-gnu-gcc",
        "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER": f"/usr/bin/qemu-aarch64 -L {tmp_path}",
        "CC_aarch64_unknown_linux_gnu": "/usr/bin/aarch64-linux-gnu-gcc",
        "PYO3_CROSS_PYTHON_VERSION": "3.11",
        "PYO3_CROSS_LIB_DIR": str(lib),
    }


def test_cross_env_version_specific_without_target_python() -> None:
    env = cross_env(toolchain(runner="", sysroot=""), python_version="3.12", abi3=False)
    assert env == {
        "RUSTC": "/usr/bin/rustc",
        "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER": "/usr/bin/aarch64-linux-gnu-gcc",
        "CC_aarch64_unknown_linux_gnu": "/usr/bin/aarch64-linux-gnu-gcc",
        "PYO3_CROSS_PYTHON_VERSION": "3.12",
    }


def test_cross_env_abi3_needs_no_target_python() -> None:
    env = cross_env(toolchain(linker="/opt/zig/zigcc-aarch64"), python_version="3.11", abi3=True)
    assert not any(k.startswith("PYO3_") for k in env)
    # Not a gcc/clang driver: not offered to the `cc` crate as a C compiler.
    assert "CC_aarch64_unknown_linux_gnu" not in env
    assert env["CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER"] == "/opt/zig/zigcc-aarch64"


def test_cross_env_refuses_another_target_python_version(tmp_path: Path) -> None:
    write_sysroot_python(tmp_path, "3.12")
    target_python = find_target_python(str(tmp_path), "3.12", AARCH64_LINUX)
    with pytest.raises(CrossToolchainError, match="is 3.12, not 3.11"):
        cross_env(toolchain(), python_version="3.11", abi3=False, target_python=target_python)


def test_find_target_python_reads_sysconfigdata_without_running_it(tmp_path: Path) -> None:
    lib = write_sysroot_python(tmp_path)
    assert find_target_python(str(tmp_path), "3.11", AARCH64_LINUX) == TargetPython(
        major=3,
        minor=11,
        lib_dir=str(lib),
        sysconfigdata=str(lib / "_sysconfigdata__linux_aarch64-linux-gnu.py"),
        executable=str(tmp_path / "usr" / "bin" / "python3.11"),
        ext_suffix=".cpython-311-aarch64-linux-gnu.so",
    )
    assert find_target_python(str(tmp_path), "3.12", AARCH64_LINUX) is None
    assert find_target_python("", "3.11", AARCH64_LINUX) is None


def test_read_sysconfigdata_rejects_other_files(tmp_path: Path) -> None:
    path = tmp_path / "_sysconfigdata_x.py"
    path.write_text("x = 1\n")
    with pytest.raises(CrossToolchainError, match="no `build_time_vars`"):
        read_sysconfigdata(str(path))


def test_target_ext_suffix(tmp_path: Path) -> None:
    write_sysroot_python(tmp_path, ext_suffix=".cpython-311d-aarch64-linux-gnu.so")
    debug = find_target_python(str(tmp_path), "3.11", AARCH64_LINUX)
    # The target interpreter's own EXT_SUFFIX wins over the computed one.
    assert (
        target_ext_suffix(AARCH64_LINUX, "3.11", abi3=False, target_python=debug)
        == ".cpython-311d-aarch64-linux-gnu.so"
    )
    assert (
        target_ext_suffix(AARCH64_LINUX, "3.11", abi3=False) == ".cpython-311-aarch64-linux-gnu.so"
    )
    assert target_ext_suffix(AARCH64_LINUX, "3.11", abi3=True, target_python=debug) == ".abi3.so"
    assert (
        target_interpreter_tag(AARCH64_LINUX, "3.9", abi3=True)
        == "cpython-39-aarch64-linux-gnu-abi3"
    )


def test_toolchain_problems_name_what_is_missing(tmp_path: Path) -> None:
    tc = toolchain(
        rustc=str(tmp_path / "rustc"), runner="no-such-qemu -L {sysroot}", sysroot=str(tmp_path)
    )
    problems = toolchain_problems(tc, "3.11")
    assert any(
        f"The `rustc` of the `{AARCH64_LINUX}` toolchain, {tmp_path}/rustc" in p for p in problems
    )
    assert any("`no-such-qemu`, is not installed" in p for p in problems)
    assert any("has no CPython 3.11" in p for p in problems)
    assert toolchain_problems(toolchain(sysroot=str(tmp_path / "nope")))[-1].endswith(
        "does not exist."
    )


def test_probe_fails_without_the_target_standard_library() -> None:
    tc = cross_toolchain()
    if tc is None:
        pytest.skip("No aarch64 toolchain on this machine (build-support/cross/setup-aarch64.sh).")
    other = CrossToolchain.from_mapping(
        "riscv64gc-unknown-linux-gnu", {"rustc": tc.rustc, "cargo": tc.cargo, "linker": tc.linker}
    )
    assert subprocess.run(probe_argv(other), env={}, capture_output=True).returncode != 0


def test_setup_script_descriptor_is_a_valid_toolchain() -> None:
    """The machine's toolchain (from `./pants` or the set-up script's descriptor) parses, if
    present."""
    tc = cross_toolchain()
    if tc is None:
        pytest.skip("No aarch64 toolchain on this machine (build-support/cross/setup-aarch64.sh).")
    assert tc.runner_argv()[0].endswith("qemu-aarch64")
    assert find_target_python(tc.sysroot, "3.11", AARCH64_LINUX) is not None
    assert toolchain_problems(tc, "3.11") == []
    # The probe runs with an empty environment, as a hermetic Pants process does.
    probe = subprocess.run(
        probe_argv(tc), env={}, capture_output=True, text=True, check=True
    ).stdout
    assert "host: x86_64-unknown-linux-gnu" in probe
    assert "target-libdir: " in probe and f"/rustlib/{AARCH64_LINUX}/lib" in probe
    assert "linker: " in probe and "linker: \n" not in probe


@pytest.mark.parametrize("abi3", [pytest.param(False, id="cp311"), pytest.param(True, id="abi3")])
def test_cross_build_and_import_under_emulation(tmp_path: Path, abi3: bool) -> None:
    """Build a real PyO3 crate for aarch64 with `cross_env`, wheel it and import it under qemu."""
    tc = cross_toolchain()
    if tc is None:
        pytest.skip("No aarch64 toolchain on this machine (build-support/cross/setup-aarch64.sh).")
    target_python = find_target_python(tc.sysroot, "3.11", AARCH64_LINUX)
    files = crate_files("demo", body="fn add(a: i64, b: i64) -> i64 {\n    a + b\n}")
    for rel, content in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(content)
    # A target dir that outlives the test keeps reruns incremental (pyo3 compiles once per ABI).
    target_dir = Path(os.environ["HOME"], ".cache", "pants-pyo3-cross-test", "target")
    env = {
        "PATH": os.pathsep.join([*tc.path_dirs(), "/usr/bin", "/bin"]),
        "HOME": os.environ["HOME"],
        "CARGO_TARGET_DIR": str(target_dir),
        "PYO3_BUILD_EXTENSION_MODULE": "1",
        "CARGO_TERM_COLOR": "never",
        **cross_env(tc, python_version="3.11", abi3=abi3, target_python=target_python),
    }
    if os.environ.get("PANTS_CA_CERTS_PATH"):
        env["CARGO_HTTP_CAINFO"] = os.environ["PANTS_CA_CERTS_PATH"]
    argv = [
        tc.cargo,
        "build",
        "--lib",
        "--release",
        "--target",
        AARCH64_LINUX,
        "--message-format=json-render-diagnostics",
    ]
    if abi3:
        argv += ["--features", "pyo3/abi3-py38"]
    proc = subprocess.run(
        argv, cwd=tmp_path / "demo", env=env, capture_output=True, text=True, timeout=900
    )
    assert proc.returncode == 0, proc.stderr
    artifacts = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    library = next(
        f
        for a in artifacts
        if a.get("reason") == "compiler-artifact" and "cdylib" in a["target"]["kind"]
        for f in a["filenames"]
        if f.endswith(".so")
    )
    elf = Path(library).read_bytes()
    assert elf[:4] == b"\x7fELF" and int.from_bytes(elf[18:20], "little") == 183  # EM_AARCH64

    suffix = target_ext_suffix(AARCH64_LINUX, "3.11", abi3=abi3, target_python=target_python)
    tag = ("cp38-abi3-" if abi3 else "cp311-cp311-") + linux_platform_tag(AARCH64_LINUX)
    wheel = write_wheel(
        tmp_path,
        "demo",
        "0.1.0",
        tag,
        {"demo/__init__.py": b"", f"demo/_native{suffix}": elf},
    )
    assert import_wheel_under_emulation(wheel, "demo._native", "add", 40, 2) == "42"
