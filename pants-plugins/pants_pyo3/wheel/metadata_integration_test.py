# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""End to end: a wheel's license metadata (PEP 639) and SBOM (PEP 770), checked by PyPI's tools."""

from __future__ import annotations

import hashlib
import json
import subprocess
import zipfile
from pathlib import Path

import pytest
from pants_pyo3.testutil import (
    PYO3_REQUIREMENT,
    TempRepo,
    find_interpreter,
    make_venv,
    package_files,
    pip_install,
    shared_named_caches_arg,
)

# The checkers, pinned (twine and packaging as in the repo's lockfile). twine >= 6.1 reads
# Metadata-Version 2.4; Pants 2.17's own (4.0.2, with pkginfo 1.9.6) doesn't (see
# docs/wheel-metadata.md).
CHECKERS = ("cyclonedx-python-lib[json-validation]==11.12.0", "twine==6.1.0", "packaging==26.2")
MIT = "MIT License\n\nCopyright (c) 2026 demo\n"
APACHE_NOTICE = "demo\nCopyright 2026 demo contributors\n"
DIST_INFO = "demo-0.1.0.dist-info"
ARTIFACT = 'python_artifact(name="demo", version="0.1.0")'
# A description, so `twine check --strict` has nothing to warn about.
DESCRIBED = (
    'python_artifact(name="demo", version="0.1.0", long_description="A demo.", '
    'long_description_content_type="text/plain"'
)


def _files(license: str = "MIT OR Apache-2.0") -> dict[str, str]:
    files = package_files("demo")
    files["src/rust/demo/Cargo.toml"] = files["src/rust/demo/Cargo.toml"].replace(
        'edition = "2021"\n', f'edition = "2021"\nlicense = "{license}"\n'
    )
    files["src/rust/demo/LICENSE-MIT"] = MIT
    files["src/python/demo/NOTICE"] = APACHE_NOTICE
    files["src/python/demo/BUILD"] = files["src/python/demo/BUILD"].replace(
        ARTIFACT, DESCRIBED + ")"
    )
    return files


def _package(repo: TempRepo) -> Path:
    repo.pants(shared_named_caches_arg(), "package", "src/python/demo:dist").assert_success()
    (wheel,) = (repo.root / "dist").glob("demo-0.1.0-*.whl")
    return wheel


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _package(TempRepo(tmp_path_factory.mktemp("repo"), _files()))


@pytest.fixture(scope="module")
def checkers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    python = make_venv(find_interpreter("3.11"), tmp_path_factory.mktemp("checkers") / "venv")
    pip_install(python, CHECKERS)
    return python


def test_wheel_carries_licenses_and_sbom(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        metadata = zf.read(f"{DIST_INFO}/METADATA").decode()
        record = zf.read(f"{DIST_INFO}/RECORD").decode()
        assert zf.read(f"{DIST_INFO}/licenses/src/rust/demo/LICENSE-MIT").decode() == MIT
        assert zf.read(f"{DIST_INFO}/licenses/NOTICE").decode() == APACHE_NOTICE
    for name in (
        f"{DIST_INFO}/licenses/NOTICE",
        f"{DIST_INFO}/licenses/src/rust/demo/LICENSE-MIT",
        f"{DIST_INFO}/sboms/demo.cyclonedx.json",
    ):
        assert name in names
        assert f"\n{name},sha256=" in record
    headers = metadata.partition("\n\n")[0].splitlines()
    assert "Metadata-Version: 2.4" in headers
    # No python_artifact(license=...): the crate's `license`, canonical.
    assert "License-Expression: MIT OR Apache-2.0" in headers
    assert [h for h in headers if h.startswith("License-File:")] == [
        "License-File: NOTICE",
        "License-File: src/rust/demo/LICENSE-MIT",
    ]
    assert not any(h.startswith("License:") for h in headers)


def test_sbom_validates_and_names_pyo3(wheel: Path, checkers: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        sbom = zf.read(f"{DIST_INFO}/sboms/demo.cyclonedx.json")
    (tmp_path / "sbom.json").write_bytes(sbom)
    validate = (
        "import sys\n"
        "from cyclonedx.schema import SchemaVersion\n"
        "from cyclonedx.validation.json import JsonStrictValidator\n"
        "error = JsonStrictValidator(SchemaVersion.V1_5).validate_str(open(sys.argv[1]).read())\n"
        "print(error or 'valid')\n"
    )
    out = subprocess.run(
        [str(checkers), "-c", validate, str(tmp_path / "sbom.json")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "valid"
    document = json.loads(sbom)
    components = {c["name"]: c for c in document["components"]}
    version = PYO3_REQUIREMENT.strip('"=')
    pyo3 = components["pyo3"]
    assert pyo3["version"] == version
    assert pyo3["purl"] == f"pkg:cargo/pyo3@{version}"
    assert pyo3["licenses"] == [{"expression": "MIT OR Apache-2.0"}]
    # The checksum is Cargo.lock's: the SHA-256 of the crate cargo downloaded.
    named_caches = shared_named_caches_arg().split("=", 1)[1]
    (crate,) = Path(named_caches, "pants_pyo_cargo/cargo-home/registry/cache").glob(
        f"*/pyo3-{version}.crate"
    )
    assert pyo3["hashes"] == [
        {"alg": "SHA-256", "content": hashlib.sha256(crate.read_bytes()).hexdigest()}
    ]
    # Linked into the module: pyo3's runtime crates; not its proc macros or build scripts' crates.
    assert {"pyo3-ffi", "libc"} <= set(components)
    assert not {"pyo3-macros", "pyo3-macros-backend", "syn", "pyo3-build-config"} & set(components)
    assert document["metadata"]["component"]["name"] == "demo"


def test_twine_check_passes(wheel: Path, checkers: Path) -> None:
    twine = checkers.parent / "twine"
    out = subprocess.run(
        [str(twine), "check", "--strict", str(wheel)], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "PASSED" in out.stdout


def test_same_inputs_give_the_same_wheel_elsewhere(wheel: Path, tmp_path: Path) -> None:
    other = _package(TempRepo(tmp_path / "somewhere" / "else", _files()))
    assert other.name == wheel.name
    assert other.read_bytes() == wheel.read_bytes()


def test_a_license_that_is_not_spdx_is_a_named_error(tmp_path: Path) -> None:
    files = _files(license="MIT/Apache-2.0")
    repo = TempRepo(tmp_path, files)
    result = repo.pants(shared_named_caches_arg(), "package", "src/python/demo:dist")
    result.assert_failure()
    assert "Pyo3LicenseError" in result.stderr
    assert "src/rust/demo/Cargo.toml" in result.stderr and "MIT/Apache-2.0" in result.stderr
    assert not list((repo.root / "dist").glob("*.whl"))
    # python_artifact(license=...) wins over the crate's, and is checked too.
    build = files["src/python/demo/BUILD"].replace(
        DESCRIBED, DESCRIBED + ', license="Apache License 2.0"'
    )
    repo.write({"src/python/demo/BUILD": build})
    result = repo.pants(shared_named_caches_arg(), "package", "src/python/demo:dist")
    result.assert_failure()
    assert "Pyo3LicenseError" in result.stderr and "'Apache License 2.0'" in result.stderr
    repo.write({"src/python/demo/BUILD": build.replace("Apache License 2.0", "apache-2.0")})
    wheel = _package(repo)
    with zipfile.ZipFile(wheel) as zf:
        metadata = zf.read(f"{DIST_INFO}/METADATA").decode()
    assert "License-Expression: Apache-2.0\n" in metadata
