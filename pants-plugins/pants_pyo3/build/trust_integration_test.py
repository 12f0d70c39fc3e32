# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""Trust: the same inputs give the same bytes, caches are never stale, and concurrent or killed
builds leave nothing broken. Every test runs real Pants and cargo on temporary repos."""

from __future__ import annotations

import hashlib
import json
import os
import re
import resource
import signal
import subprocess
import time
import zipfile
from pathlib import Path
from textwrap import dedent
from typing import Iterator

import pytest
from pants_pyo3.testutil import (
    PANTS_TOML,
    PantsResult,
    TempRepo,
    crate_files,
    find_interpreter,
    package_files,
)

ADDRESS = "src/python/demo:native"
SO_NAME = "demo/_native.cpython-311-x86_64-linux-gnu.so"

DEMO_FILES = package_files("demo")


def cargo_runs(result: PantsResult, address: str = ADDRESS) -> int:
    """How many times the cargo build of `address` really ran (a cache hit logs nothing)."""
    return len(re.findall(rf"Completed: Building {re.escape(address)} with cargo", result.stderr))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def wheel_and_module_hashes(repo: TempRepo) -> tuple[str, str, bytes]:
    (wheel,) = (repo.root / "dist").glob("demo-0.1.0-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        module = zf.read(SO_NAME)
    return sha256(wheel.read_bytes()), sha256(module), module


def test_two_cold_builds_in_different_paths_are_byte_identical(tmp_path: Path) -> None:
    hashes = []
    for clone in (tmp_path / "a" / "clone", tmp_path / "b" / "somewhere" / "else"):
        repo = TempRepo(clone, DEMO_FILES)
        # Cold: nothing shared, neither cargo's caches nor Pants' process cache.
        caches = clone.parent / "caches"
        repo.pants(
            f"--named-caches-dir={caches / 'named'}",
            "package",
            "src/python/demo:dist",
        ).assert_success()
        wheel_hash, module_hash, module = wheel_and_module_hashes(repo)
        # No absolute build path ends up in the binary.
        for path in (clone, caches):
            assert str(path).encode() not in module
        hashes.append((wheel_hash, module_hash))
    assert hashes[0] == hashes[1]


def _other_toolchain_bin() -> str | None:
    """The bin directory of an installed Rust toolchain other than the default one, if any."""
    default = subprocess.run(["rustc", "-V"], capture_output=True, text=True, check=True).stdout
    rustup_home = Path(os.environ.get("RUSTUP_HOME") or Path.home() / ".rustup")
    for toolchain in sorted((rustup_home / "toolchains").glob("*")):
        rustc = toolchain / "bin" / "rustc"
        if rustc.exists() and (toolchain / "bin" / "cargo").exists():
            version = subprocess.run([str(rustc), "-V"], capture_output=True, text=True).stdout
            if version and version != default:
                return str(toolchain / "bin")
    return None


STALE_FILES = {
    "src/rust/helper/BUILD": "cargo_crate()\n",
    "src/rust/helper/Cargo.toml": (
        '[package]\nname = "helper"\nversion = "0.1.0"\nedition = "2021"\n'
    ),
    "src/rust/helper/src/lib.rs": "pub fn base() -> i64 {\n    1\n}\n",
    "src/rust/demo/BUILD": 'cargo_crate(dependencies=["src/rust/helper"])\n',
    "src/rust/demo/Cargo.toml": dedent(
        """\
        [package]
        name = "demo"
        version = "0.1.0"
        edition = "2021"

        [lib]
        name = "_native"
        crate-type = ["cdylib"]

        [dependencies]
        pyo3 = { version = "=0.29.3", features = ["extension-module"] }
        helper = { path = "../helper" }

        [features]
        extra = []
        """
    ),
    "src/rust/demo/build.rs": dedent(
        """\
        fn main() {
            println!("cargo:rerun-if-env-changed=DEMO_FLAVOR");
            let flavor = std::env::var("DEMO_FLAVOR").unwrap_or_else(|_| "plain".to_string());
            println!("cargo:rustc-env=DEMO_FLAVOR={flavor}");
        }
        """
    ),
    "src/rust/demo/src/lib.rs": dedent(
        """\
        use pyo3::prelude::*;

        #[pyfunction]
        fn describe() -> String {
            format!(
                "{} base={} extra={} debug={}",
                env!("DEMO_FLAVOR"),
                helper::base(),
                cfg!(feature = "extra"),
                cfg!(debug_assertions)
            )
        }

        #[pymodule]
        fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
            m.add_function(wrap_pyfunction!(describe, m)?)
        }
        """
    ),
    "src/python/demo/__init__.py": "",
    "src/python/demo/BUILD": (
        'pyo3_extension(name="native", crate="src/rust/demo", module_name="demo._native")\n'
    ),
    "src/python/other/notes.txt": "unrelated\n",
    "src/python/other/BUILD": 'files(name="notes", sources=["notes.txt"])\n',
}


@pytest.fixture
def stale_repo(tmp_path: Path) -> Iterator[TempRepo]:
    repo = TempRepo(
        tmp_path,
        STALE_FILES,
        pants_toml=PANTS_TOML.replace("[pyo3]\n", '[pyo3]\nextra_env_vars = ["DEMO_FLAVOR"]\n'),
    )
    yield repo
    repo.stop_pantsd()


def build_and_describe(
    repo: TempRepo, *args: str, env: dict[str, str] | None = None
) -> tuple[int, str]:
    """Build the module (through export-codegen), and return (cargo runs, what the module says)."""
    result = repo.pants(
        *args, "export-codegen", ADDRESS, extra_env=env, pantsd=True
    ).assert_success()
    out = subprocess.run(
        [find_interpreter("3.11"), "-c", "import demo._native as m; print(m.describe())"],
        cwd=repo.root / "dist" / "codegen" / "src" / "python",
        capture_output=True,
        text=True,
        check=True,
    )
    return cargo_runs(result), out.stdout.strip()


def test_never_stale(stale_repo: TempRepo) -> None:
    repo = stale_repo
    assert build_and_describe(repo) == (1, "plain base=1 extra=false debug=false")
    # Nothing changed, or only an unrelated file: a cache hit, no cargo.
    assert build_and_describe(repo) == (0, "plain base=1 extra=false debug=false")
    repo.write({"src/python/other/notes.txt": "still unrelated\n"})
    assert build_and_describe(repo) == (0, "plain base=1 extra=false debug=false")
    # An env var the build script declares with rerun-if-env-changed.
    assert build_and_describe(repo, env={"DEMO_FLAVOR": "spicy"}) == (
        1,
        "spicy base=1 extra=false debug=false",
    )
    # A path dependency's source.
    repo.write({"src/rust/helper/src/lib.rs": "pub fn base() -> i64 {\n    2\n}\n"})
    assert build_and_describe(repo) == (1, "plain base=2 extra=false debug=false")
    # A feature, then the profile.
    repo.write(
        {
            "src/python/demo/BUILD": (
                'pyo3_extension(name="native", crate="src/rust/demo", '
                'module_name="demo._native", features=["extra"])\n'
            )
        }
    )
    assert build_and_describe(repo) == (1, "plain base=2 extra=true debug=false")
    repo.write(
        {
            "src/python/demo/BUILD": (
                'pyo3_extension(name="native", crate="src/rust/demo", '
                'module_name="demo._native", features=["extra"], profile="dev")\n'
            )
        }
    )
    assert build_and_describe(repo) == (1, "plain base=2 extra=true debug=true")


def test_toolchain_change_rebuilds_and_switching_back_hits_the_cache(stale_repo: TempRepo) -> None:
    other = _other_toolchain_bin()
    if other is None:
        pytest.skip("needs a second Rust toolchain (e.g. `rustup toolchain install nightly`)")
    repo = stale_repo
    default_runs, default_out = build_and_describe(repo)
    assert default_runs == 1
    other_runs, other_out = build_and_describe(repo, f"--pyo3-search-paths=['{other}', '<PATH>']")
    assert (other_runs, other_out) == (1, default_out)
    (module,) = (repo.root / "dist" / "codegen").rglob("*.so")
    other_bytes = module.read_bytes()
    assert build_and_describe(repo) == (0, default_out)
    assert module.read_bytes() != other_bytes, "the default toolchain's module must come back"


def test_concurrent_builds_sharing_caches_agree_with_a_lone_build(tmp_path: Path) -> None:
    # A crate of its own, so the shared cargo target dir really has work to do.
    files = package_files("demo", body="fn add(a: i64, b: i64) -> i64 {\n    a + b + 0 * 7\n}")
    repos = [TempRepo(tmp_path / name, files) for name in ("one", "two", "lone")]

    def argv(repo: TempRepo) -> list[str]:
        return repo.pants_argv("package", "src/python/demo:dist")

    procs = [
        subprocess.Popen(
            argv(r),
            cwd=r.root,
            env=r.pants_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for r in repos[:2]
    ]
    for proc in procs:
        _out, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, err
    repos[2].pants("package", "src/python/demo:dist").assert_success()
    hashes = [wheel_and_module_hashes(r)[:2] for r in repos]
    assert len({module for _wheel, module in hashes}) == 1, hashes
    assert len({wheel for wheel, _module in hashes}) == 1, hashes


def test_killed_build_leaves_caches_usable(tmp_path: Path) -> None:
    # A profile of its own makes cargo rebuild pyo3 and friends, so there is time to kill it
    # mid-build.
    files = dict(DEMO_FILES)
    files[
        "src/rust/demo/Cargo.toml"
    ] += f'\n[profile.interrupted{os.getpid()}x{int(time.time())}]\ninherits = "release"\n'
    profile = re.search(  # type: ignore[union-attr]
        r"\[profile\.(\w+)\]", files["src/rust/demo/Cargo.toml"]
    ).group(1)
    files["src/python/demo/BUILD"] = files["src/python/demo/BUILD"].replace(
        'module_name="demo._native")', f'module_name="demo._native", profile="{profile}")'
    )
    repo = TempRepo(tmp_path, files)
    proc = subprocess.Popen(
        repo.pants_argv("package", "src/python/demo:dist"),
        cwd=repo.root,
        env=repo.pants_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        if f"Starting: Building {ADDRESS} with cargo" in line:
            break
    time.sleep(5)
    assert proc.poll() is None, "the build finished before it could be interrupted"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    # The next run (which may wait for cargo processes the kill orphaned) succeeds with a module
    # that works.
    repo.pants("package", "src/python/demo:dist").assert_success()
    (wheel,) = (repo.root / "dist").glob("demo-0.1.0-*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    out = subprocess.run(
        [find_interpreter("3.11"), "-c", "import demo; print(demo.add(1, 2))"],
        cwd=site,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "3"


def test_forty_crates_plan_and_build_with_bounded_memory(tmp_path: Path) -> None:
    count = 40
    files: dict[str, str] = {}
    for i in range(count):
        files.update(
            crate_files(
                f"src/rust/c{i}", package=f"c{i}", body=f"fn value() -> i64 {{\n    {i}\n}}"
            )
        )
        files[f"src/python/p{i}/__init__.py"] = f"from p{i}._native import value\n"
        files[f"src/python/p{i}/BUILD"] = (
            "python_sources()\n"
            f'pyo3_extension(name="native", crate="src/rust/c{i}", module_name="p{i}._native")\n'
        )
    files["src/python/all/__init__.py"] = "".join(f"import p{i}\n" for i in range(count))
    files["src/python/all/BUILD"] = dedent(
        """\
        python_sources()
        pex_binary(name="bin", entry_point="check.py")
        """
    )
    files["src/python/all/check.py"] = (
        "import all\nimport sys\n"
        + f"print(sum(getattr(sys.modules['p' + str(i)], 'value')() for i in range({count})))\n"
    )
    repo = TempRepo(tmp_path, files)
    result = repo.pants("package", "src/python/all:bin").assert_success()
    assert sum(cargo_runs(result, f"src/python/p{i}:native") for i in range(count)) == count
    out = subprocess.run(
        [str(repo.root / "dist" / "src.python.all" / "bin.pex")], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) == sum(range(count))
    # Builds are serialised on the shared cargo cache, so memory does not grow with the crate count.
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    assert peak_mib < 4096, f"peak RSS of a child process: {peak_mib:.0f} MiB"


# Round two (issue 17): build scripts that generate code, a module that fails at import, errors
# that must name the target.

GENERATED_BUILD_RS = dedent(
    """\
    fn main() {
        println!("cargo:rerun-if-changed=build.rs");
        let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
        std::fs::write(format!("{dir}/src/generated.rs"), "pub const BASE: i64 = 100;\\n").unwrap();
    }
    """
)


def generated_files(offset: int) -> dict[str, str]:
    files = dict(STALE_FILES)
    files["src/rust/demo/build.rs"] = GENERATED_BUILD_RS
    files["src/rust/demo/src/lib.rs"] = dedent(
        f"""\
        use pyo3::prelude::*;

        mod generated;

        #[pyfunction]
        fn describe() -> String {{
            format!("{{}}", generated::BASE + helper::base() + {offset})
        }}

        #[pymodule]
        fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {{
            m.add_function(wrap_pyfunction!(describe, m)?)
        }}
        """
    )
    return files


def test_sources_a_build_script_generates_survive_edits(tmp_path: Path) -> None:
    # bindgen/prost style: `build.rs` writes `src/generated.rs` into the crate and reruns only when
    # `build.rs` changes; `lib.rs` has `mod generated;`. Plain cargo builds it after every edit.
    repo = TempRepo(tmp_path, generated_files(0))
    try:
        assert build_and_describe(repo) == (1, "101")
        repo.write({"src/rust/demo/src/lib.rs": generated_files(10)["src/rust/demo/src/lib.rs"]})
        assert build_and_describe(repo) == (1, "111")
        repo.write({"src/rust/demo/src/lib.rs": generated_files(20)["src/rust/demo/src/lib.rs"]})
        assert build_and_describe(repo) == (1, "121")
        # The generated file is the build script's, never the repo's.
        assert not (repo.root / "src/rust/demo/src/generated.rs").exists()
    finally:
        repo.stop_pantsd()


def test_a_build_script_writing_into_the_repo_is_reported(tmp_path: Path) -> None:
    files = package_files("demo")
    target = tmp_path / "src/python/demo/written_by_build_rs.py"
    files[
        "src/rust/demo/build.rs"
    ] = f'fn main() {{\n    std::fs::write({json.dumps(str(target))}, "X = 1\\n").unwrap();\n}}\n'
    repo = TempRepo(tmp_path, files)
    result = repo.pants("package", "src/python/demo:dist").assert_success()
    assert target.exists()
    warning = next(
        (line for line in result.stderr.splitlines() if "these files of the repo changed" in line),
        None,
    )
    assert warning is not None, result.stderr
    assert ADDRESS in warning and "src/python/demo/written_by_build_rs.py" in warning, warning


def test_a_module_that_panics_at_import_writes_no_wheel(tmp_path: Path) -> None:
    files = package_files("demo")
    lib_rs = "src/rust/demo/src/lib.rs"
    files[lib_rs] = files[lib_rs].replace("    Ok(())\n}", '    panic!("boom at init")\n}')
    repo = TempRepo(tmp_path, files)
    result = repo.pants("package", "src/python/demo:dist").assert_failure()
    assert "Pyo3ImportCheckError" in result.stderr, result.stderr
    assert ADDRESS in result.stderr and "boom at init" in result.stderr
    assert "Traceback (most recent call last)" not in result.stderr
    assert not list((repo.root / "dist").rglob("*.whl"))


def test_extension_constraints_outside_the_universe_name_the_target(tmp_path: Path) -> None:
    files = package_files("demo")
    build = "src/python/demo/BUILD"
    files[build] = files[build].replace(
        'module_name="demo._native")',
        'module_name="demo._native", interpreter_constraints=["CPython==3.15.*"])',
    )
    repo = TempRepo(tmp_path, files)
    result = repo.pants("package", "src/python/demo:dist").assert_failure()
    assert "Pyo3InterpreterNotFoundError" in result.stderr, result.stderr
    assert ADDRESS in result.stderr and "interpreter_versions_universe" in result.stderr
    assert not (repo.root / "dist").exists() or not list((repo.root / "dist").rglob("*"))
