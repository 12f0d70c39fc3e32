# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""Build one PyO3 crate with cargo and place the module in its Python package.

This script runs inside a Pants sandbox under the Python interpreter the module is built for, so it
must work on every CPython the plugin supports (3.8+) with only the standard library.

The sandbox's path changes on every run, and Pants writes its files with fresh mtimes; cargo would
then rebuild everything (paths are part of its fingerprints and of RUSTFLAGS' remaps). So the crate's
files are mirrored into a fixed directory in a Pants named cache, copying only files whose content
changed, and cargo builds there with its registry in the same named cache.

Each interpreter ABI and target triple gets its own target directory (`targets/<triple>/<abi>`):
pyo3 and everything above it is compiled for one interpreter, so builds for several interpreters
run side by side instead of waiting for each other on cargo's lock. A new one starts as a copy of
one already built for the same triple, so only the interpreter-specific crates (pyo3-build-config's
output, pyo3-ffi, pyo3 and the crate) are compiled again, not syn, the proc macros or libc.

Locks: builds hold the mirror's lock shared while cargo reads the mirror, and only a build whose
files differ from the mirror's takes it exclusively to change them, so concurrent Pants runs of
different sources (several clones) never see each other's files. Each target directory has a lock
of its own, and a lock per triple makes the first build of a triple the seed the others copy.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import re
import shlex
import shutil
import struct
import subprocess
import sys

# Exit codes the Pants rule maps to named errors.
EXIT_CARGO_FAILED = 10
EXIT_NO_LIBRARY = 11
EXIT_NO_INIT_SYMBOL = 12
EXIT_GLIBC_BASELINE = 13
# The line (on stderr) that names the functions the glibc baseline lacks, for the Pants rule.
MISSING_SYMBOLS_PREFIX = "pants-pyo3 glibc baseline lacks: "


@dataclasses.dataclass(frozen=True)
class BuildConfig:
    """What the build rule tells this program (written as JSON by `config_json`)."""

    address: str
    # The crate's directory, and every file cargo reads (the crate's and its path dependencies').
    crate_dir: str
    files: list[str]
    package: str
    module_name: str
    profile: str
    features: list[str]
    default_features: bool
    cargo_args: list[str]
    cargo: str
    target_triple: str
    # The interpreter ABI the module is compiled for (`abi3` or e.g. `cpython-311-x86_64-linux-gnu`):
    # each gets a target directory of its own.
    abi_tag: str
    # The named cache (relative to the sandbox), and where the module goes.
    cache_dir: str
    output: str
    # With a glibc baseline (a manylinux policy): the zig binary, zig's target (e.g.
    # `x86_64-linux-gnu.2.17`) and zig's cache directory (relative to the sandbox). zig then links
    # the module and compiles the `cc` crate's C code (see `zig_wrappers`).
    zig: str = ""
    zig_target: str = ""
    zig_cache_dir: str = ""


def config_json(config) -> bytes:
    """A config dataclass as the JSON the sandbox programs read back with `read_config`."""
    return json.dumps(dataclasses.asdict(config), indent=1, sort_keys=True).encode()


def read_config(cls, path: str):
    with open(path) as f:
        return cls(**json.load(f))


def fail(code: int, message: str) -> None:
    sys.stderr.write(message.rstrip() + "\n")
    sys.exit(code)


def same_content(a: str, b: str) -> bool:
    if not os.path.isfile(b) or os.path.getsize(a) != os.path.getsize(b):
        return False
    with open(a, "rb") as fa, open(b, "rb") as fb:
        return fa.read() == fb.read()


def sync_mirror(files: list, crate_dir: str, mirror: str) -> None:
    """Make `mirror` hold `files` (relative paths), touching only files whose content changed."""
    wanted = set(files)
    for rel in files:
        dest = os.path.join(mirror, rel)
        if same_content(rel, dest):
            continue
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        tmp = dest + ".pyo3-tmp"
        shutil.copyfile(rel, tmp)
        os.replace(tmp, dest)
    # Files deleted from the crate must disappear from the mirror too, or cargo would still see them.
    for rel in stray_files(wanted, crate_dir, mirror):
        os.unlink(os.path.join(mirror, rel))


def stray_files(wanted: set, crate_dir: str, mirror: str) -> list:
    """Files in the crate's mirror that the crate doesn't have, except the `Cargo.lock` cargo writes
    for a crate without one (kept, so cargo doesn't resolve the dependencies again every build)."""
    generated = os.path.join(crate_dir, "Cargo.lock")
    stray = []
    for root, _dirs, names in os.walk(os.path.join(mirror, crate_dir)):
        for name in names:
            rel = os.path.relpath(os.path.join(root, name), mirror)
            if rel not in wanted and rel != generated:
                stray.append(rel)
    return stray


def elf_exported_symbols(path: str) -> set:
    """The names of the defined symbols in an ELF64 shared library's dynamic symbol table."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2:
        return set()
    endian = "<" if data[5] == 1 else ">"
    shoff = struct.unpack_from(endian + "Q", data, 0x28)[0]
    shentsize, shnum = struct.unpack_from(endian + "HH", data, 0x3A)
    sections = [
        struct.unpack_from(endian + "IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)
    ]
    names = set()
    for _name, sh_type, _flags, _addr, offset, size, link, _info, _align, entsize in sections:
        if sh_type != 11 or not entsize:  # SHT_DYNSYM
            continue
        str_offset = sections[link][4]
        for i in range(size // entsize):
            st_name, _st_info, _st_other, st_shndx = struct.unpack_from(
                endian + "IBBH", data, offset + i * entsize
            )
            if st_shndx == 0:  # Undefined: imported, not exported.
                continue
            end = data.index(b"\0", str_offset + st_name)
            names.add(data[str_offset + st_name : end].decode("utf-8", "replace"))
    return names


def write_rustc_wrapper(path: str, inner: list, extra_args: list) -> None:
    """A `RUSTC_WRAPPER` that runs rustc (through `inner`, a user's wrapper, if any) with `extra_args`."""
    words = [shlex.quote(a) for a in inner] + ['"$@"'] + [shlex.quote(a) for a in extra_args]
    script = "#!/bin/sh\nexec {}\n".format(" ".join(words))
    if os.path.isfile(path):
        with open(path) as f:
            if f.read() == script:
                return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".pyo3-tmp"
    with open(tmp, "w") as f:
        f.write(script)
    os.chmod(tmp, 0o755)
    os.replace(tmp, path)


def _write_script(path: str, script: str) -> None:
    if os.path.isfile(path):
        with open(path) as f:
            if f.read() == script:
                return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".pyo3-tmp"
    with open(tmp, "w") as f:
        f.write(script)
    os.chmod(tmp, 0o755)
    os.replace(tmp, path)


def zig_wrapper_script(zig: str, command: str, target: str, zig_cache: str) -> str:
    """A C compiler/linker driver running `zig <command> -target <target>`.

    It drops the `--target=<Rust triple>` that the `cc` crate passes to clang-like compilers (zig
    can't parse a Rust triple) and rustc's `-Wl,--no-undefined-version` (which zig's linker rejects
    for the symbol versions of its glibc stubs), as maturin's zig wrapper does."""
    return (
        "#!/bin/sh\n"
        "ZIG_GLOBAL_CACHE_DIR={cache}; ZIG_LOCAL_CACHE_DIR={cache}\n"
        "export ZIG_GLOBAL_CACHE_DIR ZIG_LOCAL_CACHE_DIR\n"
        "for arg do\n"
        "  shift\n"
        '  case "$arg" in\n'
        "    --target=*|-Wl,--no-undefined-version) ;;\n"
        '    *) set -- "$@" "$arg" ;;\n'
        "  esac\n"
        "done\n"
        'exec {zig} {command} -target {target} "$@"\n'
    ).format(
        cache=shlex.quote(zig_cache),
        zig=shlex.quote(zig),
        command=command,
        target=shlex.quote(target),
    )


def zig_wrappers(cfg: BuildConfig, wrapper_dir: str) -> dict:
    """Write the zig wrappers for `cfg` at stable paths (cargo and the `cc` crate key their caches
    on them), and return the environment that makes cargo link, and the `cc` crate compile, with
    them."""
    zig_cache = os.path.realpath(cfg.zig_cache_dir)
    os.makedirs(zig_cache, exist_ok=True)
    paths = {}
    for name, command in (("cc", "cc"), ("c++", "c++")):
        paths[name] = os.path.join(wrapper_dir, "zig-" + name)
        _write_script(paths[name], zig_wrapper_script(cfg.zig, command, cfg.zig_target, zig_cache))
    paths["ar"] = os.path.join(wrapper_dir, "zig-ar")
    _write_script(paths["ar"], '#!/bin/sh\nexec {} ar "$@"\n'.format(shlex.quote(cfg.zig)))
    triple = cfg.target_triple.replace("-", "_")
    return {
        "CARGO_TARGET_{}_LINKER".format(re.sub(r"[^A-Za-z0-9]", "_", cfg.target_triple).upper()): (
            paths["cc"]
        ),
        "CC_" + triple: paths["cc"],
        "CXX_" + triple: paths["c++"],
        "AR_" + triple: paths["ar"],
    }


# What clang (zig cc) and lld say about a function the glibc baseline's headers or stubs lack.
_MISSING_FUNCTION = re.compile(
    r"(?:call to undeclared function|implicit declaration of function|undefined symbol:)"
    r" '?([A-Za-z_][A-Za-z0-9_]*)'?"
)


def missing_baseline_functions(stderr: str) -> list:
    """The functions a failed zig build did not find in the glibc baseline, in order."""
    return list(dict.fromkeys(_MISSING_FUNCTION.findall(stderr)))


def baseline_triple_dir(cfg: BuildConfig) -> str:
    """Builds for a glibc baseline get target directories of their own (another linker and C
    compiler), seeded only from each other: e.g. `x86_64-unknown-linux-gnu+glibc2.17`."""
    if not cfg.zig_target:
        return cfg.target_triple
    return "{}+glibc{}".format(cfg.target_triple, cfg.zig_target.partition(".")[2])


def main() -> None:
    cfg = read_config(BuildConfig, sys.argv[1])
    cache = os.path.realpath(cfg.cache_dir)
    key = target_key(baseline_triple_dir(cfg), cfg.abi_tag)
    layout = cache_layout(cache, key)
    mirror, cargo_home, target_dir = layout["mirror"], layout["cargo_home"], layout["target_dir"]
    os.makedirs(mirror, exist_ok=True)
    os.makedirs(cargo_home, exist_ok=True)

    manifest = os.path.join(mirror, cfg.crate_dir, "Cargo.toml")
    argv = [
        cfg.cargo,
        "build",
        "--lib",
        "--manifest-path",
        manifest,
        "--message-format=json-render-diagnostics",
        "--profile",
        cfg.profile,
        "--target",
        cfg.target_triple,
    ]
    if cfg.features:
        argv += ["--features", ",".join(cfg.features)]
    if not cfg.default_features:
        argv.append("--no-default-features")
    if os.path.join(cfg.crate_dir, "Cargo.lock") in cfg.files:
        argv.append("--locked")
    argv += cfg.cargo_args

    env = dict(os.environ)
    # Absolute paths of the mirror, cargo's registry and the target directory are remapped so they
    # don't end up in the binary (panic locations, debug info): the output doesn't depend on where
    # the cache lives, nor on which target directory built it. The remap is added by a rustc
    # wrapper, not RUSTFLAGS: cargo would rebuild everything whenever RUSTFLAGS change.
    remaps = path_remaps(cache, key)
    wrapper = layout["wrapper"]
    inner = [env["RUSTC_WRAPPER"]] if env.get("RUSTC_WRAPPER") else []
    env.update(
        CARGO_HOME=cargo_home,
        CARGO_TARGET_DIR=target_dir,
        PYO3_PYTHON=sys.executable,
        # pyo3 >= 0.29 reads this instead of its deprecated `extension-module` feature.
        PYO3_BUILD_EXTENSION_MODULE="1",
        RUSTC_WRAPPER=wrapper,
        CARGO_TERM_COLOR=env.get("CARGO_TERM_COLOR", "never"),
    )
    if cfg.zig:
        # One set of wrappers for the target directories of a triple and baseline: a copied seed
        # keeps seeing the same linker and C compiler paths.
        env.update(zig_wrappers(cfg, os.path.join(cache, "wrappers", baseline_triple_dir(cfg))))

    with mirror_synced(cache, cfg.files, cfg.crate_dir), target_dir_locked(cache, key):
        write_rustc_wrapper(wrapper, inner, remaps)
        # A cdylib's file name is its `[lib] name` alone (`lib_native.so`), so crates that share a
        # name share that file in a target directory, and cargo reports it even when it skips a
        # build as fresh, though another crate may have written it since. Then this package (not
        # its dependencies) is cleaned, so cargo writes the file for this build.
        owners = LibraryOwners(target_dir)
        if not owners.owns(manifest):
            subprocess.run(
                [
                    cfg.cargo,
                    "clean",
                    "--manifest-path",
                    manifest,
                    "--package",
                    cfg.package,
                    "--profile",
                    cfg.profile,
                    "--target",
                    cfg.target_triple,
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=os.path.dirname(manifest),
            )
        # With zig, cargo's diagnostics are kept to find the functions the baseline lacks.
        proc = subprocess.run(
            argv,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE if cfg.zig else None,
            cwd=os.path.dirname(manifest),
        )
        if cfg.zig and proc.stderr:
            sys.stderr.write(proc.stderr.decode("utf-8", "replace"))
        if proc.returncode != 0:
            missing = (
                missing_baseline_functions(proc.stderr.decode("utf-8", "replace"))
                if cfg.zig
                else []
            )
            if missing:
                fail(EXIT_GLIBC_BASELINE, MISSING_SYMBOLS_PREFIX + " ".join(missing))
            fail(EXIT_CARGO_FAILED, "cargo exited with code {}.".format(proc.returncode))
        library = None
        for line in proc.stdout.decode("utf-8", "replace").splitlines():
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if (
                msg.get("reason") == "compiler-artifact"
                and msg.get("manifest_path") == manifest
                and "cdylib" in msg["target"]["kind"]
            ):
                library = next(
                    (p for p in msg["filenames"] if p.endswith((".so", ".dylib", ".dll"))), None
                )
        if library is None:
            fail(EXIT_NO_LIBRARY, "cargo built no cdylib for {}.".format(manifest))

        dest = cfg.output
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copyfile(library, dest)
        owners.record(manifest, library)

    symbols = elf_exported_symbols(dest)
    name = cfg.module_name.rpartition(".")[2]
    init = "PyInit_" + name
    if symbols and init not in symbols:
        exported = sorted(s for s in symbols if s.startswith("PyInit_"))
        fail(
            EXIT_NO_INIT_SYMBOL,
            "the library does not export `{}`, so `import {}` would fail. It exports: {}.".format(
                init, cfg.module_name, ", ".join(exported) or "no PyInit_ symbol at all"
            ),
        )


# Helpers for the other cargo commands run in the same cache (`run_cargo.py`: tests and clippy).
# `main` and the other cargo commands use these, so they share the build's mirror, locks, target
# directories and wrapper.
MIRROR_LOCK = ".mirror.lock"
SEEDABLE = ".pants-pyo3-seedable"


def target_key(triple: str, abi_tag: str) -> str:
    """The target directory of builds for one target triple and interpreter ABI."""
    return "{}/{}".format(triple, abi_tag)


def cache_layout(cache: str, key: str) -> dict:
    """The directories of the named cache: the source mirror, cargo's home, and the target
    directory and rustc wrapper of builds for `key` (see `target_key`)."""
    return {
        "mirror": os.path.join(cache, "src"),
        "cargo_home": os.path.join(cache, "cargo-home"),
        "target_dir": os.path.join(cache, "targets", key),
        "wrapper": os.path.join(cache, "wrappers", key, "rustc-wrapper"),
    }


def path_remaps(cache: str, key: str) -> list:
    """The `--remap-path-prefix` arguments the `RUSTC_WRAPPER` adds (see `main`)."""
    layout = cache_layout(cache, key)
    return [
        "--remap-path-prefix={}=/pyo3/src".format(layout["mirror"]),
        "--remap-path-prefix={}=/pyo3/cargo".format(layout["cargo_home"]),
        "--remap-path-prefix={}=/pyo3/target".format(layout["target_dir"]),
    ]


def _lock(path: str, mode: int):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    f = open(path, "a")
    fcntl.flock(f, mode)
    return f


def _mirror_matches(files: list, crate_dir: str, mirror: str) -> bool:
    return all(same_content(rel, os.path.join(mirror, rel)) for rel in files) and not stray_files(
        set(files), crate_dir, mirror
    )


class mirror_synced:
    """Hold the mirror with `files` (relative paths, from the sandbox) in it: shared while it
    already matches, exclusively while changing it. `exclusive` keeps it exclusive throughout,
    for commands that change the mirror themselves."""

    def __init__(self, cache: str, files: list, crate_dir: str, exclusive: bool = False) -> None:
        self.cache, self.files, self.crate_dir, self.exclusive = cache, files, crate_dir, exclusive
        self.mirror = os.path.join(cache, "src")

    def __enter__(self):
        self.lock = _lock(
            os.path.join(self.cache, MIRROR_LOCK),
            fcntl.LOCK_EX if self.exclusive else fcntl.LOCK_SH,
        )
        while not _mirror_matches(self.files, self.crate_dir, self.mirror):
            if not self.exclusive:
                fcntl.flock(self.lock, fcntl.LOCK_UN)
                fcntl.flock(self.lock, fcntl.LOCK_EX)
            sync_mirror(self.files, self.crate_dir, self.mirror)
            if self.exclusive:
                break
            # Another run may change the mirror between giving up the exclusive lock and taking
            # the shared one: check again.
            fcntl.flock(self.lock, fcntl.LOCK_SH)
        return self

    def __exit__(self, *exc) -> None:
        self.lock.close()


class target_dir_locked:
    """Hold the target directory of `key` exclusively, creating it as a copy of another one of
    the same triple if it doesn't exist yet (see the module docstring)."""

    def __init__(self, cache: str, key: str) -> None:
        self.target_dir = cache_layout(cache, key)["target_dir"]

    def __enter__(self):
        self.seeding = None
        if os.path.exists(os.path.join(self.target_dir, SEEDABLE)):
            # Built before: no need to wait for the triple's first build. (Locks are always taken
            # in the order seeding lock, own lock, seed's lock.)
            self.lock = _lock(self.target_dir + ".lock", fcntl.LOCK_EX)
            return self
        triple_dir = os.path.dirname(self.target_dir)
        seeding = _lock(os.path.join(triple_dir, ".seed.lock"), fcntl.LOCK_EX)
        self.lock = _lock(self.target_dir + ".lock", fcntl.LOCK_EX)
        if os.path.exists(os.path.join(self.target_dir, SEEDABLE)):
            seeding.close()
            return self
        seeds = sorted(
            (os.path.getmtime(os.path.join(triple_dir, d, SEEDABLE)), d)
            for d in os.listdir(triple_dir)
            if os.path.exists(os.path.join(triple_dir, d, SEEDABLE))
        )
        if seeds:
            seed = os.path.join(triple_dir, seeds[-1][1])
            with _lock(seed + ".lock", fcntl.LOCK_EX):
                shutil.rmtree(self.target_dir, ignore_errors=True)
                tmp = self.target_dir + ".pyo3-tmp"
                shutil.rmtree(tmp, ignore_errors=True)
                shutil.copytree(seed, tmp, symlinks=True)
                os.unlink(os.path.join(tmp, SEEDABLE))
                os.replace(tmp, self.target_dir)
            seeding.close()
        else:
            # The first build of this triple: the others wait for it, then copy it.
            self.seeding = seeding
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is None and os.path.isdir(self.target_dir):
            with open(os.path.join(self.target_dir, SEEDABLE), "w"):
                pass
        if self.seeding:
            self.seeding.close()
        self.lock.close()


class LibraryOwners:
    """Which package last wrote each cdylib file of a target directory (see `main`)."""

    def __init__(self, target_dir: str) -> None:
        self.path = os.path.join(target_dir, ".pants-pyo3-libraries.json")
        try:
            with open(self.path) as f:
                self.data = json.load(f)
        except (OSError, ValueError):
            self.data = {"package_library": {}, "library_package": {}}

    def owns(self, manifest: str) -> bool:
        library = self.data["package_library"].get(manifest)
        return library is not None and self.data["library_package"].get(library) == manifest

    def record(self, manifest: str, library: str) -> None:
        self.data["package_library"][manifest] = library
        self.data["library_package"][library] = manifest
        self._write()

    def forget(self, manifest: str) -> None:
        """Another command may have written the package's library: its next build cleans it."""
        if self.data["package_library"].pop(manifest, None) is not None and os.path.isdir(
            os.path.dirname(self.path)
        ):
            self._write()

    def _write(self) -> None:
        tmp = self.path + ".pyo3-tmp"
        with open(tmp, "w") as f:
            json.dump(self.data, f, sort_keys=True)
        os.replace(tmp, self.path)


if __name__ == "__main__":
    main()
