# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import ClassVar, Iterable

from pants.backend.python.subsystems.setup import PythonSetup
from pants.backend.python.target_types import (
    InterpreterConstraintsField,
    PythonProvidesField,
    PythonResolveField,
)
from pants.backend.python.util_rules.interpreter_constraints import InterpreterConstraints
from pants.engine.addresses import Address
from pants.engine.target import (
    COMMON_TARGET_FIELDS,
    AsyncFieldMixin,
    BoolField,
    Dependencies,
    FieldSet,
    InvalidFieldException,
    MultipleSourcesField,
    StringField,
    StringSequenceField,
    Target,
    TriBoolField,
)
from pants.util.strutil import help_text, softwrap
from pants_pyo3.errors import Pyo3InterpreterNotFoundError

logger = logging.getLogger(__name__)

# A dotted Python module name: identifiers joined by single dots. This also rules out `/`, `..` and
# anything else that could escape the package directory when the name becomes a file path.
_MODULE_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_PROFILE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
# The values of `[pyo3].manylinux` and of the `manylinux` field.
MANYLINUX_RE = re.compile(r"^(auto|off|manylinux_\d+_\d+|manylinux2014|manylinux2010|manylinux1)$")


class CargoCrateSourcesField(MultipleSourcesField):
    default = (
        "Cargo.toml",
        "Cargo.lock",
        "build.rs",
        "src/**/*.rs",
        "tests/**/*.rs",
        "benches/**/*.rs",
        "examples/**/*.rs",
    )
    help = help_text(
        """
        The crate's files: its `Cargo.toml`, `Cargo.lock`, `build.rs` and Rust sources, including
        the integration tests, benchmarks and examples that `cargo test` and `cargo clippy
        --all-targets` compile.

        Every file cargo reads must be listed here (or in a target this one depends on), because
        crates are built in a sandbox that holds only these files. Add non-Rust inputs of the crate
        (e.g. files read by `include_str!`) to this list.
        """
    )


class CargoCrateDependenciesField(Dependencies):
    help = help_text(
        """
        Addresses of other `cargo_crate` targets this crate uses as path dependencies, or of
        `files` holding a workspace's root `Cargo.toml`/`Cargo.lock`, so that cargo finds them in
        the build sandbox.
        """
    )


class CargoCrateTarget(Target):
    alias = "cargo_crate"
    core_fields = (*COMMON_TARGET_FIELDS, CargoCrateSourcesField, CargoCrateDependenciesField)
    help = help_text(
        """
        A Rust crate's sources, in the crate's directory next to its `Cargo.toml`.

        A `pyo3_extension` target in a Python package names this target in its `crate` field to
        build the crate into that package's extension module.
        """
    )


@dataclass(frozen=True)
class CargoCrateFieldSet(FieldSet):
    """A `cargo_crate` for a tool that runs on one crate (`cargo test`, clippy, rustfmt), unless
    the crate sets the tool's skip field."""

    required_fields = (CargoCrateSourcesField,)
    # The tool's `skip_<tool>` field, a plugin field of `cargo_crate`.
    skip_field: ClassVar[type[BoolField]]

    sources: CargoCrateSourcesField

    @classmethod
    def opt_out(cls, tgt: Target) -> bool:
        return tgt.get(cls.skip_field).value


class Pyo3ExtensionSourcesField(MultipleSourcesField):
    default = ()
    expected_num_files = 0
    help = help_text(
        """
        Leave this unset: the Rust sources belong to the `cargo_crate` target named by `crate`.
        The compiled module is generated from that crate.
        """
    )


class Pyo3CrateField(StringField):
    alias = "crate"
    required = True
    help = help_text(
        """
        The address of the `cargo_crate` target to build, e.g. `src/rust/myext`.

        The crate's `Cargo.toml` must build a `cdylib` with a `#[pymodule]`.
        """
    )


class Pyo3ModuleNameField(StringField):
    alias = "module_name"
    required = True
    help = help_text(
        """
        The dotted Python module name the extension is imported as, e.g. `myext._native`.

        The compiled library is placed in the Python package named by all but the last segment
        (`myext/`), as `<last segment><EXT_SUFFIX>`, e.g.
        `myext/_native.cpython-311-x86_64-linux-gnu.so`. The crate's `#[pymodule]` function must
        be named like the last segment, so that the library exports `PyInit_<last segment>`; the
        build checks this.

        Python code that imports this module gets a dependency on this target inferred.
        """
    )

    @classmethod
    def compute_value(cls, raw_value: str | None, address: Address) -> str:
        value = super().compute_value(raw_value, address)
        assert value is not None, "module_name is required, which is a bug in Pants"
        if not _MODULE_NAME_RE.match(value):
            raise InvalidFieldException(
                f"The {cls.alias!r} field in target {address} must be a dotted Python module name "
                f"made of identifiers, like `myext._native`, but was {value!r}. Use only letters, "
                "digits and `_` in each segment, and separate segments with single dots."
            )
        return value


class Pyo3DependenciesField(Dependencies):
    help = help_text(
        """
        Addresses of other targets this extension needs. The `crate` is added automatically, and
        the crate's own path dependencies belong on its `cargo_crate` target.
        """
    )


class Pyo3FeaturesField(StringSequenceField):
    alias = "features"
    default = ()
    help = help_text(
        """
        Cargo features to enable when building the crate (passed as `--features`).

        If pyo3's `abi3-pyXY` feature is enabled here or by the crate's default features, the
        module is built for the stable ABI of CPython >= X.Y; with pyo3's bare `abi3` feature, for
        the stable ABI of the lowest CPython the constraints admit (which builds it).

        If the crate's `#[pymodule]` is behind a Cargo feature (e.g. `python = ["dep:pyo3"]`),
        enable it here: a build whose library exports no `PyInit_` function is an error.
        """
    )


class Pyo3DefaultFeaturesField(BoolField):
    alias = "default_features"
    default = True
    help = (
        "Whether to build with the crate's default features "
        "(`False` passes `--no-default-features`)."
    )


class Pyo3ProfileField(StringField):
    alias = "profile"
    default = "release"
    help = help_text(
        """
        The cargo profile to build with (`--profile`), e.g. `release` or `dev`, or a custom profile
        from the crate's `Cargo.toml`.
        """
    )

    @classmethod
    def compute_value(cls, raw_value: str | None, address: Address) -> str:
        value = super().compute_value(raw_value, address)
        assert value is not None, "profile has a default, which is a bug in Pants"
        if not _PROFILE_RE.match(value):
            raise InvalidFieldException(
                f"The {cls.alias!r} field in target {address} must be a cargo profile name such as "
                f"`release` or `dev`, but was {value!r}."
            )
        return value


class Pyo3CargoArgsField(StringSequenceField):
    alias = "cargo_args"
    default = ()
    help = help_text(
        """
        Extra arguments for `cargo build`, after the ones the plugin passes (e.g. `["--verbose"]`).

        Don't pass arguments that change where cargo writes its output (`--target-dir`,
        `--out-dir`): the plugin manages those.
        """
    )


class Pyo3InterpreterConstraintsField(AsyncFieldMixin, InterpreterConstraintsField):
    def value_or_global_default(self, python_setup: PythonSetup) -> tuple[str, ...]:
        """The constraints, checked against `[python].interpreter_versions_universe` here, because
        Pants' own checks of dependencies (which call this first) can't name the target."""
        value = super().value_or_global_default(python_setup)
        universe = python_setup.interpreter_versions_universe
        try:
            admitted = InterpreterConstraints(value).partition_into_major_minor_versions(universe)
        except ValueError:
            admitted = []
        if not admitted:
            raise Pyo3InterpreterNotFoundError(
                softwrap(
                    f"""
                    The `{self.alias}` of the `{Pyo3ExtensionTarget.alias}` target {self.address}
                    ({', '.join(value)}) admit none of the Python versions in
                    `[python].interpreter_versions_universe` ({', '.join(universe)}). Fix the
                    constraints, or add the versions they name to the universe in pants.toml.
                    """
                )
            )
        return value

    help = help_text(
        f"""
        The Python interpreters this extension is built for, in the same format as
        `{InterpreterConstraintsField.alias}` on Python targets; defaults to
        `[python].interpreter_constraints`.

        The module is compiled once for every CPython major.minor version these constraints admit
        (among `[python].interpreter_versions_universe`), e.g. `["CPython>=3.8,<3.14"]` builds
        six modules, `_native.cpython-38-x86_64-linux-gnu.so` to `..-313-..`, which sit side by
        side in the package so that each interpreter imports its own. Each version must be
        installed where `[python-bootstrap].search_path` looks. If the crate enables pyo3's
        `abi3-pyXY` feature, the module is built once (as `<name>.abi3.so`) and the constraints
        must not admit a version below `X.Y`; with the bare `abi3` feature it is built once, with
        the lowest version admitted, for that version and every later one.

        Pants refuses a Python target that imports the extension under constraints admitting a
        version these don't (as for any Python dependency), so narrow a whole package at once
        with `__defaults__(all=dict(interpreter_constraints=[...]))` in its BUILD file rather than
        this field alone. A test or distribution whose interpreter has no build is reported as an
        error, and a `python_distribution` gets one wheel per version its own constraints admit.
        """
    )


class Pyo3TargetTriplesField(StringSequenceField):
    alias = "target_triples"
    default = None
    help = help_text(
        """
        The Rust target triples to build the module for, e.g.
        `["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"]`; defaults to the host's.

        Every triple's standard library must be installed in the Rust toolchain (`rustup target
        add <triple>`). Builds for the host go into tests and pex files; a `python_distribution`
        gets a wheel per triple, tagged for its platform.
        """
    )


class Pyo3PyprojectField(StringField):
    alias = "pyproject"
    default = None
    help = help_text(
        """
        The path from the build root of a maturin project's `pyproject.toml` whose `[project]`
        table gives this distribution's metadata (name, version, description, readme,
        requires-python, license, authors, keywords, classifiers, urls, dependencies,
        optional-dependencies, scripts and entry points), e.g.
        `"src/rust/foo/pyproject.toml"`.

        A version listed in `dynamic` is the `[package] version` of the crate beside it (or at
        `[tool.maturin] manifest-path`), in its PEP 440 form, as maturin takes it. The
        `python_artifact` then only needs the `name` (Pants requires it; it must match), and a
        keyword given in both places must agree.
        """
    )


class Pyo3ManylinuxField(StringField):
    alias = "manylinux"
    default = None
    help = help_text(
        """
        The manylinux policy this extension's modules are built for, overriding `[pyo3].manylinux`
        (see `./pants help-advanced pyo3`): e.g. `manylinux_2_28` for a crate whose C code needs a
        glibc 2.28 function, `auto` to link with this machine's linker and take the tag auditwheel
        finds, or `off`.

        A policy (`manylinux2014`, `manylinux_2_17`, ...) links the module for that glibc with zig
        (for glibc Linux triples). A wheel whose extensions ask for different values is tagged as
        with `auto`.
        """
    )

    @classmethod
    def compute_value(cls, raw_value: str | None, address: Address) -> str | None:
        value = super().compute_value(raw_value, address)
        if value is not None and not MANYLINUX_RE.match(value.strip()):
            raise InvalidFieldException(
                f"The {cls.alias!r} field in target {address} must be `auto`, `off` or a "
                f"manylinux policy such as `manylinux2014` or `manylinux_2_28`, but was {value!r}."
            )
        return value.strip() if value is not None else None


class Pyo3GenerateStubsField(TriBoolField):
    alias = "generate_stubs"
    default = None
    help = help_text(
        """
        Whether to generate the module's type stub (`<module>.pyi`) from the crate; defaults to
        `[pyo3].generate_stubs`.

        The crate is built once more, for this machine and one interpreter, with pyo3's
        `experimental-inspect` feature, and pyo3's `pyo3-introspection` (the release for the
        crate's pyo3 minor version, 0.26 or newer, read from its `Cargo.lock`) writes the stub
        from what that build holds. The stub is generated next to the module in its package, so
        `check` (mypy), `python_tests`, wheels and sdists get it like a stub written by hand. The
        modules that go into wheels, tests and pex files are built without the feature.

        pyo3 describes only modules declared as an inline `#[pymodule] mod`, not by a
        `#[pymodule] fn`, and only what it knows the Python types of (see the README's "Type
        checking"). A stub written by hand wins: if the package has `<module>.pyi` (or
        `<module>/__init__.pyi`) in the source tree, nothing is generated.
        """
    )


class Pyo3ExtensionTarget(Target):
    alias = "pyo3_extension"
    core_fields = (
        *COMMON_TARGET_FIELDS,
        Pyo3ExtensionSourcesField,
        Pyo3CrateField,
        Pyo3ModuleNameField,
        Pyo3DependenciesField,
        Pyo3FeaturesField,
        Pyo3DefaultFeaturesField,
        Pyo3ProfileField,
        Pyo3CargoArgsField,
        Pyo3InterpreterConstraintsField,
        Pyo3TargetTriplesField,
        Pyo3ManylinuxField,
        Pyo3GenerateStubsField,
        PythonResolveField,
    )
    help = help_text(
        f"""
        A PyO3 Python extension module, built with cargo from a `cargo_crate`.

        Declare it in the Python package that holds the module (e.g. in `src/python/myext/BUILD`
        for `myext._native`): the compiled module is generated there, so `python_tests`,
        `pex_binary` and `python_distribution` targets that depend on this target (directly, or
        through inferred imports of `{Pyo3ModuleNameField.alias}`) get it like any other file of the
        package, and a `python_distribution` in or above that directory owns it. Wheels holding it
        get a platform tag.
        """
    )


def dist_of_closure(targets: Iterable[Target]) -> Target:
    """The `python_distribution` a `DistBuildEnvironmentRequest` hook is called for: the root of
    the closure its `target_addresses` name, which comes first."""
    return next(t for t in targets if t.has_field(PythonProvidesField))
