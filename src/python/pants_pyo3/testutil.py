# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""Helpers for end-to-end tests: temporary repos that use this plugin, and real Pants runs in them."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from textwrap import dedent
from typing import Any, Iterable, Mapping

logger = logging.getLogger(__name__)

PLUGIN_DIR = Path(__file__).resolve().parent

# What `./pants` detected on this machine, passed to the tests through `[test].extra_env_vars`.
_PASSTHROUGH_ENV = (
    "PATH",
    "HOME",
    "PYENV_ROOT",
    "CARGO_HOME",
    "RUSTUP_HOME",
    "PANTS_PEX_CLI_VERSION",
    "PANTS_PEX_CLI_URL_TEMPLATE",
    "PANTS_PEX_CLI_KNOWN_VERSIONS",
    "PANTS_CA_CERTS_PATH",
    "PIP_CERT",
)

PYO3_REQUIREMENT = '"=0.29.3"'

PANTS_TOML = """\
[GLOBAL]
pants_version = "2.17.1"
pythonpath = ["%(buildroot)s/pants-plugins"]
backend_packages = ["pants.backend.python", "pants.backend.experimental.python", "pants_pyo3"]
ignore_warnings = ["DEPRECATED: Running Pants in an external Python interpreter"]

[source]
root_patterns = ["/src/python", "/src/rust"]

[python]
interpreter_constraints = ["CPython==3.11.*"]

[python-infer]
use_rust_parser = true

[python-bootstrap]
search_path = ["<PYENV>", "<PATH>"]

[subprocess-environment]
env_vars = ["PIP_CONFIG_FILE=/dev/null", "PIP_CERT"]

[anonymous-telemetry]
enabled = false

[pyo3]
# Plain `linux_x86_64` wheels: most tests don't need auditwheel's verdict (matrix_integration_test does).
manylinux = "off"
"""


def crate_files(
    path: str,
    *,
    package: str = "demo",
    lib_name: str = "_native",
    pymodule: str = "_native",
    body: str = 'fn add(a: i64, b: i64) -> i64 {\n    a + b\n}',
    crate_type: str = '["cdylib"]',
    features: str = "",
    pyo3_features: str = '["extension-module"]',
) -> dict[str, str]:
    """A small PyO3 crate at `path` whose `#[pymodule]` exports `add` (or the given `body`)."""
    functions = []
    annotated = []
    for line in body.splitlines():
        if line.startswith("fn "):
            functions.append(line[3:].split("(", 1)[0])
            annotated.append("#[pyfunction]")
        annotated.append(line)
    registrations = "\n".join(f"    m.add_function(wrap_pyfunction!({f}, m)?)?;" for f in functions)
    return {
        f"{path}/BUILD": "cargo_crate()\n",
        f"{path}/Cargo.toml": dedent(
            f"""\
            [package]
            name = "{package}"
            version = "0.1.0"
            edition = "2021"

            [lib]
            name = "{lib_name}"
            crate-type = {crate_type}

            [dependencies]
            pyo3 = {{ version = {PYO3_REQUIREMENT}, features = {pyo3_features} }}
            {features}
            """
        ),
        f"{path}/src/lib.rs": (
            "use pyo3::prelude::*;\n\n"
            + "\n".join(annotated)
            + "\n\n"
            "#[pymodule]\n"
            f"fn {pymodule}(m: &Bound<'_, PyModule>) -> PyResult<()> {{\n{registrations}\n    Ok(())\n}}\n"
        ),
    }


def package_files(
    name: str,
    *,
    init: str | None = None,
    body: str = "fn add(a: i64, b: i64) -> i64 {\n    a + b\n}",
    dist_dependencies: Iterable[str] = (),
    extra_build: str = "",
    dist_fields: str = "",
) -> dict[str, str]:
    """A PyO3 crate `src/rust/<name>` and a Python package `src/python/<name>` whose `_native`
    module it builds, with a wheel-only `python_distribution(name="dist")`."""
    deps = ", ".join(f'"{d}"' for d in (f":{name}", *dist_dependencies))
    build = (
        "python_sources()\n"
        f'pyo3_extension(name="native", crate="src/rust/{name}", module_name="{name}._native")\n'
        "python_distribution(\n"
        '    name="dist",\n'
        f"    dependencies=[{deps}],\n"
        f'    provides=python_artifact(name="{name}", version="0.1.0"),\n'
        f"    sdist=False,{dist_fields}\n"
        ")\n"
    )
    return {
        **crate_files(f"src/rust/{name}", package=name, body=body),
        f"src/python/{name}/__init__.py": init or f"from {name}._native import add\n",
        f"src/python/{name}/BUILD": build + extra_build,
    }


@dataclass(frozen=True)
class PantsResult:
    exit_code: int
    stdout: str
    stderr: str

    def assert_success(self) -> "PantsResult":
        assert self.exit_code == 0, f"Pants failed ({self.exit_code}):\n{self.stdout}\n{self.stderr}"
        return self

    def assert_failure(self) -> "PantsResult":
        assert self.exit_code != 0, f"Pants succeeded unexpectedly:\n{self.stdout}\n{self.stderr}"
        return self


class TempRepo:
    """A repo on disk with this plugin installed in-repo, as a user would have it."""

    def __init__(self, root: Path, files: Mapping[str, str], pants_toml: str = PANTS_TOML) -> None:
        self.root = root
        shutil.copytree(PLUGIN_DIR, root / "pants-plugins" / "pants_pyo3", ignore=shutil.ignore_patterns("*_test.py", "__pycache__", "BUILD"))
        self.write({"pants.toml": pants_toml, **files})

    def write(self, files: Mapping[str, str]) -> None:
        for rel, content in files.items():
            path = self.root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)

    def pants(
        self,
        *args: str,
        extra_env: Mapping[str, str] | None = None,
        timeout: int = 900,
        pantsd: bool = False,
    ) -> PantsResult:
        proc = subprocess.run(
            self.pants_argv(*args, pantsd=pantsd),
            cwd=self.root,
            env=self.pants_env(extra_env),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return PantsResult(proc.returncode, proc.stdout, proc.stderr)

    def pants_env(self, extra_env: Mapping[str, str] | None = None) -> dict[str, str]:
        env = {k: os.environ[k] for k in _PASSTHROUGH_ENV if k in os.environ}
        env.update(
            LC_ALL="C.UTF-8",
            PIP_CONFIG_FILE="/dev/null",
            PYTHONPATH=os.pathsep.join(sys.path),
            NO_SCIE_WARNING="1",
            **(extra_env or {}),
        )
        return env

    def pants_argv(self, *args: str, pantsd: bool = False) -> list[str]:
        # Keep this run's workdir and process cache inside the temp repo (unless the test picks its
        # own), so tests neither share state nor get answers cached by an earlier run of the suite.
        # cargo's named cache is shared, so builds stay incremental.
        defaults = {
            "--pants-workdir": self.root / ".pants.d",
            "--local-store-dir": self.root / ".pants.store",
        }
        return [
            sys.executable,
            "-m",
            "pants",
            *(["--pantsd"] if pantsd else ["--no-pantsd", "--no-watch-filesystem"]),
            "--no-dynamic-ui",
            *(f"{flag}={value}" for flag, value in defaults.items() if not any(a.startswith(f"{flag}=") for a in args)),
            *args,
        ]

    def stop_pantsd(self) -> None:
        for pid_file in self.root.glob(".pids/*/pantsd/pid"):
            try:
                os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
            except (ValueError, ProcessLookupError):
                pass


# What RuleRunner tests pass to the engine: this machine's pex tool and CA bundle (as options), and
# the global interpreter constraints through the environment (a flag would override targets' own).
RULE_RUNNER_GLOBAL_ARGS = (
    "--source-root-patterns=['/src/python', '/src/rust']",
    "--python-bootstrap-search-path=['<PYENV>', '<PATH>']",
    # 3.14 (not installed here) for the missing-interpreter error.
    "--python-interpreter-versions-universe=['3.7', '3.8', '3.9', '3.10', '3.11', '3.12', '3.13', '3.14']",
)
RULE_RUNNER_ENV_INHERIT = frozenset({"PATH", "HOME", "PYENV_ROOT", "CARGO_HOME", "RUSTUP_HOME"})


def rule_runner_env() -> dict[str, str]:
    pex_env = ("PANTS_PEX_CLI_VERSION", "PANTS_PEX_CLI_URL_TEMPLATE", "PANTS_PEX_CLI_KNOWN_VERSIONS", "PANTS_CA_CERTS_PATH")
    return {
        "PANTS_PYTHON_INTERPRETER_CONSTRAINTS": "['CPython==3.11.*']",
        **{k: os.environ[k] for k in pex_env if k in os.environ},
    }


def shared_named_caches_arg() -> str:
    """Share cargo's registry and target dir with every other build on this machine."""
    return f"--named-caches-dir={os.environ['HOME']}/.cache/pants/named_caches"


def plugin_rule_runner(*extra_rules: Any) -> Any:
    """A RuleRunner with Pants' core and Python backends and this plugin."""
    from pants.backend.python import register as python_register
    from pants.core import register as core_register
    from pants.engine.internals.parametrize import Parametrize
    from pants.testutil.rule_runner import RuleRunner

    from pants_pyo3 import register

    return RuleRunner(
        rules=[*core_register.rules(), *python_register.rules(), *register.rules(), *extra_rules],
        target_types=[
            *core_register.target_types(),
            *python_register.target_types(),
            *register.target_types(),
        ],
        objects={"parametrize": Parametrize, **python_register.build_file_aliases().objects},
    )


def stop_process(proc: subprocess.Popen, timeout: float) -> None:
    """Terminate a server a fixture started, and kill it if it doesn't stop in time."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def find_interpreter(version: str) -> str:
    """The path of an installed CPython `version` (e.g. "3.11"), searched on pyenv and PATH."""
    roots = [os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")]
    for root in roots:
        versions = Path(root, "versions")
        if versions.is_dir():
            for candidate in sorted(versions.glob(f"{version}.*/bin/python{version}"), reverse=True):
                return str(candidate)
    found = shutil.which(f"python{version}")
    if found:
        return found
    raise AssertionError(f"No CPython {version} on this machine (pyenv or PATH).")


def make_venv(python: str, path: Path) -> Path:
    subprocess.run([python, "-m", "venv", str(path)], check=True)
    return path / "bin" / "python"


def pip_install(venv_python: Path, requirements: Iterable[str], *extra: str) -> None:
    subprocess.run(
        [str(venv_python), "-m", "pip", "install", "--quiet", "--no-input", *extra, *requirements],
        check=True,
        env={**os.environ, "PIP_CONFIG_FILE": "/dev/null"},
    )
