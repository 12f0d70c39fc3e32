# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from textwrap import dedent

import pytest
from pants.backend.python.util_rules.interpreter_constraints import InterpreterConstraints
from pants.engine.addresses import Address, Addresses
from pants.engine.internals.scheduler import ExecutionError
from pants.engine.target import Dependencies, DependenciesRequest, InvalidFieldException
from pants.testutil.rule_runner import QueryRule, RuleRunner, engine_error
from pants_pyo3.build.extension import BuiltPyo3Extensions
from pants_pyo3.build.plan import (
    Pyo3ExtensionBuildPlan,
    Pyo3ExtensionBuildsRequest,
    constraints_without,
)
from pants_pyo3.errors import (
    Pyo3BuildError,
    Pyo3ExtensionError,
    Pyo3ImportCheckError,
    Pyo3InterpreterMismatchError,
    Pyo3InterpreterNotFoundError,
    Pyo3LockfileOutdatedError,
    RustToolchainNotFoundError,
)
from pants_pyo3.python.interpreter_check import CheckedPyo3Extensions, Pyo3ConsumerCheckRequest
from pants_pyo3.target_types import Pyo3ModuleNameField
from pants_pyo3.testutil import (
    RULE_RUNNER_ENV_INHERIT,
    RULE_RUNNER_GLOBAL_ARGS,
    crate_files,
    emptied_build_root,
    find_interpreter,
    plugin_rule_runner,
    rule_runner_env,
    shared_named_caches_arg,
)


@pytest.fixture(scope="module")
def engine() -> RuleRunner:
    return plugin_rule_runner(
        QueryRule(BuiltPyo3Extensions, [Pyo3ExtensionBuildsRequest]),
        QueryRule(Pyo3ExtensionBuildPlan, [Pyo3ExtensionBuildsRequest]),
        QueryRule(Addresses, [DependenciesRequest]),
        QueryRule(CheckedPyo3Extensions, [Pyo3ConsumerCheckRequest]),
    )


@pytest.fixture
def rule_runner(engine: RuleRunner) -> RuleRunner:
    rule_runner = emptied_build_root(engine)
    set_options(rule_runner)
    return rule_runner


def set_options(rule_runner: RuleRunner, *extra: str) -> None:
    rule_runner.set_options(
        [*RULE_RUNNER_GLOBAL_ARGS, shared_named_caches_arg(), *extra],
        env=rule_runner_env(),
        env_inherit=set(RULE_RUNNER_ENV_INHERIT),
    )


def write_repo(rule_runner: RuleRunner, ext_build: str | None = None, **crate_kwargs) -> None:
    rule_runner.write_files(
        {
            **crate_files("src/rust/demo", **crate_kwargs),
            "src/python/demo/__init__.py": "from demo._native import add\n",
            "src/python/demo/BUILD": ext_build
            or dedent(
                """\
                python_sources()
                pyo3_extension(name="native", crate="src/rust/demo", module_name="demo._native")
                """
            ),
        }
    )


def build(
    rule_runner: RuleRunner, address: Address = Address("src/python/demo", target_name="native")
) -> BuiltPyo3Extensions:
    tgt = rule_runner.get_target(address)
    return rule_runner.request(BuiltPyo3Extensions, [Pyo3ExtensionBuildsRequest(tgt)])


def extension_build(**fields: str) -> str:
    args = "".join(f"    {k}={v},\n" for k, v in fields.items())
    return (
        "python_sources()\n"
        'pyo3_extension(\n    name="native",\n    crate="src/rust/demo",\n'
        '    module_name="demo._native",\n'
        f"{args})\n"
    )


def import_and_add(python: str, pkg_dir: Path, *modules: Path) -> str:
    pkg = pkg_dir / "demo"
    pkg.mkdir(exist_ok=True)
    for so in modules:
        (pkg / so.name).write_bytes(so.read_bytes())
    out = subprocess.run(
        [python, "-c", "import demo._native as m; print(m.add(40, 2))"],
        cwd=pkg_dir,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def test_builds_module_into_its_package(rule_runner: RuleRunner, tmp_path: Path) -> None:
    write_repo(rule_runner)
    [built] = build(rule_runner).builds
    rule_runner.write_digest(built.digest, path_prefix="out")
    so = (
        Path(rule_runner.build_root, "out/src/python/demo")
        / f"_native{built.interpreter.ext_suffix}"
    )
    assert so.is_file(), sorted(Path(rule_runner.build_root, "out").rglob("*"))
    assert built.interpreter.version == "3.11"
    assert built.abi3_floor is None
    # The module really imports under the interpreter it was built for.
    assert import_and_add(find_interpreter("3.11"), tmp_path, so) == "42"


def test_one_module_per_interpreter_side_by_side(rule_runner: RuleRunner, tmp_path: Path) -> None:
    write_repo(
        rule_runner, ext_build=extension_build(interpreter_constraints='["CPython>=3.10,<3.12"]')
    )
    built = build(rule_runner)
    assert [b.interpreter.version for b in built.builds] == ["3.10", "3.11"]
    assert built.versions == ("3.10", "3.11")
    for b in built.builds:
        rule_runner.write_digest(b.digest, path_prefix="out")
    modules = sorted(Path(rule_runner.build_root, "out/src/python/demo").glob("_native.*.so"))
    assert [m.name for m in modules] == [
        "_native.cpython-310-x86_64-linux-gnu.so",
        "_native.cpython-311-x86_64-linux-gnu.so",
    ]
    # Both sit in one package; each interpreter imports its own.
    for version in ("3.10", "3.11"):
        assert import_and_add(find_interpreter(version), tmp_path, *modules) == "42"


def test_abi3_builds_once_and_imports_on_later_interpreters(
    rule_runner: RuleRunner, tmp_path: Path
) -> None:
    write_repo(
        rule_runner,
        ext_build=extension_build(interpreter_constraints='["CPython>=3.10,<3.12"]'),
        pyo3_features='["extension-module", "abi3-py310"]',
    )
    built = build(rule_runner)
    assert built.abi3_floor == (3, 10)
    [only] = built.builds
    assert only.module_path == "demo/_native.abi3.so"
    rule_runner.write_digest(only.digest, path_prefix="out")
    so = Path(rule_runner.build_root, "out/src/python/demo/_native.abi3.so")
    for version in ("3.10", "3.11", "3.12"):
        assert import_and_add(find_interpreter(version), tmp_path, so) == "42"


def test_abi3_floor_above_an_admitted_interpreter(rule_runner: RuleRunner) -> None:
    write_repo(
        rule_runner,
        ext_build=extension_build(interpreter_constraints='["CPython>=3.9,<3.12"]'),
        pyo3_features='["extension-module", "abi3-py310"]',
    )
    with engine_error(
        Pyo3ExtensionError, contains="also admit CPython 3.9, which can't import"
    ) as _:
        build(rule_runner)


def test_bare_abi3_is_the_stable_abi_of_the_build_interpreter(
    rule_runner: RuleRunner, tmp_path: Path
) -> None:
    # pyo3's bare `abi3` feature (no `abi3-pyXY`) builds for the stable ABI of the interpreter it
    # is built with: the lowest one the constraints admit, 3.11 here (not 3.7, which pyo3 0.29
    # can't even build for). maturin tags the same build `cp311-abi3`.
    write_repo(
        rule_runner,
        ext_build=extension_build(interpreter_constraints='["CPython>=3.11,<3.13"]'),
        pyo3_features='["abi3"]',
    )
    built = build(rule_runner)
    assert built.abi3_floor == (3, 11)
    [only] = built.builds
    assert (only.module_path, only.interpreter.version, only.abi3_floor) == (
        "demo/_native.abi3.so",
        "3.11",
        (3, 11),
    )
    rule_runner.write_digest(only.digest, path_prefix="out")
    so = Path(rule_runner.build_root, "out/src/python/demo/_native.abi3.so")
    assert import_and_add(find_interpreter("3.12"), tmp_path, so) == "42"


def test_a_library_without_any_pymodule_is_an_error(rule_runner: RuleRunner) -> None:
    # pyo3 behind a Cargo feature the target doesn't enable: cargo builds a library that exports
    # no `PyInit_` function at all, which would package into a wheel that can't be imported.
    write_repo(rule_runner)
    rule_runner.write_files(
        {
            "src/rust/demo/Cargo.toml": dedent(
                """\
                [package]
                name = "demo"
                version = "0.1.0"
                edition = "2021"

                [lib]
                name = "_native"
                crate-type = ["cdylib", "rlib"]

                [dependencies]
                pyo3 = { version = "=0.29.3", optional = true }

                [features]
                python = ["dep:pyo3"]
                """
            ),
            "src/rust/demo/src/lib.rs": dedent(
                """\
                pub fn add(a: i64, b: i64) -> i64 {
                    a + b
                }

                #[cfg(feature = "python")]
                mod python {
                    use pyo3::prelude::*;

                    #[pyfunction]
                    fn add(a: i64, b: i64) -> i64 {
                        super::add(a, b)
                    }

                    #[pymodule]
                    fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
                        m.add_function(wrap_pyfunction!(add, m)?)
                    }
                }
                """
            ),
        }
    )
    with pytest.raises(ExecutionError) as error:
        build(rule_runner)
    [wrapped] = error.value.wrapped_exceptions
    assert isinstance(wrapped, Pyo3BuildError)
    message = str(wrapped)
    assert "exports no `PyInit_` function at all" in message
    assert "src/python/demo:native" in message
    assert "features this build doesn't enable: `python`" in message
    assert "#[pymodule] fn _native" in message


def test_constraints_matching_no_installed_interpreter(rule_runner: RuleRunner) -> None:
    # The universe knows 3.14 (see RULE_RUNNER_GLOBAL_ARGS); this machine has none installed.
    find_interpreter("3.13")
    assert not list(
        Path(os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv")), "versions").glob("3.14*")
    )
    write_repo(
        rule_runner, ext_build=extension_build(interpreter_constraints='["CPython>=3.13,<3.15"]')
    )
    with engine_error(
        Pyo3InterpreterNotFoundError, contains="no CPython 3.14 interpreter was found"
    ) as _:
        build(rule_runner)


def test_missing_top_version_suggests_the_upper_bound(rule_runner: RuleRunner) -> None:
    # 3.12 and 3.13 are installed, 3.14 (the top of what the constraints admit) is not: the fix
    # keeps 3.12 and 3.13, not `>=3.15` (which would admit nothing installed).
    write_repo(
        rule_runner, ext_build=extension_build(interpreter_constraints='["CPython>=3.12,<3.15"]')
    )
    with pytest.raises(ExecutionError, match=Pyo3InterpreterNotFoundError.__name__) as exc:
        build(rule_runner)
    message = str(exc.value)
    assert 'interpreter_constraints=["CPython>=3.12,<3.14"]' in message, message
    assert "3.15" not in message.replace("<3.15", ""), message
    assert "src/python/demo:native" in message


@pytest.mark.parametrize(
    "admitted, missing, expected",
    [
        pytest.param(("3.12", "3.13", "3.14"), ("3.14",), "CPython>=3.12,<3.14", id="top"),
        pytest.param(("3.12", "3.13", "3.14"), ("3.12",), "CPython>=3.13,<3.15", id="bottom"),
        pytest.param(
            ("3.8", "3.9", "3.10", "3.11"),
            ("3.9", "3.10"),
            "CPython>=3.8,<3.12,!=3.9.*,!=3.10.*",
            id="middle",
        ),
        pytest.param(("3.14",), ("3.14",), None, id="nothing-left"),
    ],
)
def test_constraints_without(admitted: tuple, missing: tuple, expected: str | None) -> None:
    assert constraints_without(admitted, missing) == expected


def test_field_constraints_outside_the_universe_name_the_target(rule_runner: RuleRunner) -> None:
    # Pants' own check of a Python target's dependencies meets the extension's constraints first;
    # it used to fail with a ValueError that names no target.
    write_repo(
        rule_runner, ext_build=extension_build(interpreter_constraints='["CPython==3.15.*"]')
    )
    tgt = rule_runner.get_target(Address("src/python/demo", relative_file_path="__init__.py"))
    with pytest.raises(ExecutionError, match=Pyo3InterpreterNotFoundError.__name__) as exc:
        rule_runner.request(Addresses, [DependenciesRequest(tgt[Dependencies])])
    message = str(exc.value)
    assert "src/python/demo:native" in message and "CPython==3.15.*" in message
    assert "interpreter_versions_universe" in message


def test_constraints_outside_the_universe(rule_runner: RuleRunner) -> None:
    write_repo(rule_runner, ext_build=extension_build(interpreter_constraints='["CPython==2.6.*"]'))
    with engine_error(Pyo3InterpreterNotFoundError, contains="admit none of the Python versions"):
        build(rule_runner)


def test_triple_without_installed_std(rule_runner: RuleRunner) -> None:
    write_repo(
        rule_runner, ext_build=extension_build(target_triples='["riscv64gc-unknown-linux-gnu"]')
    )
    with engine_error(
        Pyo3ExtensionError, contains="rustup target add riscv64gc-unknown-linux-gnu"
    ) as _:
        build(rule_runner)


def plan(rule_runner: RuleRunner) -> Pyo3ExtensionBuildPlan:
    tgt = rule_runner.get_target(Address("src/python/demo", target_name="native"))
    return rule_runner.request(Pyo3ExtensionBuildPlan, [Pyo3ExtensionBuildsRequest(tgt)])


def host_triple() -> str:
    out = subprocess.run(["rustc", "-vV"], capture_output=True, text=True, check=True).stdout
    return next(line.split()[1] for line in out.splitlines() if line.startswith("host:"))


def test_host_only_leaves_the_other_triples_out(rule_runner: RuleRunner) -> None:
    host = host_triple()
    write_repo(
        rule_runner,
        ext_build=extension_build(target_triples=f'["{host}", "riscv64gc-unknown-linux-gnu"]'),
    )
    # Without the switch the missing standard library is an error that names the switch.
    with engine_error(Pyo3ExtensionError, contains="--pyo3-host-only"):
        plan(rule_runner)
    set_options(rule_runner, "--pyo3-host-only")
    assert {r.triple for r in plan(rule_runner).requests} == {host}


def test_host_only_refuses_an_extension_without_the_host_triple(rule_runner: RuleRunner) -> None:
    write_repo(
        rule_runner, ext_build=extension_build(target_triples='["riscv64gc-unknown-linux-gnu"]')
    )
    set_options(rule_runner, "--pyo3-host-only")
    with engine_error(Pyo3ExtensionError, contains="host_only` builds for this machine's triple"):
        plan(rule_runner)


def test_unknown_triple(rule_runner: RuleRunner) -> None:
    write_repo(
        rule_runner, ext_build=extension_build(target_triples='["x86_64-unknown-linux-gnux"]')
    )
    with engine_error(Pyo3ExtensionError, contains="not a target triple that rustc"):
        build(rule_runner)


@pytest.mark.parametrize(
    "module_name",
    [
        pytest.param("my-ext._native", id="dash"),
        pytest.param("../evil._native", id="path-traversal"),
        pytest.param("demo.._native", id="empty-segment"),
        pytest.param("1demo._native", id="leading-digit"),
        pytest.param("demo/_native", id="slash"),
        pytest.param("", id="empty"),
    ],
)
def test_rejects_bad_module_name(module_name: str) -> None:
    address = Address("src/python/demo", target_name="native")
    with pytest.raises(InvalidFieldException) as exc:
        Pyo3ModuleNameField.compute_value(module_name, address)
    assert "src/python/demo:native" in str(exc.value)
    assert "must be a dotted Python module name" in str(exc.value)


def test_accepts_dotted_module_name() -> None:
    address = Address("src/python/demo", target_name="native")
    assert Pyo3ModuleNameField.compute_value("demo.sub._native", address) == "demo.sub._native"


def test_missing_cargo_toml(rule_runner: RuleRunner) -> None:
    write_repo(rule_runner)
    os.unlink(Path(rule_runner.build_root, "src/rust/demo/Cargo.toml"))
    with engine_error(
        Pyo3ExtensionError, contains="has no `src/rust/demo/Cargo.toml` among its sources"
    ):
        build(rule_runner)


def test_unparsable_cargo_toml(rule_runner: RuleRunner) -> None:
    write_repo(rule_runner)
    rule_runner.write_files({"src/rust/demo/Cargo.toml": "[package\nname = 'demo'\n"})
    with engine_error(Pyo3ExtensionError, contains="`src/rust/demo/Cargo.toml` is not valid TOML"):
        build(rule_runner)


def test_crate_type_without_cdylib(rule_runner: RuleRunner) -> None:
    write_repo(rule_runner, crate_type='["rlib"]')
    with engine_error(Pyo3ExtensionError, contains='Add `crate-type = ["cdylib"]`'):
        build(rule_runner)


def test_crate_field_must_name_a_cargo_crate(rule_runner: RuleRunner) -> None:
    write_repo(
        rule_runner,
        ext_build=dedent(
            """\
            python_sources()
            pyo3_extension(name="native", crate=":demo", module_name="demo._native")
            """
        ),
    )
    with engine_error(Pyo3ExtensionError, contains="must name a `cargo_crate` target"):
        build(rule_runner)


def test_missing_pyinit_symbol(rule_runner: RuleRunner) -> None:
    write_repo(rule_runner, pymodule="wrong_name")
    with engine_error(Pyo3BuildError, contains="does not export `PyInit__native`") as _:
        build(rule_runner)


def test_missing_pyinit_symbol_names_the_fix(rule_runner: RuleRunner) -> None:
    write_repo(rule_runner, pymodule="wrong_name")
    with engine_error(Pyo3BuildError, contains="Name the crate's `#[pymodule]` function `_native`"):
        build(rule_runner)


def test_compile_error_shows_cargo_diagnostics(rule_runner: RuleRunner) -> None:
    write_repo(rule_runner, body='fn add(a: i64, b: i64) -> i64 {\n    "not a number"\n}')
    with engine_error(Pyo3BuildError, contains="mismatched types"):
        build(rule_runner)


def test_cargo_not_found(rule_runner: RuleRunner, tmp_path: Path) -> None:
    write_repo(rule_runner)
    set_options(rule_runner, f"--pyo3-search-paths=['{tmp_path}']")
    with engine_error(RustToolchainNotFoundError, contains="[pyo3].search_paths"):
        build(rule_runner)


def test_two_extensions_claiming_one_module(rule_runner: RuleRunner) -> None:
    write_repo(
        rule_runner,
        ext_build=dedent(
            """\
            python_sources()
            pyo3_extension(name="native", crate="src/rust/demo", module_name="demo._native")
            pyo3_extension(name="again", crate="src/rust/demo", module_name="demo._native")
            """
        ),
    )
    with engine_error(Pyo3ExtensionError, contains="all claim the Python module `demo._native`"):
        build(rule_runner)


def test_import_infers_dependency_on_extension(rule_runner: RuleRunner) -> None:
    write_repo(rule_runner)
    tgt = rule_runner.get_target(Address("src/python/demo", relative_file_path="__init__.py"))
    deps = rule_runner.request(Addresses, [DependenciesRequest(tgt[Dependencies])])
    assert Address("src/python/demo", target_name="native") in deps


def check_consumer(rule_runner: RuleRunner, constraints: str) -> CheckedPyo3Extensions:
    ext = rule_runner.get_target(Address("src/python/demo", target_name="native"))
    request = Pyo3ConsumerCheckRequest(
        Address("src/python/demo", target_name="tests"),
        "test",
        InterpreterConstraints([constraints]),
        (ext,),
    )
    return rule_runner.request(CheckedPyo3Extensions, [request])


def test_consumer_under_another_interpreter_is_rejected(rule_runner: RuleRunner) -> None:
    write_repo(
        rule_runner, ext_build=extension_build(interpreter_constraints='["CPython>=3.10,<3.12"]')
    )
    # Consumers under either built interpreter are fine.
    for constraints in ("CPython>=3.10,<3.12", "CPython==3.11.*"):
        checked = check_consumer(rule_runner, constraints)
        assert [b.interpreter.version for b in checked.built[0].builds] == ["3.10", "3.11"]
    # A consumer pinned to 3.9 would find no module for it: refused, with the fix.
    with engine_error(
        Pyo3InterpreterMismatchError, contains="is built for CPython 3.10, 3.11"
    ) as _:
        check_consumer(rule_runner, "CPython==3.9.*")


def test_mismatch_message_names_both_targets_and_the_fix(rule_runner: RuleRunner) -> None:
    write_repo(rule_runner)
    with engine_error(
        Pyo3InterpreterMismatchError, contains="Give both compatible `interpreter_constraints`"
    ):
        check_consumer(rule_runner, "CPython==3.10.*")


@pytest.mark.parametrize(
    "target",
    [
        pytest.param("/etc/hostname", id="absolute"),
        pytest.param("../../../../../outside.rs", id="relative-escaping"),
    ],
)
def test_symlink_out_of_the_repo_is_refused(rule_runner: RuleRunner, target: str) -> None:
    write_repo(rule_runner)
    lib = Path(rule_runner.build_root, "src/rust/demo/src/lib.rs")
    Path(rule_runner.build_root).parent.joinpath("outside.rs").write_text("fn stolen() {}\n")
    lib.unlink()
    os.symlink(target, lib)
    with pytest.raises(Exception) as exc:
        build(rule_runner)
    message = str(exc.value)
    assert "src/rust/demo" in message
    assert "Absolute symlink" in message or "outside of the buildroot" in message


INIT_FAILURES = {
    "panic": 'panic!("boom at init: no config")',
    "error": 'return Err(pyo3::exceptions::PyRuntimeError::new_err("boom at init: no config"))',
}


@pytest.mark.parametrize("failure", sorted(INIT_FAILURES))
def test_module_failing_at_import_is_a_build_error(rule_runner: RuleRunner, failure: str) -> None:
    write_repo(rule_runner)
    lib_rs = Path(rule_runner.build_root, "src/rust/demo/src/lib.rs")
    lib_rs.write_text(
        lib_rs.read_text().replace("    Ok(())\n}", f"    {INIT_FAILURES[failure]}\n}}")
    )
    with pytest.raises(ExecutionError, match=Pyo3ImportCheckError.__name__) as exc:
        build(rule_runner)
    message = str(exc.value)
    assert "src/python/demo:native" in message
    assert "boom at init: no config" in message
    assert "#[pymodule] fn _native" in message


def test_import_check_runs_only_the_module_s_own_init(rule_runner: RuleRunner) -> None:
    # The module is imported by its file under its full name: the package's `__init__.py` (which
    # may import what isn't installed where the build runs) is not run.
    write_repo(rule_runner)
    rule_runner.write_files(
        {"src/python/demo/__init__.py": "import not_installed_here\nfrom demo._native import add\n"}
    )
    [built] = build(rule_runner).builds
    assert built.module_path.startswith("demo/_native.")


def test_outdated_cargo_lock_says_how_to_update_it(rule_runner: RuleRunner) -> None:
    write_repo(rule_runner)
    crate = Path(rule_runner.build_root, "src/rust/demo")
    subprocess.run(["cargo", "generate-lockfile", "--quiet"], cwd=crate, check=True)
    toml = crate / "Cargo.toml"
    toml.write_text(toml.read_text().replace("[dependencies]\n", '[dependencies]\nitoa = "1"\n'))
    with pytest.raises(ExecutionError, match=Pyo3LockfileOutdatedError.__name__) as exc:
        build(rule_runner)
    message = str(exc.value)
    assert "src/python/demo:native" in message
    assert "cargo update --workspace` in src/rust/demo" in message
    assert "src/rust/demo/Cargo.lock" in message
    # cargo's own advice (`remove the --locked flag`) is for its users, not the plugin's.
    assert "remove the --locked flag" not in message
