# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""Helpers for end-to-end tests: temporary repos that use this plugin, and real Pants runs in
them."""

from __future__ import annotations

import ast
import base64
import hashlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from textwrap import dedent
from typing import Any, Iterable, Mapping, Sequence

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
    "PANTS_PYO3_CROSS_TOOLCHAINS",
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
# Plain `linux_x86_64` wheels: most tests don't need auditwheel's verdict \
(matrix_integration_test does).
manylinux = "off"
"""


def crate_files(
    path: str,
    *,
    package: str = "demo",
    lib_name: str = "_native",
    pymodule: str = "_native",
    body: str = "fn add(a: i64, b: i64) -> i64 {\n    a + b\n}",
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
            "use pyo3::prelude::*;\n\n" + "\n".join(annotated) + "\n\n"
            "#[pymodule]\n"
            f"fn {pymodule}(m: &Bound<'_, PyModule>) -> PyResult<()> {{\n"
            f"{registrations}\n    Ok(())\n}}\n"
        ),
    }


# A crate's `lib.rs` with an inline `#[pymodule] mod _native` (pyo3 describes those for type stubs):
# a class with methods, functions with defaults and an `Option`.
INLINE_PYMODULE_RS = """\
use pyo3::prelude::*;

#[pymodule]
mod _native {
    use pyo3::prelude::*;

    /// A running total.
    #[pyclass]
    struct Total {
        value: i64,
    }

    #[pymethods]
    impl Total {
        #[new]
        #[pyo3(signature = (start=0))]
        fn new(start: i64) -> Self {
            Total { value: start }
        }

        fn add(&mut self, amount: i64) -> i64 {
            self.value += amount;
            self.value
        }
    }

    #[pyfunction]
    #[pyo3(signature = (a, b=2))]
    fn add(a: i64, b: i64) -> i64 {
        a + b
    }

    #[pyfunction]
    #[pyo3(signature = (name=None))]
    fn greet(name: Option<String>) -> String {
        format!("hello {}", name.unwrap_or_default())
    }
}
"""


def example_cargo_lock(package: str) -> str:
    """The example's `Cargo.lock` (pyo3 =0.29.3; the root BUILD's `example` target puts it in a
    test's sandbox), for a crate named `package` with the same dependencies."""
    lock = Path("src/rust/pp3sum/Cargo.lock").read_text()
    return lock.replace('name = "pp3sum"', f'name = "{package}"')


def inline_module_crate_files(lib_rs: str = INLINE_PYMODULE_RS, *, lock: str | None = None) -> dict:
    """An abi3 crate `src/rust/demo` (library `_native`) with the given `lib.rs` (by default an
    inline `#[pymodule] mod`, which pyo3 describes for generated stubs) and a `Cargo.lock` (by
    default the example's)."""
    return {
        **crate_files("src/rust/demo", pyo3_features='["abi3-py38"]'),
        "src/rust/demo/Cargo.lock": lock if lock is not None else example_cargo_lock("demo"),
        "src/rust/demo/src/lib.rs": lib_rs,
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


def repo_files(*dirs: str) -> dict[str, str]:
    """The files under `dirs` of this repo (in a test sandbox: those its dependencies put there,
    e.g. the root BUILD's `example` target), as {path: text}, to copy into a `TempRepo`."""
    return {
        str(path): path.read_text()
        for d in dirs
        for path in sorted(Path(d).rglob("*"))
        if path.is_file()
    }


@dataclass(frozen=True)
class PantsResult:
    exit_code: int
    stdout: str
    stderr: str

    def assert_success(self) -> "PantsResult":
        assert (
            self.exit_code == 0
        ), f"Pants failed ({self.exit_code}):\n{self.stdout}\n{self.stderr}"
        return self

    def assert_failure(self) -> "PantsResult":
        assert self.exit_code != 0, f"Pants succeeded unexpectedly:\n{self.stdout}\n{self.stderr}"
        return self


class TempRepo:
    """A repo on disk with this plugin installed in-repo, as a user would have it."""

    def __init__(self, root: Path, files: Mapping[str, str], pants_toml: str = PANTS_TOML) -> None:
        self.root = root
        shutil.copytree(
            PLUGIN_DIR,
            root / "pants-plugins" / "pants_pyo3",
            ignore=shutil.ignore_patterns("*_test.py", "__pycache__", "BUILD", "testdata"),
        )
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
            *(
                f"{flag}={value}"
                for flag, value in defaults.items()
                if not any(a.startswith(f"{flag}=") for a in args)
            ),
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
    "--python-interpreter-versions-universe="
    "['3.7', '3.8', '3.9', '3.10', '3.11', '3.12', '3.13', '3.14']",
    # This machine's linker, as the temporary repos' `manylinux = "off"`: a test that wants zig's
    # glibc baseline asks for it.
    "--pyo3-manylinux=auto",
)
RULE_RUNNER_ENV_INHERIT = frozenset({"PATH", "HOME", "PYENV_ROOT", "CARGO_HOME", "RUSTUP_HOME"})


def rule_runner_env() -> dict[str, str]:
    pex_env = (
        "PANTS_PEX_CLI_VERSION",
        "PANTS_PEX_CLI_URL_TEMPLATE",
        "PANTS_PEX_CLI_KNOWN_VERSIONS",
        "PANTS_CA_CERTS_PATH",
    )
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


def emptied_build_root(rule_runner: Any) -> Any:
    """`rule_runner` with its build root and options as a new RuleRunner's: every file a test
    wrote is gone (and the engine told so), only Pants' workdir stays, and no option is set.

    Building a RuleRunner's rule graph takes 10-20 s, most of a typical test's time: a module
    builds one (a module-scoped fixture) and empties its build root before each test instead.
    What the engine memoized stays valid: it is keyed by the files' contents and the options."""
    root = Path(rule_runner.build_root)
    removed = []
    for child in root.iterdir():
        if child.name == ".pants.d":
            continue
        if child.is_dir() and not child.is_symlink():
            removed += [str(p.relative_to(root)) for p in child.rglob("*")]
            shutil.rmtree(child)
        else:
            child.unlink()
        removed.append(child.name)
    if removed:
        rule_runner._invalidate_for(*removed)
    rule_runner.set_options([])
    return rule_runner


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
            for candidate in sorted(
                versions.glob(f"{version}.*/bin/python{version}"), reverse=True
            ):
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


def run_in_fresh_venv(
    venv: Path,
    requirements: Iterable[str],
    argv: Sequence[str],
    *pip_args: str,
    python_version: str = "3.11",
) -> str:
    """Make a venv at `venv` with CPython `python_version`, pip-install `requirements` into it
    (wheel or sdist paths, or names that `pip_args` say where to find) and run `argv`, whose first
    word is a program of the venv: `python`, or a script the requirements installed.

    It runs in `venv`'s parent directory, outside the repo, so what it imports comes from the venv.
    Returns its stdout; fails, with its output, if it fails.
    """
    python = make_venv(find_interpreter(python_version), venv)
    pip_install(python, requirements, *pip_args)
    proc = subprocess.run(
        [str(python.parent / argv[0]), *argv[1:]], cwd=venv.parent, capture_output=True, text=True
    )
    assert proc.returncode == 0, f"{list(argv)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


# Cross builds (docs/cross.md): what `build-support/cross/setup-aarch64.sh` installs, as `./pants`
# passes it on (`PANTS_PYO3_CROSS_TOOLCHAINS`), or else as the script's descriptor file.
AARCH64_LINUX = "aarch64-unknown-linux-gnu"
DEFAULT_CROSS_ROOT = "/opt/pants-pyo3/cross"
_SETUP_HINT = (
    "Run build-support/cross/setup-aarch64.sh (as root) to install it (see docs/cross.md)."
)


def cross_toolchain(triple: str = AARCH64_LINUX) -> Any:
    """This machine's `CrossToolchain` for `triple`, or None if it has none."""
    from pants_pyo3.toolchain.cross import CrossToolchain

    raw = os.environ.get("PANTS_PYO3_CROSS_TOOLCHAINS")
    if raw:
        entry = ast.literal_eval(raw).get(triple)
    else:
        root = os.environ.get("PANTS_PYO3_CROSS_ROOT") or DEFAULT_CROSS_ROOT
        descriptor = Path(root, triple, "toolchain.json")
        entry = json.loads(descriptor.read_text()) if descriptor.is_file() else None
    return CrossToolchain.from_mapping(triple, entry) if entry else None


def emulated_python(triple: str = AARCH64_LINUX, python_version: str = "3.11") -> list[str]:
    """The argv prefix that runs the target's CPython `python_version` here (e.g. under qemu).

    Skips the calling test, with the reason, when this machine can't: no toolchain for `triple`, no
    runner (qemu), or no target CPython in the toolchain's sysroot.
    """
    import pytest
    from pants_pyo3.toolchain.cross import find_target_python

    toolchain = cross_toolchain(triple)
    if toolchain is None:
        pytest.skip(f"No cross toolchain for {triple} on this machine. {_SETUP_HINT}")
    runner = toolchain.runner_argv()
    if not runner or not shutil.which(runner[0]):
        pytest.skip(
            f"No runner for {triple} programs (qemu-user: `{toolchain.runner}`). {_SETUP_HINT}"
        )
    target_python = find_target_python(toolchain.sysroot, python_version, triple)
    if target_python is None or not os.path.isfile(target_python.executable):
        pytest.skip(
            f"No {triple} CPython {python_version} in the sysroot `{toolchain.sysroot}`. "
            f"{_SETUP_HINT}"
        )
    return [*runner, target_python.executable]


def import_wheel_under_emulation(
    wheel: Path | str,
    module: str,
    function: str,
    *args: Any,
    triple: str = AARCH64_LINUX,
    python_version: str = "3.11",
    timeout: int = 120,
) -> str:
    """Unpack `wheel` into a temporary directory, import `module` from it with the target's CPython
    under emulation, and return `repr(module.function(*args))` as printed there.

    Fails if the interpreter doesn't report the triple's machine (so a host module can't pass), and
    skips (see `emulated_python`) if this machine can't run the target's programs.
    """
    argv = emulated_python(triple, python_version)
    machine = triple.split("-")[0]
    with tempfile.TemporaryDirectory(prefix="pyo3-emulated-") as tmp:
        with zipfile.ZipFile(wheel) as zf:
            zf.extractall(tmp)
        code = (
            f"import importlib, platform, sys; sys.path.insert(0, {tmp!r}); "
            f"m = importlib.import_module({module!r}); "
            f"print(platform.machine()); print(m.__file__); print(repr(m.{function}(*{args!r})))"
        )
        # `-I`: nothing from this (host) environment reaches the target interpreter's sys.path.
        proc = subprocess.run(
            [*argv, "-I", "-c", code],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8"},
        )
    assert proc.returncode == 0, (
        f"Importing {module} from {wheel} under `{' '.join(argv)}` failed ({proc.returncode}):\n"
        f"{proc.stdout}\n{proc.stderr}"
    )
    seen_machine, module_file, result = proc.stdout.strip().splitlines()[-3:]
    assert seen_machine == machine, f"Expected a {machine} interpreter, got {seen_machine}."
    assert module_file.startswith(tmp), f"{module} came from {module_file}, not from the wheel."
    return result


def write_wheel(
    out_dir: Path, name: str, version: str, tag: str, files: Mapping[str, bytes]
) -> Path:
    """A minimal wheel (METADATA, WHEEL, RECORD) holding `files`, for tests that build modules by
    hand."""
    dist_info = f"{name}-{version}.dist-info"
    contents = dict(files)
    contents[
        f"{dist_info}/METADATA"
    ] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    contents[f"{dist_info}/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: pants-pyo3-testutil\nRoot-Is-Purelib: false\nTag: {tag}\n"
    ).encode()
    record = []
    for path, data in contents.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{dist_info}/RECORD,,")
    contents[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel = out_dir / f"{name}-{version}-{tag}.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, data in contents.items():
            zf.writestr(path, data)
    return wheel
