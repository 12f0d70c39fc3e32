# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

from __future__ import annotations

import inspect
import os
from dataclasses import replace
from pathlib import Path
from textwrap import dedent

from pants_pyo3.sandbox import build_extension
from pants_pyo3.sandbox.run_cargo import (
    CargoCommandConfig,
    argv_for,
    buildroot_paths,
    relint_if_clippy_config_changed,
)


def test_buildroot_paths_prefix_crate_relative_paths_and_strip_the_mirror(tmp_path: Path) -> None:
    mirror = tmp_path / "src"
    (mirror / "src/rust/demo/src").mkdir(parents=True)
    (mirror / "src/rust/demo/src/lib.rs").write_text("")
    output = dedent(
        f"""\
        warning: unneeded `return` statement
          --> src/lib.rs:4:5
        thread 'tests::adds' panicked at src/lib.rs:9:9:
           Compiling demo v0.1.0 ({mirror}/src/rust/demo)
          --> /pyo3/src/src/rust/demo/src/lib.rs:1:1
          --> /pyo3/cargo/registry/src/pyo3-0.29.3/src/lib.rs:1:1
          --> src/missing.rs:1:1
        """
    )
    assert buildroot_paths(output, str(mirror), "src/rust/demo") == dedent(
        """\
        warning: unneeded `return` statement
          --> src/rust/demo/src/lib.rs:4:5
        thread 'tests::adds' panicked at src/rust/demo/src/lib.rs:9:9:
           Compiling demo v0.1.0 (src/rust/demo)
          --> src/rust/demo/src/lib.rs:1:1
          --> /pyo3/cargo/registry/src/pyo3-0.29.3/src/lib.rs:1:1
          --> src/missing.rs:1:1
        """
    )


def _config(**fields) -> CargoCommandConfig:
    defaults = dict(
        mode="clippy",
        args=[],
        deny_warnings=False,
        crate_dir="src/rust/demo",
        files=[],
        cargo="cargo",
        target_triple="x86_64-unknown-linux-gnu",
        abi_tag="cpython-311-x86_64-linux-gnu",
        cache_dir=".cache",
    )
    return CargoCommandConfig(**{**defaults, **fields})


def test_argv_for_clippy_denies_warnings_after_cargo_args() -> None:
    cfg = _config(
        mode="clippy",
        files=["src/rust/demo/Cargo.lock"],
        args=["--features", "fast"],
        deny_warnings=True,
    )
    assert argv_for(cfg, "/m/Cargo.toml", "src/rust/demo") == [
        "cargo",
        "clippy",
        "--manifest-path",
        "/m/Cargo.toml",
        "--target",
        "x86_64-unknown-linux-gnu",
        "--locked",
        "--all-targets",
        "--features",
        "fast",
        "--",
        "-D",
        "warnings",
    ]
    assert argv_for(replace(cfg, mode="test", files=[]), "/m/Cargo.toml", None) == [
        "cargo",
        "test",
        "--manifest-path",
        "/m/Cargo.toml",
        "--target",
        "x86_64-unknown-linux-gnu",
        "--features",
        "fast",
    ]
    with_clippy_args = replace(cfg, args=["--", "-W", "clippy::pedantic"])
    assert argv_for(with_clippy_args, "/m/Cargo.toml", "src/rust/demo")[-6:] == [
        "--all-targets",
        "--",
        "-W",
        "clippy::pedantic",
        "-D",
        "warnings",
    ]


def test_a_changed_clippy_config_touches_the_crate_in_the_mirror(
    tmp_path: Path, monkeypatch
) -> None:
    sandbox, cache = tmp_path / "sandbox", tmp_path / "cache"
    mirror = cache / "src"
    for root in (sandbox, mirror):
        (root / "src/rust/demo/src").mkdir(parents=True)
        (root / "src/rust/demo/src/lib.rs").write_text("")
    monkeypatch.chdir(sandbox)
    lib_rs = mirror / "src/rust/demo/src/lib.rs"
    cfg = _config(files=["src/rust/demo/src/lib.rs"])

    def mtime_after(files: dict[str, str]) -> int:
        for name, text in files.items():
            (sandbox / "src/rust/demo" / name).write_text(text)
        os.utime(lib_rs, ns=(1, 1))
        config = [f"src/rust/demo/{name}" for name in files]
        relint_if_clippy_config_changed(
            replace(cfg, files=cfg.files + config), str(cache), str(mirror)
        )
        return lib_rs.stat().st_mtime_ns

    assert mtime_after({}) == 1  # The first run only records the configuration.
    assert mtime_after({}) == 1
    assert mtime_after({"clippy.toml": "too-many-arguments-threshold = 3\n"}) != 1
    assert mtime_after({"clippy.toml": "too-many-arguments-threshold = 3\n"}) == 1
    assert mtime_after({"clippy.toml": "too-many-arguments-threshold = 4\n"}) != 1


def test_the_build_driver_uses_the_shared_helpers() -> None:
    # `cargo test`/clippy must use the build's mirror, lock and remaps: the build's `main` takes
    # them from the same helpers, so the two can't drift apart.
    source = inspect.getsource(build_extension.main)
    for helper in (
        "prepared_cache(cfg.cache_dir, key)",
        "cargo_env(layout)",
        "write_rustc_wrapper(cache, key)",
        "mirror_synced(",
        "target_dir_locked(cache, key)",
    ):
        assert helper in source, helper
    assert "path_remaps(cache, key)" in inspect.getsource(build_extension.write_rustc_wrapper)
    key = build_extension.target_key("x86_64-unknown-linux-gnu", "cpython-311-x86_64-linux-gnu")
    assert [r.split("=", 2)[2] for r in build_extension.path_remaps("/c", key)] == [
        "/pyo3/src",
        "/pyo3/cargo",
        "/pyo3/target",
    ]
    assert sorted(build_extension.cache_layout("/c", key).values()) == [
        "/c/cargo-home",
        # One mirror per build root (see `build_extension.mirror_dir`).
        build_extension.mirror_dir("/c"),
        "/c/targets/x86_64-unknown-linux-gnu/cpython-311-x86_64-linux-gnu",
        "/c/wrappers/x86_64-unknown-linux-gnu/cpython-311-x86_64-linux-gnu/rustc-wrapper",
    ]
