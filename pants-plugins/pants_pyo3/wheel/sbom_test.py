# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from textwrap import dedent

from pants_pyo3.wheel.sbom import cyclonedx_sbom

LINUX = "x86_64-unknown-linux-gnu"


def _crate(root: Path, name: str, manifest_tail: str = "", lib: str = "") -> None:
    (root / name / "src").mkdir(parents=True)
    (root / name / "Cargo.toml").write_text(
        dedent(
            f"""\
            [package]
            name = "{name}"
            version = "0.2.0"
            edition = "2021"
            license = "MIT OR Apache-2.0"
            description = "The {name} crate"
            """
        )
        + lib
        + manifest_tail
    )
    (root / name / "src" / "lib.rs").write_text("")


def _workspace(root: Path) -> Path:
    """A crate whose dependencies are path crates of every kind cargo knows (no registry needed)."""
    _crate(
        root,
        "top",
        dedent(
            """\
            [dependencies]
            linked = { path = "../linked" }
            macros = { path = "../macros" }

            [target.'cfg(windows)'.dependencies]
            windows_only = { path = "../windows_only" }

            [build-dependencies]
            build_only = { path = "../build_only" }

            [dev-dependencies]
            dev_only = { path = "../dev_only" }
            """
        ),
        lib='[lib]\ncrate-type = ["cdylib"]\n',
    )
    _crate(root, "linked", '[dependencies]\ndeep = { path = "../deep" }\n')
    _crate(root, "deep")
    # A proc macro runs in the compiler: neither it nor what only it uses is in the module.
    _crate(
        root,
        "macros",
        '[dependencies]\nmacro_helper = { path = "../macro_helper" }\n',
        lib="[lib]\nproc-macro = true\n",
    )
    for name in ("macro_helper", "windows_only", "build_only", "dev_only"):
        _crate(root, name)
    return root / "top"


def _sbom(crate: Path, features: tuple[str, ...] = ()) -> bytes:
    out = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--filter-platform", LINUX],
        cwd=crate,
        capture_output=True,
        check=True,
    )
    lock = (crate / "Cargo.lock").read_text()
    return cyclonedx_sbom(json.loads(out.stdout), lock, LINUX, features)


def test_lists_only_what_is_linked_into_the_module(tmp_path: Path) -> None:
    sbom = json.loads(_sbom(_workspace(tmp_path)))
    assert sbom["bomFormat"] == "CycloneDX" and sbom["specVersion"] == "1.5"
    assert sbom["metadata"]["component"]["name"] == "top"
    assert sbom["metadata"]["component"]["licenses"] == [{"expression": "MIT OR Apache-2.0"}]
    names = [c["name"] for c in sbom["components"]]
    assert names == ["deep", "linked"]
    linked = next(c for c in sbom["components"] if c["name"] == "linked")
    assert linked["purl"] == "pkg:cargo/linked@0.2.0"
    assert linked["version"] == "0.2.0"
    # A path crate has no checksum in Cargo.lock, so no hash is claimed.
    assert "hashes" not in linked
    deps = {d["ref"]: d["dependsOn"] for d in sbom["dependencies"]}
    assert deps["pkg:cargo/top@0.2.0"] == ["pkg:cargo/linked@0.2.0"]
    assert deps["pkg:cargo/linked@0.2.0"] == ["pkg:cargo/deep@0.2.0"]
    assert {p["name"]: p["value"] for p in sbom["metadata"]["properties"]} == {
        "cdx:rustc:sbom:target:triple": LINUX,
        "pants-pyo3:features": "",
    }


def test_same_inputs_same_bytes_wherever_the_crate_is(tmp_path: Path) -> None:
    first = _sbom(_workspace(tmp_path / "a"))
    second = _sbom(_workspace(tmp_path / "elsewhere" / "b"))
    assert first == second
    assert str(tmp_path).encode() not in first
    serial = json.loads(first)["serialNumber"]
    assert serial.startswith("urn:uuid:")
    # The serial number follows the content.
    assert json.loads(_sbom(_workspace(tmp_path / "c"), ("extra",)))["serialNumber"] != serial


def test_checksums_come_from_the_lock_file(tmp_path: Path) -> None:
    crate = _workspace(tmp_path)
    out = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--filter-platform", LINUX],
        cwd=crate,
        capture_output=True,
        check=True,
    )
    metadata = json.loads(out.stdout)
    # Make `linked` a registry crate, as crates from crates.io are, with its checksum in the lock.
    registry = "registry+https://github.com/rust-lang/crates.io-index"
    for package in metadata["packages"]:
        if package["name"] == "linked":
            package["source"] = registry
    lock = (
        (crate / "Cargo.lock")
        .read_text()
        .replace(
            'name = "linked"\nversion = "0.2.0"\n',
            f'name = "linked"\nversion = "0.2.0"\nsource = "{registry}"\n'
            f'checksum = "{"ab" * 32}"\n',
        )
    )
    sbom = json.loads(cyclonedx_sbom(metadata, lock, LINUX, ()))
    linked = next(c for c in sbom["components"] if c["name"] == "linked")
    assert linked["hashes"] == [{"alg": "SHA-256", "content": "ab" * 32}]
