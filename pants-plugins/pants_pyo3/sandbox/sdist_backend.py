# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""Writes the sdist of a `python_distribution` holding a PyO3 extension, inside its build chroot.

pants-pyo3 writes this file into the build chroot as `_pants_pyo3_sdist.py` (next to the wheel
backend, whose `build_sdist` calls it) when the distribution has `sdist=True`, together with a JSON
config and the crate's files under `__pants_pyo3_sdist/`. The config names every file of the sdist
and where it comes from in the chroot; the plugin computed all of it, including the `pyproject.toml`
that makes maturin the sdist's build backend, so this module only packs the files.

The archive is deterministic: entries sorted by name, every timestamp `SOURCE_DATE_EPOCH`, no user
or group names, and a gzip header without a name or time. It runs on any CPython the plugin
supports, with the standard library only.
"""

import gzip
import io
import json
import os
import tarfile

CONFIG = os.path.join("__pants_pyo3_sdist", "config.json")


def _add(tar, name, data, mtime, executable=False):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = mtime
    info.mode = 0o755 if executable else 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    tar.addfile(info, io.BytesIO(data))


def write_sdist(sdist_directory, config, read_file, mtime):
    """Write `<base_name>.tar.gz` into `sdist_directory` and return its file name.

    `config` holds `base_name`, `generated` (archive path -> text) and `files` (archive path ->
    path to read with `read_file`, which returns `(bytes, is_executable)`).
    """
    base = config["base_name"]
    entries = {}
    for name, text in config["generated"].items():
        entries[name] = (text.encode("utf-8"), False)
    for name, source in config["files"].items():
        entries[name] = read_file(source)
    filename = base + ".tar.gz"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(entries):
            data, executable = entries[name]
            _add(tar, base + "/" + name, data, mtime, executable)
    os.makedirs(sdist_directory, exist_ok=True)
    with open(os.path.join(sdist_directory, filename), "wb") as f:
        with gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0) as gz:
            gz.write(buf.getvalue())
    return filename


def _read_file(path):
    with open(path, "rb") as f:
        data = f.read()
    return data, bool(os.stat(path).st_mode & 0o111)


def build_sdist(sdist_directory, config_settings=None):
    with open(CONFIG, encoding="utf-8") as f:
        config = json.load(f)
    mtime = int(os.environ.get("SOURCE_DATE_EPOCH", "315532800"))
    return write_sdist(sdist_directory, config, _read_file, mtime)
