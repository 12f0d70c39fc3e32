# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""Build one PyO3 crate with cargo and place the module in its Python package.

This script runs inside a Pants sandbox under the Python interpreter the module is built for, so it
must work on every CPython the plugin supports (3.8+) with only the standard library.

The sandbox's path changes on every run, and Pants writes its files with fresh mtimes; cargo would
then rebuild everything (paths are part of its fingerprints and of RUSTFLAGS' remaps). So the crate's
files are mirrored into a fixed directory in a Pants named cache, copying only files whose content
changed, and cargo builds there with its registry and target directory in the same named cache. A
lock serialises builds that share the cache (concurrent Pants runs, several clones).
"""

from __future__ import annotations

import fcntl
import json
import os
import shlex
import shutil
import struct
import subprocess
import sys

# Exit codes the Pants rule maps to named errors.
EXIT_CARGO_FAILED = 10
EXIT_NO_LIBRARY = 11
EXIT_NO_INIT_SYMBOL = 12


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
    crate_mirror = os.path.join(mirror, crate_dir)
    for root, _dirs, names in os.walk(crate_mirror):
        for name in names:
            full = os.path.join(root, name)
            if os.path.relpath(full, mirror) not in wanted:
                os.unlink(full)


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
    tmp = path + ".pyo3-tmp"
    with open(tmp, "w") as f:
        f.write(script)
    os.chmod(tmp, 0o755)
    os.replace(tmp, path)


def main() -> None:
    with open(sys.argv[1]) as f:
        cfg = json.load(f)
    cache = os.path.realpath(cfg["cache_dir"])
    layout = cache_layout(cache)
    mirror, cargo_home, target_dir = layout["mirror"], layout["cargo_home"], layout["target_dir"]
    os.makedirs(mirror, exist_ok=True)
    os.makedirs(cargo_home, exist_ok=True)

    manifest = os.path.join(mirror, cfg["crate_dir"], "Cargo.toml")
    argv = [
        cfg["cargo"],
        "build",
        "--lib",
        "--manifest-path",
        manifest,
        "--message-format=json-render-diagnostics",
        "--profile",
        cfg["profile"],
        "--target",
        cfg["target_triple"],
    ]
    if cfg["features"]:
        argv += ["--features", ",".join(cfg["features"])]
    if not cfg["default_features"]:
        argv.append("--no-default-features")
    if os.path.join(cfg["crate_dir"], "Cargo.lock") in cfg["files"]:
        argv.append("--locked")
    argv += cfg["cargo_args"]

    env = dict(os.environ)
    # pyo3's crates are compiled for one interpreter (PYO3_PYTHON). In the shared target directory a
    # build for another interpreter would overwrite them, so alternating interpreters recompiled pyo3
    # every time. An interpreter-specific `-C metadata` in RUSTFLAGS gives the target crates their own
    # file names per interpreter ABI, so the builds for 3.9, 3.10, ... sit side by side. With
    # `--target`, RUSTFLAGS don't reach build scripts and proc macros (syn, pyo3-macros): those stay
    # shared.
    rustflags = "-Cmetadata=pants-pyo3-{}".format(cfg["abi_tag"])
    # Absolute paths of the mirror and cargo's registry are remapped so they don't end up in the
    # binary (panic locations, debug info): the output doesn't depend on where the cache lives. The
    # remap is added by a rustc wrapper, not RUSTFLAGS: cargo leaves all of RUSTFLAGS out of its
    # file names when they hold `--remap-path-prefix`, which would undo the `-C metadata` above.
    remaps = path_remaps(cache)
    wrapper = layout["wrapper"]
    inner = [env["RUSTC_WRAPPER"]] if env.get("RUSTC_WRAPPER") else []
    env.update(
        CARGO_HOME=cargo_home,
        CARGO_TARGET_DIR=target_dir,
        PYO3_PYTHON=sys.executable,
        # pyo3 >= 0.29 reads this instead of its deprecated `extension-module` feature.
        PYO3_BUILD_EXTENSION_MODULE="1",
        RUSTFLAGS=(env.get("RUSTFLAGS", "") + " " + rustflags).strip(),
        RUSTC_WRAPPER=wrapper,
        CARGO_TERM_COLOR=env.get("CARGO_TERM_COLOR", "never"),
    )

    with lock_cache(cache):
        sync_mirror(cfg["files"], cfg["crate_dir"], mirror)
        write_rustc_wrapper(wrapper, inner, remaps)
        # A cdylib's file name is its `[lib] name` alone (`lib_native.so`), so crates that share a
        # name share that file in the shared target directory, and cargo reports it even when it
        # skips a build as fresh, though another crate may have written it since. Cleaning this one
        # package (not its dependencies) makes cargo write the file for this build, under the lock.
        subprocess.run(
            [
                cfg["cargo"], "clean", "--manifest-path", manifest, "--package", cfg["package"],
                "--profile", cfg["profile"], "--target", cfg["target_triple"],
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=os.path.dirname(manifest),
        )
        proc = subprocess.run(argv, env=env, stdout=subprocess.PIPE, cwd=os.path.dirname(manifest))
        if proc.returncode != 0:
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

        dest = cfg["output"]
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copyfile(library, dest)

    symbols = elf_exported_symbols(dest)
    name = cfg["module_name"].rpartition(".")[2]
    init = "PyInit_" + name
    if symbols and init not in symbols:
        exported = sorted(s for s in symbols if s.startswith("PyInit_"))
        fail(
            EXIT_NO_INIT_SYMBOL,
            "the library does not export `{}`, so `import {}` would fail. It exports: {}.".format(
                init, cfg["module_name"], ", ".join(exported) or "no PyInit_ symbol at all"
            ),
        )


# Helpers for the other cargo commands run in the same cache (`cargo_driver.py`: tests and clippy).
# `main` and the other cargo commands (cargo_driver.py) use these, so they share the build's
# mirror, lock and wrapper.
LOCK_FILE = ".build.lock"


def cache_layout(cache: str) -> dict:
    """The directories of the named cache: the source mirror, cargo's home and its target dir."""
    return {
        "mirror": os.path.join(cache, "src"),
        "cargo_home": os.path.join(cache, "cargo-home"),
        "target_dir": os.path.join(cache, "target"),
        "wrapper": os.path.join(cache, "rustc-wrapper"),
    }


def path_remaps(cache: str) -> list:
    """The `--remap-path-prefix` arguments the `RUSTC_WRAPPER` adds (see `main`)."""
    layout = cache_layout(cache)
    return [
        "--remap-path-prefix={}=/pyo3/src".format(layout["mirror"]),
        "--remap-path-prefix={}=/pyo3/cargo".format(layout["cargo_home"]),
        "--remap-path-prefix={}=/pyo3/target".format(layout["target_dir"]),
    ]


def lock_cache(cache: str):
    """Take the cache's exclusive lock (the one `main` holds); it is released when the returned
    file is closed."""
    lock = open(os.path.join(cache, LOCK_FILE), "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    return lock


if __name__ == "__main__":
    main()
