# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""End to end: `pants publish` uploads every package of a PyO3 `python_distribution` to a real
index.

The index is a pypiserver on loopback that takes uploads only with a password (htpasswd). One repo
and one index serve the whole module, and the tests run in order: package, publish, install back
from the index, publish again (rejected, then skipped), publish with a wrong password. Every Pants
run that sees a password is checked for leaking it.
"""

from __future__ import annotations

import hashlib
import logging
import mmap
import os
import re
import secrets
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from textwrap import dedent
from typing import Iterator

import pytest
from pants_pyo3.testutil import (
    PANTS_TOML,
    PantsResult,
    TempRepo,
    find_interpreter,
    make_venv,
    package_files,
    pip_install,
    run_in_fresh_venv,
    stop_process,
)

logger = logging.getLogger(__name__)

# pypiserver checks htpasswd files with passlib. The hash is `sha256_crypt`, which passlib verifies
# without `bcrypt` (whose 4.1+ releases break passlib 1.7.4).
PYPISERVER_REQUIREMENTS = ("pypiserver==2.4.2", "passlib==1.7.4")
USERNAME = "uploader"

# The same `[twine]` setup as this repo's own pants.toml.
TWINE_TOML = dedent(
    """\

    [twine]
    config = ".pypirc"
    args = ["--verbose"]
    """
)

# `adder` is a PyO3 package (wheel only) that requires `addertools`, a pure-Python one (sdist and
# wheel).
REPO_FILES = {
    **package_files(
        "adder",
        init="from adder._native import add\nfrom addertools import double\n",
        dist_dependencies=["src/python/addertools"],
        dist_fields='\n    repositories=["@local"],',
    ),
    "src/python/addertools/__init__.py": "def double(x):\n    return 2 * x\n",
    "src/python/addertools/BUILD": dedent(
        """\
        python_sources()

        python_distribution(
            name="dist",
            dependencies=[":addertools"],
            provides=python_artifact(name="addertools", version="0.1.0"),
            repositories=["@local"],
        )
        """
    ),
}
EXPECTED_PACKAGES = {
    "adder-0.1.0-cp311-cp311-linux_x86_64.whl",
    "addertools-0.1.0-py3-none-any.whl",
    "addertools-0.1.0.tar.gz",
}


@dataclass(frozen=True)
class Index:
    url: str
    packages: Path
    password: str = field(repr=False)
    log: Path

    @property
    def simple_url(self) -> str:
        return f"{self.url}simple/"

    def credentials(self, password: str | None = None) -> dict[str, str]:
        # Per-repository variables, the way a CI job would set them for `@local`.
        return {"TWINE_USERNAME_LOCAL": USERNAME, "TWINE_PASSWORD_LOCAL": password or self.password}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, server: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"pypiserver exited ({server.returncode}):\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.3)
    raise AssertionError(
        f"pypiserver did not answer on {url} within {timeout} s:\n{log.read_text()}"
    )


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Index]:
    root = tmp_path_factory.mktemp("index")
    venv_python = make_venv(find_interpreter("3.11"), root / "venv")
    pip_install(venv_python, PYPISERVER_REQUIREMENTS)
    password = secrets.token_urlsafe(18)
    # The password goes through stdin, not argv.
    subprocess.run(
        [
            str(venv_python),
            "-c",
            "import sys; from passlib.hash import sha256_crypt; "
            f"print('{USERNAME}:' + sha256_crypt.using(rounds=5000).hash(sys.stdin.read()))",
        ],
        input=password,
        stdout=(root / "htpasswd").open("w"),
        check=True,
        text=True,
    )
    packages = root / "packages"
    packages.mkdir()
    port = _free_port()
    log = root / "pypiserver.log"
    with log.open("w") as log_file:
        server = subprocess.Popen(
            [
                str(venv_python.parent / "pypi-server"),
                "run",
                "--interface=127.0.0.1",
                f"--port={port}",
                f"--passwords={root / 'htpasswd'}",
                "--authenticate=update",
                "--disable-fallback",
                str(packages),
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}/"
        _wait_until_up(f"{url}simple/", server, log)
        yield Index(url=url, packages=packages, password=password, log=log)
    finally:
        stop_process(server, timeout=10)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory, index: Index) -> TempRepo:
    pypirc = dedent(
        f"""\
        [distutils]
        index-servers =
            local

        [local]
        repository = {index.url}
        """
    )
    files = {**REPO_FILES, ".pypirc": pypirc}
    return TempRepo(tmp_path_factory.mktemp("repo"), files, pants_toml=PANTS_TOML + TWINE_TOML)


_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def output(result: PantsResult) -> str:
    """Everything a run printed (twine writes to stdout, Pants to stderr), as plain one-line text:
    twine's console colours and wraps its messages at 80 columns."""
    return " ".join(_ANSI_ESCAPE.sub("", result.stdout + "\n" + result.stderr).split())


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _digests(directory: Path) -> dict[str, str]:
    return {p.name: _sha256(p) for p in directory.iterdir() if p.is_file()}


def _files_containing(root: Path, needle: str) -> list[Path]:
    data = needle.encode()
    found = []
    for path in root.rglob("*"):
        if path.is_file() and path.stat().st_size:
            with path.open("rb") as f, mmap.mmap(
                f.fileno(), 0, access=mmap.ACCESS_READ
            ) as contents:
                if contents.find(data) != -1:
                    found.append(path)
    return found


def assert_no_leak(repo: TempRepo, result: PantsResult, *secrets_: str) -> None:
    # Report where a password leaked, never the password itself (pytest would print compared
    # strings).
    for secret in secrets_:
        printed = [
            name
            for name, text in [
                ("stdout", result.stdout),
                ("stderr", result.stderr),
                ("output", output(result)),
            ]
            if secret in text
        ]
        assert not printed, "A password was printed by Pants."
        written = _files_containing(repo.root / ".pants.d", secret)
        assert not written, "A password was written to Pants' logs."


@pytest.fixture(scope="module")
def packaged(repo: TempRepo) -> dict[str, str]:
    repo.pants("package", "::").assert_success()
    digests = _digests(repo.root / "dist")
    assert set(digests) == EXPECTED_PACKAGES
    return digests


@pytest.fixture(scope="module")
def published(repo: TempRepo, index: Index, packaged: dict[str, str]) -> PantsResult:
    # `-ldebug` makes Pants log the upload processes with their environment (see publish.py).
    return repo.pants("-ldebug", "publish", "::", extra_env=index.credentials())


def test_publish_uploads_every_package(
    repo: TempRepo, index: Index, packaged: dict[str, str], published: PantsResult
) -> None:
    published.assert_success()
    for name in EXPECTED_PACKAGES:
        assert f"{name} published to @local." in output(published)
    # The index holds exactly what `pants package` wrote, byte for byte.
    assert _digests(index.packages) == packaged
    assert_no_leak(repo, published, index.password)
    # The debug record that used to carry the password was logged, without it.
    assert "'TWINE_PASSWORD': '<redacted>'" in output(published)
    # Nor is it part of anything Pants cached: the upload runs as an (uncached) interactive process.
    store = Path(os.environ["HOME"], ".cache", "pants", "lmdb_store")
    assert not _files_containing(
        store, index.password
    ), "A password was written to Pants' local store."


def test_install_from_index(
    tmp_path: Path, index: Index, packaged: dict[str, str], published: PantsResult
) -> None:
    published.assert_success()
    # Only the loopback index, so `addertools` (which `adder` requires) comes from there too.
    from_index = ("--no-cache-dir", f"--index-url={index.simple_url}")
    out = run_in_fresh_venv(
        tmp_path / "venv",
        ["adder==0.1.0"],
        ["python", "-c", "import adder; print(adder.add(2, 3), adder.double(21))"],
        *from_index,
    )
    assert out.split() == ["5", "42"]
    # The index serves the very wheel Pants built.
    download = tmp_path / "download"
    subprocess.run(
        [
            str(tmp_path / "venv" / "bin" / "python"),
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            *from_index,
            f"--dest={download}",
            "adder",
        ],
        check=True,
        env={**os.environ, "PIP_CONFIG_FILE": "/dev/null"},
    )
    wheel = "adder-0.1.0-cp311-cp311-linux_x86_64.whl"
    assert _digests(download) == {wheel: packaged[wheel]}


def test_republish_is_rejected(
    repo: TempRepo, index: Index, packaged: dict[str, str], published: PantsResult
) -> None:
    published.assert_success()
    result = repo.pants(
        "publish", "src/python/adder:dist", extra_env=index.credentials()
    ).assert_failure()
    assert "400 Bad Request" in output(result)
    # What pypiserver answered, shown because twine runs with `--verbose`.
    assert "adder-0.1.0-cp311-cp311-linux_x86_64.whl&#039; already exists" in output(result)
    assert "adder-0.1.0-cp311-cp311-linux_x86_64.whl failed for @local." in output(result)
    assert _digests(index.packages) == packaged
    assert_no_leak(repo, result, index.password)


def test_republish_with_skip_existing(
    repo: TempRepo, index: Index, packaged: dict[str, str], published: PantsResult
) -> None:
    published.assert_success()
    result = repo.pants(
        "publish", "--twine-args=--skip-existing", "::", extra_env=index.credentials()
    ).assert_success()
    skipped = (
        "Skipping adder-0.1.0-cp311-cp311-linux_x86_64.whl because it appears to already exist"
    )
    assert skipped in output(result)
    for name in EXPECTED_PACKAGES:
        assert f"{name} published to @local." in output(result)
    assert _digests(index.packages) == packaged
    assert_no_leak(repo, result, index.password)


def test_wrong_password(repo: TempRepo, index: Index, packaged: dict[str, str]) -> None:
    wrong = secrets.token_urlsafe(18)
    result = repo.pants(
        "-ldebug", "publish", "src/python/adder:dist", extra_env=index.credentials(password=wrong)
    ).assert_failure()
    assert f"403 Forbidden from {index.url}" in output(result)
    assert "adder-0.1.0-cp311-cp311-linux_x86_64.whl failed for @local." in output(result)
    assert_no_leak(repo, result, wrong, index.password)
