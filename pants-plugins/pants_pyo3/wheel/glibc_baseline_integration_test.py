# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""The glibc baseline, proven where it matters: on an older Linux.

A cp39 wheel from `./pants package` with the default `[pyo3].manylinux` (manylinux2014: linked with
zig for glibc 2.17) pip-installs and imports in a bare Debian 11 root (glibc 2.31, its own
python3.9), and the wheel of the same module linked by this machine's linker (`auto`:
manylinux_2_34 on Debian 12) is refused there by pip. The root comes from `debootstrap` (installed
with apt if missing) and is cached between runs; each run works in an overlay of it, so the cached
root never changes.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import zipfile
from contextlib import contextmanager
from pathlib import Path
from textwrap import dedent
from typing import Iterator

import pytest
from pants_pyo3.testutil import PANTS_TOML, TempRepo, package_files

BULLSEYE_CACHE = Path(os.environ.get("PANTS_PYO3_BULLSEYE_CACHE", "/var/cache/pants-pyo3-bullseye"))
_SBIN_PATH = os.pathsep.join(
    [os.environ.get("PATH", ""), "/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"]
)
_ENV = {**os.environ, "PATH": _SBIN_PATH, "LC_ALL": "C.UTF-8"}

# CPython 3.9, as in Debian 11; the module's glibc baseline is the default (manylinux2014).
PY39_TOML = PANTS_TOML.replace('manylinux = "off"\n', "").replace(
    'interpreter_constraints = ["CPython==3.11.*"]', 'interpreter_constraints = ["CPython==3.9.*"]'
)


def _run(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(argv, env=_ENV, capture_output=True, text=True, **kwargs)


def ensure_debootstrap() -> str:
    """debootstrap's path, installed with apt as this test's set-up if it is missing."""
    found = shutil.which("debootstrap", path=_SBIN_PATH)
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get", path=_SBIN_PATH):
        pytest.fail(
            "This test needs `debootstrap` to make a Debian 11 root, and can't install it (it "
            "installs it with apt-get when run as root). Run `apt-get install debootstrap` as root."
        )
    install = ["apt-get", "install", "-y", "--no-install-recommends", "debootstrap"]
    if _run(install).returncode != 0:
        _run(["apt-get", "update"])
        result = _run(install)
        assert result.returncode == 0, f"`{' '.join(install)}` failed:\n{result.stderr}"
    found = shutil.which("debootstrap", path=_SBIN_PATH)
    assert found, "apt-get installed debootstrap, but it is not on PATH"
    return found


def bullseye_root() -> Path:
    """A bare Debian 11 root with python3 (3.9), venv and pip, made once and cached."""
    if os.geteuid() != 0:
        pytest.fail(
            "This test makes and enters a Debian 11 root with debootstrap and chroot: run it as "
            "root."
        )
    BULLSEYE_CACHE.mkdir(parents=True, exist_ok=True)
    root = BULLSEYE_CACHE / "root"
    stamp = BULLSEYE_CACHE / "root.complete"
    with open(BULLSEYE_CACHE / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.exists():
            return root
        debootstrap = ensure_debootstrap()
        tmp = BULLSEYE_CACHE / "root.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(root, ignore_errors=True)
        result = _run(
            [
                debootstrap,
                "--variant=minbase",
                "--include=python3,python3-venv,python3-pip",
                "bullseye",
                str(tmp),
            ],
            timeout=1200,
        )
        assert (
            result.returncode == 0
        ), f"debootstrap bullseye failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        tmp.rename(root)
        stamp.touch()
    return root


@contextmanager
def overlay_of(base: Path, work: Path) -> Iterator[Path]:
    """A writable overlay of `base` with proc and dev mounted; every mount is undone on exit."""
    upper, scratch, merged = work / "upper", work / "work", work / "merged"
    for d in (upper, scratch, merged):
        d.mkdir(parents=True)
    mounted: list[Path] = []

    def mount(*args: str, at: Path) -> None:
        result = _run(["mount", *args, str(at)])
        assert result.returncode == 0, f"mount {' '.join(args)} {at} failed: {result.stderr}"
        mounted.append(at)

    try:
        mount(
            "-t",
            "overlay",
            "overlay",
            "-o",
            f"lowerdir={base},upperdir={upper},workdir={scratch}",
            at=merged,
        )
        mount("-t", "proc", "proc", at=merged / "proc")
        mount("--bind", "/dev", at=merged / "dev")
        yield merged
    finally:
        for path in reversed(mounted):
            if _run(["umount", str(path)]).returncode != 0:
                _run(["umount", "-l", str(path)])


def chroot(root: Path, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["chroot", str(root), *argv],
        env={"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "LC_ALL": "C.UTF-8", "HOME": "/root"},
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The cp39 wheel of one module with the default baseline, and with this machine's linker."""
    repo = TempRepo(tmp_path_factory.mktemp("repo"), package_files("demo"), pants_toml=PY39_TOML)
    repo.pants("package", "src/python/demo:dist").assert_success()
    repo.pants(
        "--pyo3-manylinux=auto", "--pants-distdir=dist-auto", "package", "src/python/demo:dist"
    ).assert_success()
    [baseline] = (repo.root / "dist").glob("demo-0.1.0-*.whl")
    [host] = (repo.root / "dist-auto").glob("demo-0.1.0-*.whl")
    return {"baseline": baseline, "host": host}


def test_default_wheel_is_manylinux2014_with_both_tags(wheels: dict[str, Path]) -> None:
    wheel = wheels["baseline"]
    assert wheel.name == "demo-0.1.0-cp39-cp39-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
    with zipfile.ZipFile(wheel) as zf:
        metadata = zf.read("demo-0.1.0.dist-info/WHEEL").decode()
    assert "Tag: cp39-cp39-manylinux_2_17_x86_64\n" in metadata
    assert "Tag: cp39-cp39-manylinux2014_x86_64\n" in metadata
    # The host's linker gives what this machine's glibc earns (2.34 or newer on Debian 12).
    assert wheels["host"].name.startswith("demo-0.1.0-cp39-cp39-manylinux_2_3"), wheels["host"].name


def test_wheel_installs_and_imports_on_debian_11_and_the_host_linked_one_is_refused(
    wheels: dict[str, Path], tmp_path: Path
) -> None:
    base = bullseye_root()
    with overlay_of(base, tmp_path) as root:
        for name, wheel in wheels.items():
            (root / "wheels" / name).mkdir(parents=True)
            shutil.copy(wheel, root / "wheels" / name / wheel.name)
        libc = chroot(
            root, "/usr/bin/python3", "-c", "import platform; print(*platform.libc_ver())"
        )
        assert libc.stdout.split() == ["glibc", "2.31"], libc
        venv = chroot(root, "/usr/bin/python3", "-m", "venv", "/venv")
        assert venv.returncode == 0, venv.stderr

        refused = chroot(
            root, "/venv/bin/pip", "install", "--no-index", f"/wheels/host/{wheels['host'].name}"
        )
        assert refused.returncode != 0, refused.stdout
        assert "is not a supported wheel on this platform" in refused.stderr, refused.stderr

        installed = chroot(
            root,
            "/venv/bin/pip",
            "install",
            "--no-index",
            "--find-links",
            "/wheels/baseline",
            "demo",
        )
        assert installed.returncode == 0, installed.stdout + installed.stderr
        imported = chroot(
            root,
            "/venv/bin/python",
            "-c",
            dedent(
                """\
                import sys, demo
                print(sys.version_info[:2], demo.add(40, 2), demo._native.__file__)
                """
            ),
        )
        assert imported.returncode == 0, imported.stderr
        assert imported.stdout.startswith(
            "(3, 9) 42 /venv/lib/python3.9/site-packages/demo/_native.cpython-39-x86_64-linux-gnu"
            ".so"
        ), imported.stdout
    # The cached root is untouched: the wheels went into the overlay only.
    assert not (base / "wheels").exists() and not (base / "venv").exists()


# A crate whose build script compiles C (with the `cc` crate) that calls getrandom(), which glibc
# gained in 2.25: the realistic way a module escapes its baseline.
GETRANDOM_FILES = {
    **package_files(
        "rnd",
        init="from rnd._native import nonzero\n",
        body="fn nonzero() -> bool {\n    let filled = unsafe { rnd_fill() };\n    filled > 0\n}",
    ),
    "src/rust/rnd/BUILD": (
        'cargo_crate(sources=["Cargo.toml", "build.rs", "src/**/*.rs", "csrc/*.c"])\n'
    ),
    "src/rust/rnd/build.rs": (
        'fn main() {\n    cc::Build::new().file("csrc/fill.c").compile("rndfill");\n}\n'
    ),
    "src/rust/rnd/csrc/fill.c": dedent(
        """\
        #include <sys/random.h>

        int rnd_fill(void) {
            unsigned char buf[16];
            return (int)getrandom(buf, sizeof buf, 0);
        }
        """
    ),
}


def test_c_code_newer_than_the_baseline_is_a_named_error(tmp_path: Path) -> None:
    files = dict(GETRANDOM_FILES)
    files["src/rust/rnd/Cargo.toml"] += '\n[build-dependencies]\ncc = "1"\n'
    files["src/rust/rnd/src/lib.rs"] = files["src/rust/rnd/src/lib.rs"].replace(
        "use pyo3::prelude::*;\n",
        'use pyo3::prelude::*;\n\nextern "C" {\n    fn rnd_fill() -> i32;\n}\n',
    )
    repo = TempRepo(tmp_path, files, pants_toml=PY39_TOML)
    result = repo.pants("package", "src/python/rnd:dist").assert_failure()
    assert "Pyo3GlibcBaselineError" in result.stderr, result.stderr
    assert "calls `getrandom` (glibc 2.25), which glibc 2.17" in result.stderr, result.stderr
    assert "src/python/rnd:native" in result.stderr
    assert 'manylinux="manylinux_2_28"' in result.stderr
    assert "Traceback (most recent call last)" not in result.stderr
    assert not (repo.root / "dist").exists() or not any((repo.root / "dist").iterdir())

    # The target's own baseline: glibc 2.28 has getrandom; the wheel says so.
    build = repo.root / "src/python/rnd/BUILD"
    build.write_text(
        build.read_text().replace(
            'module_name="rnd._native"', 'module_name="rnd._native", manylinux="manylinux_2_28"'
        )
    )
    repo.pants("package", "src/python/rnd:dist").assert_success()
    [wheel] = (repo.root / "dist").glob("rnd-0.1.0-*.whl")
    assert wheel.name == "rnd-0.1.0-cp39-cp39-manylinux_2_28_x86_64.whl"


def test_rust_code_calling_a_function_newer_than_the_baseline_is_a_named_error(
    tmp_path: Path,
) -> None:
    # An `extern "C"` declaration links whatever the baseline's glibc has: close_range (glibc 2.34)
    # is left unversioned, and such a wheel would fail to import on glibc 2.17 to 2.33.
    files = package_files(
        "cls",
        init="from cls._native import close_all\n",
        body="fn close_all() -> i32 {\n    unsafe { close_range(1_000_000, u32::MAX, 0) }\n}",
    )
    files["src/rust/cls/src/lib.rs"] = files["src/rust/cls/src/lib.rs"].replace(
        "use pyo3::prelude::*;\n",
        'use pyo3::prelude::*;\n\nextern "C" {\n'
        "    fn close_range(first: u32, last: u32, flags: i32) -> i32;\n}\n",
    )
    repo = TempRepo(tmp_path, files, pants_toml=PY39_TOML)
    result = repo.pants("package", "src/python/cls:dist").assert_failure()
    assert "Pyo3GlibcBaselineError" in result.stderr, result.stderr
    assert "calls `close_range` (glibc 2.34), which glibc 2.17" in result.stderr, result.stderr
    assert 'manylinux="manylinux_2_34"' in result.stderr
    assert "src/python/cls:native" in result.stderr
    assert "Traceback (most recent call last)" not in result.stderr
    assert not (repo.root / "dist").exists() or not any((repo.root / "dist").iterdir())
