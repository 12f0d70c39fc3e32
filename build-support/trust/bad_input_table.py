# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""The bad-input table: each kind of bad input a new user may write, run through real `package`
(or `test`) in a temporary repo, with whether the message names the target and the fix, whether
`dist/` stays empty and whether a Python traceback shows.

Run with the Pants venv's Python and the plugin on PYTHONPATH (the variables `./pants` exports for
pex must be set, as for the integration tests):
    PYTHONPATH=pants-plugins ~/.cache/pants-pyo3-bootstrap/pants-2.17.1-py39/bin/python \\
        build-support/trust/bad_input_table.py /tmp/bad-inputs
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from pants_pyo3.testutil import PANTS_TOML, TempRepo, crate_files, package_files

ADDRESS = "src/python/demo:native"
BUILD = "src/python/demo/BUILD"
TOML = "src/rust/demo/Cargo.toml"
LIB = "src/rust/demo/src/lib.rs"


def ext_fields(files: dict, extra: str) -> None:
    files[BUILD] = files[BUILD].replace(
        'module_name="demo._native")', f'module_name="demo._native", {extra})'
    )


def edit(path: str, old: str, new: str) -> Callable[[dict], None]:
    def apply(files: dict) -> None:
        assert old in files[path], (path, old)
        files[path] = files[path].replace(old, new)

    return apply


@dataclass
class Case:
    name: str
    change: Callable[[dict], None] | None
    fix: str  # A phrase of the message that says what to do.
    goal: tuple = ("package", "src/python/demo:dist")
    names: str = ADDRESS
    expect_success: bool = False
    toml: Callable[[str], str] | None = None
    args: tuple = ()
    after: Callable[[Path], None] | None = None
    extra_checks: dict = field(default_factory=dict)


CLOSE_RANGE = """
extern "C" {
    fn close_range(first: u32, last: u32, flags: i32) -> i32;
}

#[pyfunction]
fn close_all() -> i32 {
    unsafe { close_range(1_000_000, u32::MAX, 0) }
}
"""


def lockfile(root: Path) -> None:
    subprocess.run(
        ["cargo", "generate-lockfile", "--quiet"], cwd=root / "src/rust/demo", check=True
    )
    toml = root / TOML
    toml.write_text(toml.read_text().replace("[dependencies]\n", '[dependencies]\nitoa = "1"\n'))


def symlink_out(root: Path) -> None:
    (root / LIB).unlink()
    os.symlink("/etc/hostname", root / LIB)


CASES = [
    Case(
        "module_name not dotted",
        edit(BUILD, 'module_name="demo._native"', 'module_name="my-ext._native"'),
        "dotted Python module name",
    ),
    Case("Cargo.toml missing", None, "Cargo.toml", after=lambda r: (r / TOML).unlink()),
    Case(
        "Cargo.toml not TOML",
        edit(TOML, "[package]", "[package"),
        "not valid TOML",
        names="cargo_crate` target src/rust/demo",
    ),
    Case(
        "no cdylib",
        edit(TOML, 'crate-type = ["cdylib"]', 'crate-type = ["rlib"]'),
        'crate-type = ["cdylib"]',
    ),
    Case(
        "crate is not a cargo_crate",
        edit(BUILD, 'crate="src/rust/demo"', 'crate=":demo"'),
        "must name a `cargo_crate`",
    ),
    Case(
        "#[pymodule] misnamed",
        edit(LIB, "fn _native(m", "fn wrong_name(m"),
        "Name the crate's `#[pymodule]`",
    ),
    Case(
        "Rust compile error", edit(LIB, "a + b", '"not a number"'), "Fix the errors cargo reported"
    ),
    Case(
        "cargo not found",
        None,
        "search_paths",
        names="",
        args=("--pyo3-search-paths=['/nonexistent']",),
    ),
    Case(
        "two extensions, one module",
        lambda f: f.__setitem__(
            BUILD,
            f[BUILD]
            + 'pyo3_extension(name="again", crate="src/rust/demo", module_name="demo._native")\n',
        ),
        "distinct `module_name`",
    ),
    Case(
        "test under an interpreter with no build",
        lambda f: f.__setitem__(
            BUILD,
            f[BUILD] + 'python_tests(name="tests", interpreter_constraints=["CPython==3.10.*"])\n',
        )
        or f.__setitem__(
            "src/python/demo/demo_test.py",
            "import demo\n\ndef test_add():\n    assert demo.add(1, 2) == 3\n",
        ),
        "interpreter_constraints",
        goal=("test", "src/python/demo:tests"),
        names="src/python/demo",
    ),
    Case("symlink out of the repo", None, "symlink", names="src/rust/demo", after=symlink_out),
    Case(
        "abi3 floor above the constraints",
        lambda f: (
            edit(
                TOML,
                'features = ["extension-module"]',
                'features = ["extension-module", "abi3-py312"]',
            )(f),
            ext_fields(f, 'interpreter_constraints=["CPython>=3.11,<3.13"]'),
        ),
        "abi3",
    ),
    Case(
        "no interpreter for an admitted version (3.14, the top)",
        lambda f: ext_fields(f, 'interpreter_constraints=["CPython>=3.12,<3.15"]'),
        'interpreter_constraints=["CPython>=3.12,<3.14"]',
        toml=lambda t: t.replace(
            '[python]\ninterpreter_constraints = ["CPython==3.11.*"]\n',
            '[python]\ninterpreter_constraints = ["CPython>=3.12,<3.15"]\n'
            'interpreter_versions_universe = ["3.11", "3.12", "3.13", "3.14"]\n',
        ),
    ),
    Case(
        "target constraints outside the universe",
        lambda f: ext_fields(f, 'interpreter_constraints=["CPython==3.15.*"]'),
        "interpreter_versions_universe",
    ),
    Case(
        "unknown target triple",
        lambda f: ext_fields(f, 'target_triples=["x86_64-unknown-linux-gnux"]'),
        "rustc --print target-list",
    ),
    Case(
        "triple without its std",
        lambda f: ext_fields(f, 'target_triples=["riscv64gc-unknown-linux-gnu"]'),
        "rustup target add",
    ),
    Case(
        # Rust code (not C: the C compiler sees the baseline's headers) declaring a glibc function
        # the policy's glibc lacks: without a check the wheel says manylinux2014 and fails to import
        # on glibc 2.17.
        "Rust calls a glibc function newer than the policy",
        lambda f: (
            edit(LIB, "use pyo3::prelude::*;\n", "use pyo3::prelude::*;\n" + CLOSE_RANGE)(f),
            edit(
                LIB,
                "    Ok(())",
                "    m.add_function(wrap_pyfunction!(close_all, m)?)?;\n    Ok(())",
            )(f),
        ),
        "manylinux_2_34",
        toml=lambda t: t.replace('manylinux = "off"', 'manylinux = "manylinux_2_17"'),
    ),
    Case(
        "versions disagree",
        edit(BUILD, 'version="0.1.0"', 'version="0.2.0"'),
        "pyo3-bump-version",
        names="src/python/demo:dist",
    ),
    Case(
        "sdist of two extensions",
        lambda f: (
            f.update(
                crate_files("src/rust/other", package="other", lib_name="_other", pymodule="_other")
            ),
            f.__setitem__(
                BUILD,
                f[BUILD]
                .replace("sdist=False,", "")
                .replace('dependencies=[":demo"]', 'dependencies=[":demo", ":other"]')
                + 'pyo3_extension(name="other", crate="src/rust/other", '
                'module_name="demo._other")\n',
            ),
        ),
        "sdist=False",
        names="src/python/demo:dist",
    ),
    Case(
        "Cargo.lock out of date", None, "cargo update --workspace` in src/rust/demo", after=lockfile
    ),
    Case(
        "#[pymodule] panics at import",
        edit(LIB, "    Ok(())\n}", '    panic!("boom at init")\n}'),
        "#[pymodule] fn _native",
    ),
    Case(
        "#[pymodule] returns Err at import",
        edit(
            LIB,
            "    Ok(())\n}",
            '    Err(pyo3::exceptions::PyRuntimeError::new_err("no config"))\n}',
        ),
        "#[pymodule] fn _native",
    ),
]


def run(case: Case, root: Path) -> dict:
    files = package_files("demo")
    if case.change:
        case.change(files)
    if root.exists():
        shutil.rmtree(root)
    toml = case.toml(PANTS_TOML) if case.toml else PANTS_TOML
    repo = TempRepo(root, files, pants_toml=toml)
    if case.after:
        case.after(root)
    # One process cache for every case (each repo would otherwise build Pants' tools again).
    result = repo.pants(f"--local-store-dir={root.parent / 'store'}", *case.args, *case.goal)
    out = result.stderr + result.stdout
    dist = root / "dist"
    dist_files = [p for p in dist.rglob("*") if p.is_file()] if dist.exists() else []
    return {
        "case": case.name,
        "exit": result.exit_code,
        "names target": (case.names in out) if case.names else None,
        "names fix": case.fix in out,
        "dist clean": not dist_files,
        "no traceback": "Traceback (most recent call last)" not in out,
        "error": next(
            (
                line.split(":")[0]
                for line in out.splitlines()
                if "Error:" in line and not line.startswith(" ")
            ),
            "",
        ),
        "log": out[-3000:],
    }


def main() -> None:
    base = Path(sys.argv[1])
    only = sys.argv[2:]
    rows = []
    for i, case in enumerate(CASES, 1):
        if only and str(i) not in only:
            continue
        row = run(case, base / f"case{i:02d}")
        rows.append(row)
        print(json.dumps({k: v for k, v in row.items() if k != "log"}), flush=True)
        (base / f"case{i:02d}.log").write_text(row["log"])
    print("\n| # | case | exit | error | names target | names fix | dist/ clean | no traceback |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    yes = {True: "yes", False: "**no**", None: "n/a"}
    for i, row in enumerate(rows, 1):
        print(
            f"| {i} | {row['case']} | {row['exit']} | {row['error']} | "
            f"{yes[row['names target']]} | "
            f"{yes[row['names fix']]} | {yes[row['dist clean']]} | {yes[row['no traceback']]} |"
        )


if __name__ == "__main__":
    main()
