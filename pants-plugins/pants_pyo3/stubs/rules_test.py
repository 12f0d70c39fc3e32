# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

from __future__ import annotations

from textwrap import dedent

import pytest
import toml
from pants.engine.addresses import Address
from pants.engine.fs import Digest, DigestContents
from pants.engine.target import GeneratedSources
from pants.testutil.rule_runner import QueryRule, RuleRunner, engine_error
from pants.util.resources import read_resource
from pants_pyo3.errors import Pyo3StubsError
from pants_pyo3.python.codegen import GeneratePythonFromPyo3Request
from pants_pyo3.stubs.rules import (
    INTROSPECTION_VERSIONS,
    Pyo3Stubs,
    Pyo3StubsRequest,
    introspection_version,
    locked_pyo3_version,
    profile_strips_symbols,
)
from pants_pyo3.target_types import Pyo3ExtensionSourcesField
from pants_pyo3.testutil import (
    INLINE_PYMODULE_RS,
    RULE_RUNNER_ENV_INHERIT,
    RULE_RUNNER_GLOBAL_ARGS,
    emptied_build_root,
    example_cargo_lock,
    inline_module_crate_files,
    plugin_rule_runner,
    rule_runner_env,
    shared_named_caches_arg,
)

ADDRESS = Address("src/python/demo", target_name="native")

DEMO_LOCK = example_cargo_lock("demo")

FUNCTION_MODULE = """\
use pyo3::prelude::*;

#[pyfunction]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(add, m)?)?;
    Ok(())
}
"""


def crate(lib_rs: str, *, lock: str = DEMO_LOCK, profile: str = "") -> dict[str, str]:
    files = inline_module_crate_files(lib_rs, lock=lock)
    files["src/rust/demo/Cargo.toml"] += profile
    return files


def package(generate_stubs: str = "True", **files: str) -> dict[str, str]:
    return {
        "src/python/demo/__init__.py": "from demo._native import add\n",
        "src/python/demo/BUILD": dedent(
            f"""\
            python_sources()
            pyo3_extension(
                name="native",
                crate="src/rust/demo",
                module_name="demo._native",
                generate_stubs={generate_stubs},
            )
            """
        ),
        **{f"src/python/demo/{name}": content for name, content in files.items()},
    }


@pytest.fixture(scope="module")
def engine() -> RuleRunner:
    return plugin_rule_runner(
        QueryRule(Pyo3Stubs, [Pyo3StubsRequest]),
        QueryRule(GeneratedSources, [GeneratePythonFromPyo3Request]),
        QueryRule(DigestContents, [Digest]),
    )


@pytest.fixture
def rule_runner(engine: RuleRunner) -> RuleRunner:
    rule_runner = emptied_build_root(engine)
    rule_runner.set_options(
        [*RULE_RUNNER_GLOBAL_ARGS, shared_named_caches_arg()],
        env=rule_runner_env(),
        env_inherit=set(RULE_RUNNER_ENV_INHERIT),
    )
    return rule_runner


def stubs(rule_runner: RuleRunner) -> Pyo3Stubs:
    tgt = rule_runner.get_target(ADDRESS)
    return rule_runner.request(Pyo3Stubs, [Pyo3StubsRequest(tgt)])


def test_the_stub_describes_an_inline_module_beside_it(rule_runner: RuleRunner) -> None:
    # `strip = true` would drop the symbols pyo3's data is found by: the stub's build keeps them.
    rule_runner.write_files(
        {**crate(INLINE_PYMODULE_RS, profile="\n[profile.release]\nstrip = true\n"), **package()}
    )
    tgt = rule_runner.get_target(ADDRESS)
    generated = rule_runner.request(
        GeneratedSources,
        [GeneratePythonFromPyo3Request(tgt[Pyo3ExtensionSourcesField], tgt)],
    )
    # The module and its stub, side by side, wherever the module's consumers get it.
    assert sorted(generated.snapshot.files) == [
        "src/python/demo/_native.abi3.so",
        "src/python/demo/_native.pyi",
    ]
    [stub] = [
        fc
        for fc in rule_runner.request(DigestContents, [generated.snapshot.digest])
        if fc.path.endswith(".pyi")
    ]
    text = stub.content.decode()
    for line in (
        "class Total:",
        "    A running total.",
        "    def __new__(cls, /, start: int = 0) -> Total: ...",
        "    def add(self, /, amount: int) -> int: ...",
        "def add(a: int, b: int = 2) -> int: ...",
        "def greet(name: str | None = None) -> str: ...",
    ):
        assert line in text.splitlines(), text
    # Complete: no catch-all `__getattr__` that would let any attribute through.
    assert "__getattr__" not in text


def test_a_function_module_is_an_error_naming_the_inline_module(rule_runner: RuleRunner) -> None:
    rule_runner.write_files({**crate(FUNCTION_MODULE), **package()})
    with engine_error(Pyo3StubsError, contains="#[pymodule] mod _native") as _:
        stubs(rule_runner)


def test_a_stub_written_by_hand_wins_and_nothing_is_built(rule_runner: RuleRunner) -> None:
    # A crate that can't even compile: had the stub's build run, this would fail.
    rule_runner.write_files(
        {**crate("this is not Rust"), **package(**{"_native.pyi": "def add() -> int: ...\n"})}
    )
    result = stubs(rule_runner)
    assert (result.files, result.handwritten) == ((), "src/python/demo/_native.pyi")


def test_off_unless_asked(rule_runner: RuleRunner) -> None:
    # pyo3 0.25 has no introspection: wherever a stub is asked for, that is an error.
    old_lock = 'version = 4\n\n[[package]]\nname = "pyo3"\nversion = "0.25.1"\n'
    rule_runner.write_files(
        {**crate("this is not Rust", lock=old_lock), **package(generate_stubs="None")}
    )
    assert stubs(rule_runner).files == ()
    rule_runner.set_options(
        [*RULE_RUNNER_GLOBAL_ARGS, shared_named_caches_arg(), "--pyo3-generate-stubs"],
        env=rule_runner_env(),
        env_inherit=set(RULE_RUNNER_ENV_INHERIT),
    )
    with engine_error(Pyo3StubsError, contains="too old") as _:
        stubs(rule_runner)
    # The target's field wins over the option.
    rule_runner.write_files(package(generate_stubs="False"))
    assert stubs(rule_runner).files == ()


@pytest.mark.parametrize(
    "version, contains",
    [
        pytest.param("0.25.1", "pyo3 0.25.1 is too old", id="too-old"),
        pytest.param("0.31.0", "has no pyo3-introspection for pyo3 0.31.0", id="too-new"),
    ],
)
def test_a_pyo3_without_introspection_is_named(
    rule_runner: RuleRunner, version: str, contains: str
) -> None:
    lock = f'version = 4\n\n[[package]]\nname = "pyo3"\nversion = "{version}"\n'
    rule_runner.write_files({**crate("this is not Rust", lock=lock), **package()})
    with engine_error(Pyo3StubsError, contains=contains) as _:
        stubs(rule_runner)


def test_a_crate_without_a_lockfile_is_named(rule_runner: RuleRunner) -> None:
    files = crate("this is not Rust")
    del files["src/rust/demo/Cargo.lock"]
    rule_runner.write_files({**files, **package()})
    with engine_error(Pyo3StubsError, contains="`src/rust/demo/Cargo.lock` is missing") as _:
        stubs(rule_runner)


def test_locked_pyo3_version() -> None:
    assert locked_pyo3_version(DEMO_LOCK.encode(), "demo") == "0.29.3"
    assert locked_pyo3_version(b'[[package]]\nname = "other"\nversion = "1.0.0"\n', "x") is None
    # A workspace whose crates use two pyo3s: the one the crate's entry names.
    two = dedent(
        """\
        [[package]]
        name = "a"
        version = "0.1.0"
        dependencies = ["pyo3 0.28.3"]

        [[package]]
        name = "b"
        version = "0.1.0"
        dependencies = ["pyo3 0.29.3"]

        [[package]]
        name = "pyo3"
        version = "0.28.3"

        [[package]]
        name = "pyo3"
        version = "0.29.3"
        """
    ).encode()
    assert locked_pyo3_version(two, "a") == "0.28.3"
    assert locked_pyo3_version(two, "b") == "0.29.3"
    assert locked_pyo3_version(two, "c") is None


def test_introspection_version_by_minor() -> None:
    assert introspection_version("0.29.3") == "0.29.3"
    assert introspection_version("0.29.0") == "0.29.3"
    assert introspection_version("0.30.0") == "0.30.1"
    assert introspection_version("0.25.1") is None
    assert introspection_version("0.31.0") is None


def test_the_versions_are_the_generators_dependencies() -> None:
    manifest = toml.loads(read_resource("pants_pyo3.stubs.rules", "stubgen/Cargo.toml").decode())
    pinned = {
        spec["version"].lstrip("=")
        for spec in manifest["dependencies"].values()
        if isinstance(spec, dict) and spec.get("package") == "pyo3-introspection"
    }
    assert pinned == set(INTROSPECTION_VERSIONS.values())


@pytest.mark.parametrize(
    "profiles, profile, strips",
    [
        pytest.param({}, "release", False, id="default"),
        pytest.param({"release": {"strip": True}}, "release", True, id="true"),
        pytest.param({"release": {"strip": "symbols"}}, "release", True, id="symbols"),
        pytest.param({"release": {"strip": "debuginfo"}}, "release", False, id="debuginfo"),
        pytest.param({"release": {"strip": True}}, "bench", True, id="bench-inherits-release"),
        pytest.param(
            {"release": {"strip": True}, "dist": {"inherits": "release"}},
            "dist",
            True,
            id="custom-inherits",
        ),
        pytest.param(
            {"release": {"strip": True}, "dist": {"inherits": "release", "strip": False}},
            "dist",
            False,
            id="custom-overrides",
        ),
    ],
)
def test_profile_strips_symbols(profiles: dict, profile: str, strips: bool) -> None:
    assert profile_strips_symbols({"profile": profiles}, profile) is strips
