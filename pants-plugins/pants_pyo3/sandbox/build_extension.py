# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""Build one PyO3 crate with cargo and place the module in its Python package.

This script runs inside a Pants sandbox under the Python interpreter the module is built for, so it
must work on every CPython the plugin supports (3.8+) with only the standard library.

The sandbox's path changes on every run, and Pants writes its files with fresh mtimes; cargo would
then rebuild everything (paths are part of its fingerprints and of RUSTFLAGS' remaps). So the
crate's files are mirrored into a fixed directory in a Pants named cache, copying only files whose
content changed, and cargo builds there with its registry in the same named cache.

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
import hashlib
import json
import os
import re
import shlex
import shutil
import struct
import subprocess
import sys
import tempfile

# Exit codes the Pants rule maps to named errors.
EXIT_CARGO_FAILED = 10
EXIT_NO_LIBRARY = 11
EXIT_NO_INIT_SYMBOL = 12
EXIT_IMPORT_FAILED = 13
EXIT_LOCKFILE_OUTDATED = 14
# What the build rule reads from the driver's stderr on success: one line per file of the repo's
# source tree that changed while cargo ran (a build script writing outside its `OUT_DIR`).
SOURCE_TREE_WRITE = "pants-pyo3: source tree changed during the build: "
EXIT_NO_PYMODULE = 15
EXIT_GLIBC_BASELINE = 16
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
    # The interpreter ABI the module is compiled for (`abi3` or e.g.
    # `cpython-311-x86_64-linux-gnu`): each gets a target directory of its own.
    abi_tag: str
    # The named cache (relative to the sandbox), and where the module goes.
    cache_dir: str
    output: str
    # Import the module in a fresh interpreter (the one it was built for) after the build: only
    # for builds this machine can run (not cross builds).
    import_check: bool = False
    # Directories of the repo (relative to the build root: the crates' and the module's package)
    # whose files a build script must not change; a change is reported (see SOURCE_TREE_WRITE).
    watched_dirs: list = dataclasses.field(default_factory=list)
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


MIRRORED = ".pants-pyo3-mirrored.json"


def mirrored_files(mirror: str) -> set:
    """The files of `mirror` the plugin put there (as opposed to files a build script wrote)."""
    try:
        with open(os.path.join(mirror, MIRRORED)) as f:
            return set(json.load(f))
    except (OSError, ValueError):
        return set()


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
    # Files deleted from the crate must disappear from the mirror too, or cargo would still see
    # them.
    stray = stray_files(wanted, crate_dir, mirror)
    for rel in stray:
        try:
            os.unlink(os.path.join(mirror, rel))
        except FileNotFoundError:
            pass
    # Recorded before the next build of any crate in this mirror can run: it is held exclusively.
    mirrored = (mirrored_files(mirror) - set(stray)) | wanted
    tmp = os.path.join(mirror, MIRRORED + ".pyo3-tmp")
    with open(tmp, "w") as f:
        json.dump(sorted(mirrored), f, indent=0)
    os.replace(tmp, os.path.join(mirror, MIRRORED))


def stray_files(wanted: set, crate_dir: str, mirror: str) -> list:
    """Files the plugin mirrored for the crate that the crate doesn't have any more.

    Only files the plugin put there itself: what a build script writes into the crate's directory
    (generated sources, e.g. `src/generated.rs` from bindgen or prost, which the script reruns to
    write only when cargo says so) and the `Cargo.lock` cargo writes for a crate without one stay,
    as they would in a plain `cargo build`.
    """
    prefix = crate_dir.rstrip("/") + "/" if crate_dir.strip("/") else ""
    return sorted(
        rel for rel in mirrored_files(mirror) if rel.startswith(prefix) and rel not in wanted
    )


def elf_dynamic_symbols(path: str):
    """What an ELF shared library's dynamic section says (ELF32 or ELF64, either byte order: the
    host's and every cross target's), or None if `path` is no ELF: a dict of `defined` (the names
    of its exported symbols), `unversioned` (the undefined, non-weak symbols without a version:
    what must come from the process, not from a library it names) and `needed` (its `DT_NEEDED`
    libraries)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] not in (1, 2):
        return None
    endian = "<" if data[5] == 1 else ">"
    if data[4] == 2:
        shoff = struct.unpack_from(endian + "Q", data, 0x28)[0]
        shentsize, shnum = struct.unpack_from(endian + "HH", data, 0x3A)
        section_fmt, sym_fmt, info, dyn_fmt = "IIQQQQIIQQ", "IBBH", 1, "qQ"
    else:
        shoff = struct.unpack_from(endian + "I", data, 0x20)[0]
        shentsize, shnum = struct.unpack_from(endian + "HH", data, 0x2E)
        section_fmt, sym_fmt, info, dyn_fmt = "IIIIIIIIII", "IIIBBH", 3, "iI"
    sections = [
        struct.unpack_from(endian + section_fmt, data, shoff + i * shentsize) for i in range(shnum)
    ]

    def string(table: int, offset: int) -> str:
        start = sections[table][4] + offset
        return data[start : data.index(b"\0", start)].decode("utf-8", "replace")

    versions = []
    for section in sections:
        if section[1] == 0x6FFFFFFF:  # SHT_GNU_versym: a version index per dynamic symbol.
            versions = list(struct.unpack_from(endian + "H" * (section[5] // 2), data, section[4]))
    found = {"defined": set(), "unversioned": set(), "needed": []}
    for _name, sh_type, _flags, _addr, offset, size, link, _info, _align, entsize in sections:
        if sh_type == 6 and entsize:  # SHT_DYNAMIC
            for i in range(size // entsize):
                tag, value = struct.unpack_from(endian + dyn_fmt, data, offset + i * entsize)
                if tag == 1:  # DT_NEEDED
                    found["needed"].append(string(link, value))
        if sh_type != 11 or not entsize:  # SHT_DYNSYM
            continue
        for i in range(1, size // entsize):
            fields = struct.unpack_from(endian + sym_fmt, data, offset + i * entsize)
            name, shndx = string(link, fields[0]), fields[-1]
            if shndx != 0:
                found["defined"].add(name)
            # Undefined, not weak (STB_WEAK = 2), version index 0 (local) or 1 (global).
            elif fields[info] >> 4 != 2 and (versions[i] & 0x7FFF if versions else 1) <= 1:
                found["unversioned"].add(name)
    return found


def elf_exported_symbols(path: str) -> set:
    """The names of the defined symbols in an ELF shared library's dynamic symbol table, or None
    if `path` is no ELF."""
    found = elf_dynamic_symbols(path)
    return None if found is None else found["defined"]


# glibc's libraries (and libgcc's), whose symbols a module linked for a glibc baseline binds by
# version. The `ld-linux` loader's name varies by architecture.
_GLIBC_LIBRARY = re.compile(
    r"^(libc\.so\.6|libm\.so\.6|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1|libutil\.so\.1"
    r"|libresolv\.so\.2|libgcc_s\.so\.1|ld-linux.*|ld64\.so\..*)$"
)


def unversioned_imports(path: str) -> list:
    """The functions a module linked against a glibc baseline's stubs imports without a version:
    ones the baseline's glibc lacks (the linker found them nowhere, so nothing binds them to a
    glibc version), which the module can't be imported without on that glibc. Python's C API
    (`Py*`, `_Py*`) comes from the interpreter, unversioned by design. Empty when the module also
    links a library outside glibc's, which could define any of them."""
    found = elf_dynamic_symbols(path)
    if found is None or any(not _GLIBC_LIBRARY.match(lib) for lib in found["needed"]):
        return []
    return sorted(s for s in found["unversioned"] if not s.startswith(("Py", "_Py")))


# cargo's complaint when `--locked` is passed and `Cargo.lock` doesn't match `Cargo.toml` (cargo
# 1.80+: "cannot update the lock file ... because --locked was passed"; before: "... needs to be
# updated but --locked was passed"), and its advice, which a user of the plugin can't follow.
_LOCKED_RE = re.compile(r"lock file .* --locked was passed")
_LOCKED_ADVICE_RE = re.compile(r"^.*remove the --locked flag.*\n?", re.MULTILINE)


def lockfile_outdated(stderr: str) -> bool:
    return bool(_LOCKED_RE.search(stderr))


def without_locked_advice(stderr: str) -> str:
    return _LOCKED_ADVICE_RE.sub("", stderr)


def write_cargo_errors(stderr: bytes, mirror: str, lock_dir: str) -> str:
    """Write a failed cargo's diagnostics, with paths relative to the build root (not the
    `mirror`), and return them; exit with `EXIT_LOCKFILE_OUTDATED` and the fix if they say the
    lock file in `lock_dir` is outdated."""
    text = stderr.decode("utf-8", "replace").replace(mirror + os.sep, "")
    if lockfile_outdated(text):
        sys.stderr.write(without_locked_advice(text))
        fail(EXIT_LOCKFILE_OUTDATED, lockfile_fix(lock_dir))
    sys.stderr.write(text)
    return text


def lock_dir_of(files: list, crate_dir: str):
    """The directory of the `Cargo.lock` cargo uses for the crate in `crate_dir`, if the build has
    one: the crate's own, or its workspace's in a directory above it. Builds then pass `--locked`,
    so an outdated lock is an error, not a lock cargo silently rewrites in the mirror."""
    present = set(files)
    parts = crate_dir.strip("/").split("/") if crate_dir.strip("/") else []
    for i in range(len(parts), -1, -1):
        lock_dir = "/".join(parts[:i])
        if os.path.join(lock_dir, "Cargo.lock") in present:
            return lock_dir
    return None


def lockfile_fix(lock_dir: str) -> str:
    """What to do about an outdated `Cargo.lock` in `lock_dir` (relative to the build root)."""
    return (
        "The plugin builds with `--locked` (the lock file is part of the build's inputs), so "
        "update it: run `cargo update --workspace` in {0} (it adds what Cargo.toml now asks for "
        "without upgrading anything else; `cargo update -p <package>` updates one dependency, "
        "`cargo generate-lockfile` re-resolves them all), then commit {1}.".format(
            lock_dir or ".", os.path.join(lock_dir, "Cargo.lock")
        )
    )


def tree_state(root, dirs: list) -> dict:
    """(mtime, size) of every file under `dirs` (relative to `root`), hidden directories aside."""
    state = {}
    if root is None:
        return state
    for d in dirs:
        for dirpath, dirnames, names in os.walk(os.path.join(root, d)):
            dirnames[:] = [n for n in dirnames if not n.startswith(".")]
            for name in names:
                path = os.path.join(dirpath, name)
                try:
                    st = os.lstat(path)
                except OSError:
                    continue
                state[os.path.relpath(path, root)] = (st.st_mtime_ns, st.st_size)
    return state


def changed_files(before: dict, after: dict) -> list:
    return sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))


# Imports the module by file path under its full name, so only its own initialisation runs (not
# its package's `__init__.py`, which may import what isn't there at build time).
_IMPORT_CHECK = r"""
import importlib.util, sys, traceback
name, path = sys.argv[1], sys.argv[2]
try:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
except BaseException as e:
    missing = getattr(e, "name", None)
    if isinstance(e, ImportError) and missing and missing != name:
        # Another module the init imports (e.g. numpy), not installed where the build runs.
        sys.stdout.write(missing)
        sys.exit(3)
    sys.stdout.flush()
    sys.stderr.write("".join(traceback.format_exception_only(type(e), e)))
    sys.exit(1)
"""
IMPORT_CHECK_TIMEOUT = 120


def import_check(module_name: str, path: str):
    """Import the built module in a fresh interpreter (this one, which it was built for).

    Returns None if it imported, else what went wrong. An initialisation that needs another module
    this interpreter doesn't have passes (it is a dependency of the package, not of the build).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    with tempfile.TemporaryDirectory(prefix="pants-pyo3-import-") as cwd:
        try:
            proc = subprocess.run(
                [sys.executable, "-I", "-c", _IMPORT_CHECK, module_name, os.path.abspath(path)],
                cwd=cwd,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                timeout=IMPORT_CHECK_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            return "`import {}` did not finish within {} s.".format(
                module_name, IMPORT_CHECK_TIMEOUT
            )
    output = proc.stdout.decode("utf-8", "replace").strip()
    if proc.returncode in (0, 3):
        return None
    if proc.returncode < 0:
        return "`import {}` killed the interpreter (signal {}).{}".format(
            module_name, -proc.returncode, "\n" + output if output else ""
        )
    return output or "`import {}` failed (exit code {}).".format(module_name, proc.returncode)


def init_symbol_problem(path: str, module_name: str):
    """Why `import module_name` of the library at `path` would fail for want of its `PyInit_`
    function, as (exit code, message), or None if the library exports it.

    It holds for every build: a library exporting no symbol at all (pyo3 behind a Cargo feature the
    build doesn't enable, or an empty `lib.rs`) is the commonest way to get a module that builds
    but can't be imported. A library that isn't ELF (another platform's format) is searched for
    the symbol's name, which an exported function's string table must hold.
    """
    init = "PyInit_" + module_name.rpartition(".")[2]
    symbols = elf_exported_symbols(path)
    if symbols is None:
        with open(path, "rb") as f:
            data = f.read()
        if init.encode() + b"\0" in data:
            return None
        symbols = {m.decode() for m in re.findall(rb"PyInit_[A-Za-z0-9_]+", data)}
    elif init in symbols:
        return None
    exported = sorted(s for s in symbols if s.startswith("PyInit_"))
    if not exported:
        return (
            EXIT_NO_PYMODULE,
            "the library exports no `PyInit_` function at all, so `import {}` would fail: this "
            "build of the crate defines no `#[pymodule]`.".format(module_name),
        )
    return (
        EXIT_NO_INIT_SYMBOL,
        "the library does not export `{}`, so `import {}` would fail. It exports: {}.".format(
            init, module_name, ", ".join(exported)
        ),
    )


def write_rustc_wrapper(cache: str, key: str) -> None:
    """The `RUSTC_WRAPPER` of builds for `key`: rustc (through the user's own `RUSTC_WRAPPER`, if
    any) with the build's `path_remaps`."""
    inner = [os.environ["RUSTC_WRAPPER"]] if os.environ.get("RUSTC_WRAPPER") else []
    words = [shlex.quote(a) for a in inner] + ['"$@"']
    words += [shlex.quote(a) for a in path_remaps(cache, key)]
    _write_script(
        cache_layout(cache, key)["wrapper"], "#!/bin/sh\nexec {}\n".format(" ".join(words))
    )


def _write_script(path: str, script: str) -> None:
    """Write an executable script at a stable path, leaving it untouched if it is the same."""
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
    key = target_key(baseline_triple_dir(cfg), cfg.abi_tag)
    cache, layout = prepared_cache(cfg.cache_dir, key)
    mirror, target_dir = layout["mirror"], layout["target_dir"]

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
    lock_dir = lock_dir_of(cfg.files, cfg.crate_dir)
    if lock_dir is not None:
        argv.append("--locked")
    argv += cfg.cargo_args

    env = cargo_env(layout)
    # pyo3 >= 0.29 reads this instead of its deprecated `extension-module` feature.
    env["PYO3_BUILD_EXTENSION_MODULE"] = "1"
    if cfg.zig:
        # One set of wrappers for the target directories of a triple and baseline: a copied seed
        # keeps seeing the same linker and C compiler paths.
        env.update(zig_wrappers(cfg, os.path.join(cache, "wrappers", baseline_triple_dir(cfg))))

    buildroot = find_buildroot() if cfg.watched_dirs else None
    with mirror_synced(cache, cfg.files, cfg.crate_dir), target_dir_locked(cache, key):
        # Absolute paths of the mirror, cargo's registry and the target directory are remapped so
        # they don't end up in the binary (panic locations, debug info): the output doesn't depend
        # on where the cache lives, nor on which target directory built it. The remap is added by a
        # rustc wrapper, not RUSTFLAGS: cargo would rebuild everything whenever RUSTFLAGS change.
        write_rustc_wrapper(cache, key)
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
        before = tree_state(buildroot, cfg.watched_dirs)
        proc = subprocess.run(
            argv,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=os.path.dirname(manifest),
        )
        for path in changed_files(before, tree_state(buildroot, cfg.watched_dirs)):
            sys.stderr.write(SOURCE_TREE_WRITE + path + "\n")
        if proc.returncode != 0:
            # cargo's diagnostics (on success, nobody reads them).
            stderr = write_cargo_errors(proc.stderr, mirror, lock_dir or cfg.crate_dir)
            # With zig, cargo's diagnostics name the functions the glibc baseline lacks.
            missing = missing_baseline_functions(stderr) if cfg.zig else []
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

    problem = init_symbol_problem(dest, cfg.module_name)
    if problem is not None:
        os.unlink(dest)
        fail(*problem)
    # Rust code (an `extern "C"` block) calling a function the baseline's glibc lacks links all
    # the same, unversioned; the wheel would then fail to import on that glibc.
    missing = unversioned_imports(dest) if cfg.zig else []
    if missing:
        os.unlink(dest)
        fail(EXIT_GLIBC_BASELINE, MISSING_SYMBOLS_PREFIX + " ".join(missing))
    if cfg.import_check:
        problem = import_check(cfg.module_name, dest)
        if problem:
            fail(EXIT_IMPORT_FAILED, problem)


# Helpers for the other cargo commands run in the same cache (`run_cargo.py`: tests and clippy).
# `main` and the other cargo commands use these, so they share the build's mirror, locks, target
# directories and wrapper.
MIRROR_LOCK = ".mirror.lock"
SEEDABLE = ".pants-pyo3-seedable"


def target_key(triple: str, abi_tag: str) -> str:
    """The target directory of builds for one target triple and interpreter ABI."""
    return "{}/{}".format(triple, abi_tag)


def find_buildroot():
    """The build root of the Pants run that started this process, or None if it can't be told.

    It is not an input of the process (that would make its cache key, local and remote, differ per
    clone, and the module is the same wherever the repo is): Pants runs local processes as children
    of its own process (pantsd, or `pants --no-pantsd`), whose working directory is the build root.
    """
    try:
        parent = os.readlink("/proc/{}/cwd".format(os.getppid()))
    except OSError:
        return None
    path = parent
    while True:
        if os.path.isfile(os.path.join(path, "pants.toml")):
            return path
        up = os.path.dirname(path)
        if up == path:
            return None
        path = up


def mirror_dir(cache: str) -> str:
    """The source mirror of the repo Pants runs in: one per build root, so two repos that both have
    a `src/rust/myext` never rewrite each other's. Clones still share cargo's registry and the
    target directories, so dependencies are compiled once for all of them."""
    root = find_buildroot()
    if root is None:
        key = "unknown-build-root"
    else:
        digest = hashlib.sha256(root.encode("utf-8", "surrogateescape")).hexdigest()[:16]
        key = "{}-{}".format(os.path.basename(root) or "root", digest)
    return os.path.join(cache, "src", key)


def cache_layout(cache: str, key: str) -> dict:
    """The directories of the named cache: the source mirror, cargo's home, and the target
    directory and rustc wrapper of builds for `key` (see `target_key`)."""
    return {
        "mirror": mirror_dir(cache),
        "cargo_home": os.path.join(cache, "cargo-home"),
        "target_dir": os.path.join(cache, "targets", key),
        "wrapper": os.path.join(cache, "wrappers", key, "rustc-wrapper"),
    }


def prepared_cache(cache_dir: str, key: str) -> tuple:
    """The named cache's real path and its `cache_layout` for `key`, with the mirror and cargo's
    home made."""
    cache = os.path.realpath(cache_dir)
    layout = cache_layout(cache, key)
    os.makedirs(layout["mirror"], exist_ok=True)
    os.makedirs(layout["cargo_home"], exist_ok=True)
    return cache, layout


def cargo_env(layout: dict) -> dict:
    """The environment cargo runs with in the named cache (see `cache_layout`): its home, the
    target directory, pyo3 configured for this interpreter and the rustc wrapper."""
    env = dict(os.environ)
    env.update(
        CARGO_HOME=layout["cargo_home"],
        CARGO_TARGET_DIR=layout["target_dir"],
        PYO3_PYTHON=sys.executable,
        RUSTC_WRAPPER=layout["wrapper"],
        CARGO_TERM_COLOR=env.get("CARGO_TERM_COLOR", "never"),
    )
    return env


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
        self.mirror = mirror_dir(cache)

    def __enter__(self):
        self.lock = _lock(
            os.path.join(self.mirror, MIRROR_LOCK),
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
