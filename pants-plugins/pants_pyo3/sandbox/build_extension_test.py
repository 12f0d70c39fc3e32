# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""The build driver's cache helpers: target directories per ABI, their seeding, and the locks."""

from __future__ import annotations

import fcntl
import os
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
    mirror = cache / "src"
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
        with open(cache / build_extension.MIRROR_LOCK) as other:
            # Another build of the same sources gets in...
            fcntl.flock(other, fcntl.LOCK_SH | fcntl.LOCK_NB)
            fcntl.flock(other, fcntl.LOCK_UN)
            # ... one that must change the mirror can't while this build reads it.
            with pytest.raises(BlockingIOError):
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    with build_extension.mirror_synced(str(cache), files, "crate", exclusive=True):
        with open(cache / build_extension.MIRROR_LOCK) as other, pytest.raises(BlockingIOError):
            fcntl.flock(other, fcntl.LOCK_SH | fcntl.LOCK_NB)


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
