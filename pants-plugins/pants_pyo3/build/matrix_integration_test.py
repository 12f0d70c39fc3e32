# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""End to end: `pants package ::` on a copy of the example repo writes a wheel per CPython (3.8 to
3.13) and platform (x86_64 and, cross-built, aarch64 Linux), one abi3 wheel per platform and a pex
for every interpreter; each installs and imports where it should (aarch64 under qemu)."""

from __future__ import annotations

import re
import subprocess
import time
import zipfile
from pathlib import Path

from pants_pyo3.testutil import (
    PANTS_TOML,
    TempRepo,
    find_interpreter,
    import_wheel_under_emulation,
    make_venv,
    pip_install,
    repo_files,
    run_in_fresh_venv,
)

VERSIONS = ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13")
ARCHES = ("aarch64", "x86_64")
# ELF e_machine values.
ELF_MACHINES = {"x86_64": 62, "aarch64": 183}
# The example's packages and crates come into the sandbox through the root BUILD's `example` target.
EXAMPLE_DIRS = (
    "src/python/myext",
    "src/python/pp3greet",
    "src/python/pp3sum",
    "src/python/app",
    "src/rust/myext",
    "src/rust/pp3sum",
)
# The example's own settings for the matrix, with the test repo's defaults for the rest.
MATRIX_TOML = PANTS_TOML.replace(
    'interpreter_constraints = ["CPython==3.11.*"]',
    'interpreter_constraints = ["CPython>=3.8,<3.14"]\n'
    'interpreter_versions_universe = ["3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13"]\n'
    'pip_version = "latest"',
).replace('manylinux = "off"', 'manylinux = "auto"')
WHEEL_RE = re.compile(
    r"^(?P<name>[a-z0-9_]+)-0\.1\.0-(?P<python>cp3\d+)-(?P<abi>cp3\d+|abi3)-"
    r"(?P<platforms>[a-z0-9_.]+)\.whl$"
)

AUDITWHEEL_TAG_RE = re.compile(r'consistent\s+with\s+the\s+following\s+platform\s+tag:\s*"([^"]+)"')


def run(*argv: str | Path, cwd: Path | None = None) -> str:
    proc = subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True)
    assert proc.returncode == 0, f"{argv} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout + proc.stderr


def wheel_text(wheel: Path, suffix: str) -> str:
    with zipfile.ZipFile(wheel) as zf:
        [name] = [n for n in zf.namelist() if n.endswith(suffix)]
        return zf.read(name).decode()


def test_matrix_wheels_abi3_and_pex(tmp_path: Path) -> None:
    assert 'manylinux = "auto"' in MATRIX_TOML and "pip_version" in MATRIX_TOML
    repo = TempRepo(tmp_path / "repo", repo_files(*EXAMPLE_DIRS), pants_toml=MATRIX_TOML)
    started = time.monotonic()
    repo.pants("package", "::").assert_success()
    print(f"package :: (6 interpreters + abi3) took {time.monotonic() - started:.1f}s")
    dist = repo.root / "dist"

    wheels = {
        w.name: WHEEL_RE.match(w.name)
        for w in dist.glob("*.whl")
        if not w.name.startswith("pp3greet")
    }
    assert all(wheels.values()), sorted(wheels)

    def arch(m: re.Match) -> str:
        return m.group("platforms").split(".")[0].split("_", 3)[-1]

    built = sorted(
        (m.group("name"), m.group("python"), m.group("abi"), arch(m)) for m in wheels.values() if m
    )
    assert built == sorted(
        [
            ("myext", f"cp{v.replace('.', '')}", f"cp{v.replace('.', '')}", a)
            for v in VERSIONS
            for a in ARCHES
        ]
        + [("pp3sum", "cp38", "abi3", a) for a in ARCHES]
    ), built

    # Metadata: each wheel is a platform wheel tagged as named, holding only its own module.
    for name, m in wheels.items():
        assert m is not None
        wheel = dist / name
        meta = wheel_text(wheel, ".dist-info/WHEEL")
        assert "Root-Is-Purelib: false" in meta, meta
        tags = sorted(
            line.split(": ", 1)[1] for line in meta.splitlines() if line.startswith("Tag: ")
        )
        expected = sorted(
            f"{m.group('python')}-{m.group('abi')}-{p}" for p in m.group("platforms").split(".")
        )
        assert tags == expected, (name, meta)
        assert m.group("platforms").startswith("manylinux_"), name
        assert "\nRequires-Python: >=3.8\n" in wheel_text(wheel, ".dist-info/METADATA")
        with zipfile.ZipFile(wheel) as zf:
            modules = [n for n in zf.namelist() if n.endswith(".so")]
            # The module is an ELF shared library for the wheel's machine.
            elf = zf.read(modules[0])[:20]
            assert (
                elf[:4] == b"\x7fELF"
                and int.from_bytes(elf[18:20], "little") == ELF_MACHINES[arch(m)]
            ), name
        if m.group("abi") == "abi3":
            assert modules == ["pp3sum/_pp3sum.abi3.so"], modules
        else:
            assert modules == [
                f"myext/_native.cpython-{m.group('python')[2:]}-{arch(m)}-linux-gnu.so"
            ], modules

    # auditwheel agrees with every manylinux tag, and twine accepts every wheel. The wheel backend
    # runs auditwheel 6.1.0 (the last for CPython 3.8); this is a later one, which also reads other
    # architectures' wheels (6.1.0's `show` judges an aarch64 wheel by the host's policies).
    tools = make_venv(find_interpreter("3.11"), tmp_path / "tools")
    pip_install(tools, ["auditwheel==6.8.2", "twine==6.1.0"])
    for name, m in wheels.items():
        assert m is not None
        shown = run(tools.parent / "auditwheel", "show", dist / name)
        consistent = AUDITWHEEL_TAG_RE.search(shown)
        assert consistent and consistent.group(1) == m.group("platforms").split(".")[0], shown
    checked = run(tools.parent / "twine", "check", *(dist / name for name in wheels))
    assert checked.count("PASSED") == len(wheels), checked

    # Each wheel installs into a fresh venv of its interpreter; the abi3 one on every interpreter.
    pex = dist / "src.python.app" / "app.pex"
    for version in VERSIONS:
        out = run_in_fresh_venv(
            tmp_path / f"venv{version}",
            ["myext", "pp3sum"],
            [
                "python",
                "-c",
                "import myext, pp3sum, sys; "
                "print(sys.version_info[:2], myext.sum_as_string(40, 2), "
                "pp3sum.fsum([1e16] + [1.0] * 10) == 1e16 + 10, "
                "myext._native.__file__.rsplit('/', 1)[1], "
                "pp3sum._pp3sum.__file__.rsplit('/', 1)[1])",
            ],
            "--no-index",
            "--find-links",
            str(dist),
            python_version=version,
        )
        tag = version.replace(".", "")
        assert f"42 True _native.cpython-{tag}-x86_64-linux-gnu.so _pp3sum.abi3.so" in out, out
        # One pex for every interpreter: it carries each build and imports the one for its Python.
        out = run(find_interpreter(version), pex, "Matrix")
        assert "Hello, Matrix!" in out and "sum_as_string(40, 2)='42'" in out, out

    # `./app.pex` run directly: its shebang (`shebang=` in src/python/app/BUILD) takes `python3`
    # from PATH, so it runs where the only python3 is 3.11 and there is no python3.8 (what pex
    # writes by default: the lowest admitted version), and imports the 3.11 build.
    assert pex.read_bytes().startswith(b"#!/usr/bin/env python3\n"), pex.read_bytes()[:40]
    only_python3 = tmp_path / "only-python3"
    only_python3.mkdir()
    (only_python3 / "python3").symlink_to(find_interpreter("3.11"))
    usr_bin = tmp_path / "usr-bin-without-python"
    usr_bin.mkdir()
    for tool in Path("/usr/bin").iterdir():
        if not tool.name.startswith("python"):
            (usr_bin / tool.name).symlink_to(tool)
    direct_env = {
        "PATH": f"{only_python3}:{usr_bin}",
        "HOME": str(tmp_path),
        "PEX_ROOT": str(tmp_path / "pex_root"),
    }
    which_module = "import sys, myext._native as m; print(sys.version_info[:2], m.__file__)"
    for extra_env, argv, expected in (
        ({}, ["Direct"], ["Hello, Direct!"]),
        (
            {"PEX_INTERPRETER": "1"},
            ["-c", which_module],
            ["(3, 11) ", "_native.cpython-311-x86_64-linux-gnu.so"],
        ),
    ):
        proc = subprocess.run(
            [str(pex), *argv],
            env={**direct_env, **extra_env},
            cwd=tmp_path,
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, (proc.stdout, proc.stderr)
        assert all(e in proc.stdout for e in expected), (proc.stdout, proc.stderr)

    # The aarch64 wheels import under emulation with an aarch64 CPython 3.11 (the one
    # build-support/cross/setup-aarch64.sh unpacks): the version-specific and the abi3 one.
    for wheel, module, function, args, expected in (
        ("myext-0.1.0-cp311-cp311", "myext._native", "sum_as_string", (40, 2), "'42'"),
        ("pp3sum-0.1.0-cp38-abi3", "pp3sum._pp3sum", "dot", ([1.0, 2.0], [3.0, 4.0]), "11.0"),
    ):
        [path] = dist.glob(f"{wheel}-manylinux_*_aarch64.whl")
        assert import_wheel_under_emulation(path, module, function, *args) == expected
