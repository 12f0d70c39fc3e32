# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""The build driver's cache helpers: target directories per ABI, their seeding, and the locks."""

from __future__ import annotations

import fcntl
import os
import shlex
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from pants_pyo3.sandbox import build_extension

TRIPLE = "x86_64-unknown-linux-gnu"
KEY_311 = build_extension.target_key(TRIPLE, "cpython-311-x86_64-linux-gnu")
KEY_312 = build_extension.target_key(TRIPLE, "cpython-312-x86_64-linux-gnu")
KEY_313 = build_extension.target_key(TRIPLE, "cpython-313-x86_64-linux-gnu")


def target_dir(cache: Path, key: str) -> Path:
    return Path(build_extension.cache_layout(str(cache), key)["target_dir"])


def test_a_new_target_dir_starts_as_a_copy_of_a_built_one(tmp_path: Path) -> None:
    with build_extension.target_dir_locked(str(tmp_path), KEY_311):
        built = target_dir(tmp_path, KEY_311) / "release/deps/libsyn.rlib"
        built.parent.mkdir(parents=True)
        built.write_bytes(b"syn")
    with build_extension.target_dir_locked(str(tmp_path), KEY_312):
        copy = target_dir(tmp_path, KEY_312)
        assert (copy / "release/deps/libsyn.rlib").read_bytes() == b"syn"
        # Not a seed until its own build succeeded.
        assert not (copy / build_extension.SEEDABLE).exists()
        (copy / "release/deps/libpyo3.rlib").write_bytes(b"pyo3 for 3.12")
    assert (target_dir(tmp_path, KEY_312) / build_extension.SEEDABLE).exists()
    # The seed is untouched by the copy's build.
    assert not (target_dir(tmp_path, KEY_311) / "release/deps/libpyo3.rlib").exists()
    # A directory built before is used as it is.
    with build_extension.target_dir_locked(str(tmp_path), KEY_312):
        assert (target_dir(tmp_path, KEY_312) / "release/deps/libpyo3.rlib").exists()


def test_a_failed_build_is_never_a_seed(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        with build_extension.target_dir_locked(str(tmp_path), KEY_311):
            (target_dir(tmp_path, KEY_311) / "half-written").parent.mkdir(parents=True)
            (target_dir(tmp_path, KEY_311) / "half-written").write_text("x")
            sys.exit(10)
    assert not (target_dir(tmp_path, KEY_311) / build_extension.SEEDABLE).exists()
    with build_extension.target_dir_locked(str(tmp_path), KEY_312):
        # Nothing to copy: this build starts from scratch.
        assert not (target_dir(tmp_path, KEY_312) / "half-written").exists()


def test_builds_of_other_interpreters_wait_for_the_first_build_of_a_triple(tmp_path: Path) -> None:
    # The first build of a triple (started by another process) holds the triple's seeding lock
    # until it is done, so a build for another interpreter that starts meanwhile copies its result
    # instead of compiling everything again beside it.
    first = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import os, sys, time
                sys.path.insert(0, {str(Path(build_extension.__file__).parent.parent)!r})
                from pants_pyo3.sandbox import build_extension
                with build_extension.target_dir_locked({str(tmp_path)!r}, {KEY_311!r}):
                    d = build_extension.cache_layout({str(tmp_path)!r}, {KEY_311!r})["target_dir"]
                    os.makedirs(d, exist_ok=True)
                    open(os.path.join({str(tmp_path)!r}, "started"), "w").close()
                    time.sleep(1.5)
                    open(os.path.join(d, "libsyn.rlib"), "w").close()
                """
            ),
        ]
    )
    try:
        deadline = time.monotonic() + 30
        while not (tmp_path / "started").exists():
            assert (
                first.poll() is None and time.monotonic() < deadline
            ), "the first build did not start"
            time.sleep(0.05)
        with build_extension.target_dir_locked(str(tmp_path), KEY_312):
            assert (target_dir(tmp_path, KEY_312) / "libsyn.rlib").exists()
    finally:
        assert first.wait(timeout=30) == 0


def write_sandbox(root: Path, files: dict[str, str]) -> list[str]:
    for rel, content in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(content)
    return sorted(files)


def test_the_mirror_follows_the_sources_but_keeps_the_lock_file_cargo_wrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox, cache = tmp_path / "sandbox", tmp_path / "cache"
    sandbox.mkdir()
    monkeypatch.chdir(sandbox)
    mirror = Path(build_extension.mirror_dir(str(cache)))
    files = write_sandbox(
        sandbox,
        {"crate/Cargo.toml": "[package]\n", "crate/src/lib.rs": "// one\n", "crate/src/old.rs": ""},
    )
    with build_extension.mirror_synced(str(cache), files, "crate"):
        assert (mirror / "crate/src/lib.rs").read_text() == "// one\n"
        (mirror / "crate/Cargo.lock").write_text("# written by cargo\n")
    (sandbox / "crate/src/old.rs").unlink()
    files = write_sandbox(
        sandbox, {"crate/Cargo.toml": "[package]\n", "crate/src/lib.rs": "// two\n"}
    )
    unchanged_mtime = (mirror / "crate/Cargo.toml").stat().st_mtime_ns
    with build_extension.mirror_synced(str(cache), files, "crate"):
        assert (mirror / "crate/src/lib.rs").read_text() == "// two\n"
        assert not (mirror / "crate/src/old.rs").exists()
        assert (mirror / "crate/Cargo.lock").exists()
        # Unchanged files keep their mtimes, so cargo doesn't rebuild for them.
        assert (mirror / "crate/Cargo.toml").stat().st_mtime_ns == unchanged_mtime


def test_builds_of_the_same_sources_share_the_mirror_and_others_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    files = write_sandbox(tmp_path, {"crate/src/lib.rs": "// one\n"})
    cache = tmp_path / "cache"
    with build_extension.mirror_synced(str(cache), files, "crate"):
        with open(
            Path(build_extension.mirror_dir(str(cache)), build_extension.MIRROR_LOCK)
        ) as other:
            # Another build of the same sources gets in...
            fcntl.flock(other, fcntl.LOCK_SH | fcntl.LOCK_NB)
            fcntl.flock(other, fcntl.LOCK_UN)
            # ... one that must change the mirror can't while this build reads it.
            with pytest.raises(BlockingIOError):
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    with build_extension.mirror_synced(str(cache), files, "crate", exclusive=True):
        with open(
            Path(build_extension.mirror_dir(str(cache)), build_extension.MIRROR_LOCK)
        ) as other, pytest.raises(BlockingIOError):
            fcntl.flock(other, fcntl.LOCK_SH | fcntl.LOCK_NB)


def test_files_a_build_script_wrote_into_the_mirror_stay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # bindgen/prost style: `build.rs` writes `src/generated.rs` into the crate and reruns only when
    # `build.rs` changes. An edit of `lib.rs` must not delete it (cargo would not write it again).
    sandbox, cache = tmp_path / "sandbox", tmp_path / "cache"
    sandbox.mkdir()
    monkeypatch.chdir(sandbox)
    mirror = Path(build_extension.mirror_dir(str(cache)))
    files = write_sandbox(
        sandbox,
        {
            "crate/build.rs": "fn main() {}\n",
            "crate/src/lib.rs": "mod generated;\n",
            "crate/src/old.rs": "",
            "other/src/lib.rs": "",
        },
    )
    with build_extension.mirror_synced(str(cache), files, "crate"):
        (mirror / "crate/src/generated.rs").write_text("// written by build.rs\n")
    with build_extension.mirror_synced(
        str(cache), [f for f in files if f.startswith("other/")], "other"
    ):
        pass
    (sandbox / "crate/src/old.rs").unlink()
    files = write_sandbox(
        sandbox,
        {"crate/build.rs": "fn main() {}\n", "crate/src/lib.rs": "mod generated; // edit\n"},
    )
    with build_extension.mirror_synced(str(cache), files, "crate"):
        assert (mirror / "crate/src/generated.rs").read_text() == "// written by build.rs\n"
        assert (mirror / "crate/src/lib.rs").read_text() == "mod generated; // edit\n"
        # A file the plugin mirrored and the crate no longer has goes, as under plain cargo.
        assert not (mirror / "crate/src/old.rs").exists()
        # Another crate's files in the same mirror are not this crate's strays.
        assert (mirror / "other/src/lib.rs").exists()


def test_each_build_root_gets_its_own_mirror(tmp_path: Path) -> None:
    # The driver finds the build root as the working directory of the process that started it
    # (Pants): two repos with the same crate path must not share a mirror; a directory without
    # `pants.toml` above it has none.
    probe = tmp_path / "probe.py"
    probe.write_text(
        f"import sys\nsys.path.insert(0, {str(Path(build_extension.__file__).parent)!r})\n"
        f"import build_extension\nprint(build_extension.mirror_dir({str(tmp_path / 'cache')!r}))\n"
    )
    # The probe's parent is this one, whose working directory is the "build root".
    script = f"import subprocess, sys; subprocess.run([sys.executable, {str(probe)!r}], check=True)"

    def mirror_from(cwd: Path) -> str:
        out = subprocess.run(
            [sys.executable, "-c", script], cwd=cwd, capture_output=True, text=True, check=True
        )
        return out.stdout.strip()

    roots = [tmp_path / "one" / "repo", tmp_path / "two" / "repo"]
    for root in roots:
        (root / "src").mkdir(parents=True)
        (root / "pants.toml").write_text("")
    one, two = mirror_from(roots[0]), mirror_from(roots[1] / "src")
    assert one != two
    assert one == mirror_from(roots[0] / "src")
    assert Path(one).parent == tmp_path / "cache" / "src"
    assert Path(one).name.startswith("repo-")
    assert Path(mirror_from(tmp_path)).name == "unknown-build-root"


def test_library_owners(tmp_path: Path) -> None:
    owners = build_extension.LibraryOwners(str(tmp_path))
    assert not owners.owns("/m/a/Cargo.toml")
    owners.record("/m/a/Cargo.toml", "/t/lib_native.so")
    assert build_extension.LibraryOwners(str(tmp_path)).owns("/m/a/Cargo.toml")
    # Another crate with the same `[lib] name` wrote the file: `a` must be rebuilt to get it back.
    build_extension.LibraryOwners(str(tmp_path)).record("/m/b/Cargo.toml", "/t/lib_native.so")
    reloaded = build_extension.LibraryOwners(str(tmp_path))
    assert not reloaded.owns("/m/a/Cargo.toml")
    assert reloaded.owns("/m/b/Cargo.toml")
    # `cargo test` may have written b's library: b's next build must write it again.
    reloaded.forget("/m/b/Cargo.toml")
    assert not build_extension.LibraryOwners(str(tmp_path)).owns("/m/b/Cargo.toml")
    assert os.path.exists(tmp_path / ".pants-pyo3-libraries.json")


def shared_library(tmp_path: Path, compiler: str, name: str, c_source: str) -> str:
    """A shared library compiled from `c_source` with `compiler` (the host's or a cross `gcc`)."""
    if not shutil.which(compiler):
        pytest.skip(f"No `{compiler}` on this machine (build-support/cross/setup-aarch64.sh).")
    source = tmp_path / f"{name}.c"
    source.write_text(c_source)
    library = tmp_path / f"{name}.so"
    subprocess.run(
        [compiler, "-shared", "-fPIC", "-o", str(library), str(source)],
        check=True,
        capture_output=True,
    )
    return str(library)


@pytest.mark.parametrize("compiler", ["cc", "aarch64-linux-gnu-gcc"])
@pytest.mark.parametrize(
    "c_source, expected",
    [
        pytest.param("int PyInit__native(void) { return 0; }\n", None, id="exports-it"),
        pytest.param(
            "int PyInit_other(void) { return 0; }\n",
            build_extension.EXIT_NO_INIT_SYMBOL,
            id="another-module",
        ),
        # pyo3 behind a Cargo feature the build leaves off, or an empty lib.rs: the library exports
        # nothing of Python's, and nothing at all but what the linker adds.
        pytest.param(
            "static int unused(void) { return 0; }\n",
            build_extension.EXIT_NO_PYMODULE,
            id="no-symbols",
        ),
        pytest.param(
            "int helper(void) { return 0; }\n", build_extension.EXIT_NO_PYMODULE, id="no-pyinit"
        ),
    ],
)
def test_the_pyinit_check_holds_whatever_the_symbol_table_holds(
    tmp_path: Path, compiler: str, c_source: str, expected: int | None
) -> None:
    library = shared_library(tmp_path, compiler, "lib_native", c_source)
    problem = build_extension.init_symbol_problem(library, "demo._native")
    assert (problem and problem[0]) == expected, problem
    if expected == build_extension.EXIT_NO_PYMODULE:
        assert "exports no `PyInit_` function at all" in problem[1]
        assert "`import demo._native` would fail" in problem[1]


# A module's imports: `printf` binds to a glibc version, Python's C API to the interpreter, a weak
# one may be absent; `rnd_nowhere` is defined nowhere the linker looked, as a function the glibc
# baseline's stubs lack is.
IMPORTS_C = """\
#include <stdio.h>
extern int rnd_nowhere(void);
extern void *PyLong_FromLong(long);
extern int maybe_there(void) __attribute__((weak));
int PyInit__native(void) {
    printf("x");
    PyLong_FromLong(1);
    return rnd_nowhere() + (maybe_there ? maybe_there() : 0);
}
"""


@pytest.mark.parametrize("compiler", ["cc", "aarch64-linux-gnu-gcc"])
def test_unversioned_imports_are_the_functions_no_library_binds(
    tmp_path: Path, compiler: str
) -> None:
    library = shared_library(tmp_path, compiler, "lib_native", IMPORTS_C)
    assert build_extension.unversioned_imports(library) == ["rnd_nowhere"]
    found = build_extension.elf_dynamic_symbols(library)
    assert "libc.so.6" in found["needed"] and "PyInit__native" in found["defined"]


def test_unversioned_imports_are_unknown_beside_a_library_outside_glibc(tmp_path: Path) -> None:
    # libz could define `rnd_nowhere` (its symbols are what auditwheel judges).
    source = tmp_path / "lib_native.c"
    source.write_text(IMPORTS_C)
    library = tmp_path / "lib_native.so"
    subprocess.run(
        ["cc", "-shared", "-fPIC", "-o", str(library), str(source), "-Wl,--no-as-needed", "-lz"],
        check=True,
        capture_output=True,
    )
    assert "libz.so.1" in build_extension.elf_dynamic_symbols(str(library))["needed"]
    assert build_extension.unversioned_imports(str(library)) == []


def test_the_pyinit_check_reads_a_library_that_is_not_elf(tmp_path: Path) -> None:
    # Another platform's format (Mach-O, PE) is searched for the symbol's name.
    library = tmp_path / "lib_native.dylib"
    library.write_bytes(b"\xcf\xfa\xed\xfe" + b"\0" * 64 + b"_PyInit__native\0")
    assert build_extension.init_symbol_problem(str(library), "demo._native") is None
    library.write_bytes(b"\xcf\xfa\xed\xfe" + b"\0" * 64 + b"_helper\0")
    problem = build_extension.init_symbol_problem(str(library), "demo._native")
    assert problem and problem[0] == build_extension.EXIT_NO_PYMODULE


def test_missing_baseline_functions_are_read_from_clang_and_lld() -> None:
    # What zig cc (clang) and its lld print when the glibc baseline lacks a function.
    stderr = textwrap.dedent(
        """\
          cargo:warning=csrc/fill.c:5:17: error: call to undeclared function 'getrandom'; ISO C99
          cargo:warning=    5 |     return (int)getrandom(buf, sizeof buf, 0);
          error: linking with `/x/zig-cc` failed: exit status: 1
            = note: error: undefined symbol: memfd_create
          warning: call to undeclared function 'getrandom' again
        """
    )
    assert build_extension.missing_baseline_functions(stderr) == ["getrandom", "memfd_create"]
    assert build_extension.missing_baseline_functions("error[E0277]: mismatched types") == []


def test_baseline_builds_have_target_directories_of_their_own() -> None:
    def config(zig_target: str) -> build_extension.BuildConfig:
        return build_extension.BuildConfig(
            address="a:b",
            crate_dir="c",
            files=[],
            package="p",
            module_name="m",
            profile="release",
            features=[],
            default_features=True,
            cargo_args=[],
            cargo="cargo",
            target_triple="x86_64-unknown-linux-gnu",
            abi_tag="abi3",
            cache_dir=".c",
            output="o",
            zig="/zig" if zig_target else "",
            zig_target=zig_target,
        )

    assert build_extension.baseline_triple_dir(config("")) == "x86_64-unknown-linux-gnu"
    assert (
        build_extension.baseline_triple_dir(config("x86_64-linux-gnu.2.17"))
        == "x86_64-unknown-linux-gnu+glibc2.17"
    )


def test_the_rustc_wrapper_runs_the_users_wrapper_with_the_remaps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = str(tmp_path / "cache")
    wrapper = Path(build_extension.cache_layout(cache, KEY_311)["wrapper"])
    monkeypatch.setenv("RUSTC_WRAPPER", "/opt/my wrapper")
    build_extension.write_rustc_wrapper(cache, KEY_311)
    remaps = " ".join(shlex.quote(r) for r in build_extension.path_remaps(cache, KEY_311))
    assert wrapper.read_text() == f"#!/bin/sh\nexec '/opt/my wrapper' \"$@\" {remaps}\n"
    assert os.access(wrapper, os.X_OK)
    # Rewritten only when it changes: cargo keys its fingerprints on the wrapper.
    os.utime(wrapper, ns=(1, 1))
    build_extension.write_rustc_wrapper(cache, KEY_311)
    assert wrapper.stat().st_mtime_ns == 1
    monkeypatch.delenv("RUSTC_WRAPPER")
    build_extension.write_rustc_wrapper(cache, KEY_311)
    assert wrapper.read_text() == f'#!/bin/sh\nexec "$@" {remaps}\n'


def test_the_lock_cargo_uses_is_the_crates_or_its_workspaces() -> None:
    # `--locked` (and the fix an outdated lock names) follows the lock cargo reads: the crate's
    # own, else the nearest one above it (a Cargo workspace's root), else none.
    member = ["ws/crates/ext/Cargo.toml", "ws/crates/ext/src/lib.rs", "ws/Cargo.toml"]
    assert build_extension.lock_dir_of(member, "ws/crates/ext") is None
    assert build_extension.lock_dir_of(member + ["ws/Cargo.lock"], "ws/crates/ext") == "ws"
    both = member + ["ws/Cargo.lock", "ws/crates/ext/Cargo.lock"]
    assert build_extension.lock_dir_of(both, "ws/crates/ext") == "ws/crates/ext"
    # The nearest one wins (the sandbox only holds the crate's and its workspace root's), and a
    # crate at the build root has its own.
    assert build_extension.lock_dir_of(member + ["ws/crates/Cargo.lock"], "ws/crates/ext") == (
        "ws/crates"
    )
    assert build_extension.lock_dir_of(["Cargo.toml", "Cargo.lock"], "") == ""
    assert "in src/rust/demo" in build_extension.lockfile_fix("src/rust/demo")


def test_cargo_errors_name_build_root_paths_and_an_outdated_lock_its_fix(
    capsys: pytest.CaptureFixture[str],
) -> None:
    mirror = "/cache/src/repo-1234"
    error = f"error[E0425]: cannot find value `x`\n --> {mirror}/src/rust/demo/src/lib.rs:3:5\n"
    assert build_extension.write_cargo_errors(error.encode(), mirror, "src/rust/demo") == (
        "error[E0425]: cannot find value `x`\n --> src/rust/demo/src/lib.rs:3:5\n"
    )
    assert capsys.readouterr().err.endswith("--> src/rust/demo/src/lib.rs:3:5\n")
    outdated = (
        "error: cannot update the lock file /m/Cargo.lock because --locked was passed to prevent "
        "this\nhelp: to generate the lock file without accessing the network, remove the --locked "
        "flag and use --offline instead.\n"
    )
    with pytest.raises(SystemExit) as exit_info:
        build_extension.write_cargo_errors(outdated.encode(), mirror, "src/rust/demo")
    assert exit_info.value.code == build_extension.EXIT_LOCKFILE_OUTDATED
    err = capsys.readouterr().err
    assert "--locked was passed" in err and "remove the --locked flag" not in err
    assert "cargo update --workspace` in src/rust/demo" in err
