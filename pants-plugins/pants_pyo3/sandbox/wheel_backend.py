# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""A PEP 517 backend for wheels that hold PyO3 extension modules.

pants-pyo3 writes this file into the build chroot of every `python_distribution` whose dependencies
include a `pyo3_extension` (with the generated `setup.py`), next to a plan (`PLAN_FILE`), the
compiled modules of every build and a base wheel (`BASE_DIR`). For each wheel of the plan (one per
interpreter and target triple, or one per triple for abi3) the backend writes a copy of the base
wheel holding that wheel's modules, tagged `<python>-<abi>-<platform>` with
`Root-Is-Purelib: false`.

The slow parts run earlier, in processes of their own that Pants caches apart (see consumers.py), so
an edit of the Rust code only re-runs the part that depends on the module:

- `python wheel_backend.py base DIR SETTINGS` builds the base wheel with setuptools from the chroot
  without any module: it depends on the Python sources and the distribution's metadata only;
- `python wheel_backend.py analyze PLATFORM MODULE...` runs auditwheel's own analysis on a module
  as soon as it is built and prints it; the plugin derives each wheel's manylinux tags from the
  analyses of its modules.

It runs on any CPython the plugin supports (3.8+): with setuptools and wheel for `base`, auditwheel
for `analyze`, and the standard library alone for the wheels themselves.
"""

import base64
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
import zipfile

# The plugin imports this module only to ship it, so setuptools is imported (and patched) lazily, in
# the build chroot.
PLAN_FILE = "_pants_pyo3_wheels.json"
# Where the hook puts the base wheel that `base` built.
BASE_DIR = "_pants_pyo3_base"


def _setuptools():
    from setuptools import build_meta  # pants: no-infer-dep
    from setuptools.dist import Distribution  # pants: no-infer-dep

    # The base wheel is tagged for a platform; the plan's wheels are retagged anyway.
    Distribution.has_ext_modules = lambda self: True  # type: ignore[assignment]
    # Same inputs, same bytes: `wheel` stamps every zip entry with this time instead of the files'
    # mtimes (the time Pants wrote the sandbox). 1980-01-01 is the earliest time a zip can hold.
    os.environ.setdefault("SOURCE_DATE_EPOCH", "315532800")
    return build_meta


def get_requires_for_build_wheel(config_settings=None):
    return _setuptools().get_requires_for_build_wheel(config_settings)


def get_requires_for_build_sdist(config_settings=None):
    return _setuptools().get_requires_for_build_sdist(config_settings)


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    return _setuptools().prepare_metadata_for_build_wheel(metadata_directory, config_settings)


def build_sdist(sdist_directory, config_settings=None):
    # With `sdist=True`, pants-pyo3 writes `_pants_pyo3_sdist.py` (its `sdist_backend.py`) next to
    # this module: the sdist holds the crate's sources and builds with maturin, not the compiled
    # module that setuptools would pack.
    if os.path.exists("_pants_pyo3_sdist.py"):
        import _pants_pyo3_sdist  # pants: no-infer-dep

        return _pants_pyo3_sdist.build_sdist(sdist_directory, config_settings)
    return _setuptools().build_sdist(sdist_directory, config_settings)


def _fail(message):
    raise SystemExit("pants-pyo3: " + message)


def _record_hash(data):
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _write_wheel(path, files, dist_info, tags, compress=True):
    """Write a wheel holding `files` (arcname -> bytes) with a WHEEL file for `tags` and a
    RECORD."""
    wheel_meta = "Wheel-Version: 1.0\nGenerator: pants-pyo3\nRoot-Is-Purelib: false\n"
    wheel_meta += "".join("Tag: {}\n".format(tag) for tag in tags)
    entries = dict(files)
    entries[dist_info + "/WHEEL"] = wheel_meta.encode()
    # Package files first, then the .dist-info directory, RECORD last (as `wheel` orders them).
    names = sorted(n for n in entries if not n.startswith(dist_info + "/"))
    names += sorted(n for n in entries if n.startswith(dist_info + "/"))
    record_name = dist_info + "/RECORD"
    record = "".join(
        "{},{},{}\n".format(n, _record_hash(entries[n]), len(entries[n])) for n in names
    )
    record += record_name + ",,\n"
    entries[record_name] = record.encode()
    names.append(record_name)
    stamp = time.gmtime(max(int(os.environ.get("SOURCE_DATE_EPOCH", "0")), 315532800))[:6]
    tmp = path + ".tmp"
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(tmp, "w", compression=method) as zf:
        for name in names:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = method
            info.external_attr = (0o755 if name.endswith(".so") else 0o644) << 16
            zf.writestr(info, entries[name])
    os.replace(tmp, path)


def analyze(platform, modules):
    """Print auditwheel's analysis of `modules` (paths in the package tree) for a `platform` wheel,
    as JSON: the most compatible policy they comply with, the glibc symbol versions they need, and
    the policies for the architecture (name, priority, aliases). The plugin decides the wheel's
    tags from it (consumers.py), for any `[pyo3].manylinux` policy."""
    from auditwheel.libc import Libc  # pants: no-infer-dep
    from auditwheel.policy import WheelPolicies  # pants: no-infer-dep
    from auditwheel.wheel_abi import analyze_wheel_abi  # pants: no-infer-dep

    files = {}
    for path in modules:
        with open(path, "rb") as f:
            files[path] = f.read()
    files["probe-0.dist-info/METADATA"] = b"Metadata-Version: 2.1\nName: probe\nVersion: 0\n"
    policies = WheelPolicies(libc=Libc.GLIBC, arch=platform[len("linux_") :])
    probe_dir = tempfile.mkdtemp(prefix="pants-pyo3-probe-")
    try:
        probe = os.path.join(probe_dir, "probe-0-py3-none-{}.whl".format(platform))
        _write_wheel(probe, files, "probe-0.dist-info", ["py3-none-" + platform], compress=False)
        analysis = analyze_wheel_abi(policies, probe, frozenset())
    finally:
        shutil.rmtree(probe_dir, ignore_errors=True)
    print(
        json.dumps(
            {
                "overall": analysis.overall_tag,
                "versioned_symbols": {
                    lib: sorted(versions)
                    for lib, versions in sorted(analysis.versioned_symbols.items())
                },
                "policies": [
                    {"name": p["name"], "priority": p["priority"], "aliases": list(p["aliases"])}
                    for p in policies.policies
                ],
            },
            sort_keys=True,
        )
    )


def pep639_metadata(metadata, expression, license_files):
    """METADATA (text) with `License-Expression` and a `License-File` for each of `license_files`
    (PEP 639, Metadata-Version 2.4) instead of setuptools' `License` and `License-File` headers."""
    head, sep, body = metadata.partition("\n\n")
    lines = []
    skipping = False
    for line in head.rstrip("\n").split("\n"):
        if line[:1] in (" ", "\t") and skipping:
            continue  # A continuation of a dropped header.
        skipping = line.startswith(("License:", "License-File:", "License-Expression:"))
        if skipping:
            continue
        if line.startswith("Metadata-Version:"):
            line = "Metadata-Version: 2.4"
        lines.append(line)
    if expression:
        lines.append("License-Expression: " + expression)
    lines += ["License-File: " + name for name in license_files]
    return "\n".join(lines) + ("\n\n" + body if sep else "\n")


def _license_metadata(base_files, dist_info, plan):
    """The base wheel's files with the plan's license metadata and files (PEP 639)."""
    expression = plan.get("license_expression")
    license_files = plan.get("license_files") or []
    if not expression and not license_files:
        return base_files
    files = dict(base_files)
    metadata = dist_info + "/METADATA"
    old = [
        line.split(":", 1)[1].strip()
        for line in files[metadata].decode("utf-8").partition("\n\n")[0].split("\n")
        if line.startswith("License-File:")
    ]
    # setuptools' own copies of license files (it predates PEP 639's `licenses/` directory).
    for name in old:
        files.pop(dist_info + "/" + name, None)
        files.pop(dist_info + "/licenses/" + name, None)
    for name, source in license_files:
        with open(source, "rb") as f:
            files[dist_info + "/licenses/" + name] = f.read()
    files[metadata] = pep639_metadata(
        files[metadata].decode("utf-8"), expression, [name for name, _ in license_files]
    ).encode("utf-8")
    return files


def _plan_wheel(base_files, dist_info, name_version, spec, wheel_directory):
    files = dict(base_files)
    # PEP 770: the SBOMs of the wheel's modules (the crates compiled into each).
    for name, source in spec.get("sboms", []):
        with open(source, "rb") as f:
            files[dist_info + "/sboms/" + name] = f.read()
    for module in spec["modules"]:
        with open(module["source"], "rb") as f:
            files[module["path"]] = f.read()
    prefix = "{}-{}".format(spec["python_tag"], spec["abi_tag"])
    platforms = spec["platforms"]
    name = "{}-{}-{}.whl".format(name_version, prefix, ".".join(platforms))
    _write_wheel(
        os.path.join(wheel_directory, name),
        files,
        dist_info,
        ["{}-{}".format(prefix, p) for p in platforms],
    )
    return name


def build_base_wheel(base_dir, config_settings=None):
    """The wheel setuptools builds from the chroot, without any module (see the module
    docstring)."""
    os.makedirs(base_dir, exist_ok=True)
    return _setuptools().build_wheel(base_dir, config_settings)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    with open(PLAN_FILE) as f:
        plan = json.load(f)
    # The modules generated into the package tree are this machine's builds; each wheel gets its
    # own.
    for path in plan["strip"]:
        if os.path.exists(path):
            os.unlink(path)
    given = (
        sorted(n for n in os.listdir(BASE_DIR) if n.endswith(".whl"))
        if os.path.isdir(BASE_DIR)
        else []
    )
    if not given:
        _fail(
            "no base wheel in {}: the pants-pyo3 plugin builds it before this backend runs.".format(
                BASE_DIR
            )
        )
    base = os.path.join(BASE_DIR, given[0])
    name_version = "-".join(given[0].split("-")[:2])
    with zipfile.ZipFile(base) as zf:
        base_files = {info.filename: zf.read(info) for info in zf.infolist() if not info.is_dir()}
    dist_info = next(n.split("/")[0] for n in base_files if n.split("/")[0].endswith(".dist-info"))
    for name in (dist_info + "/WHEEL", dist_info + "/RECORD"):
        base_files.pop(name, None)
    base_files = _license_metadata(base_files, dist_info, plan)
    built = [
        _plan_wheel(base_files, dist_info, name_version, spec, wheel_directory)
        for spec in plan["wheels"]
    ]
    return built[0]


if __name__ == "__main__":
    if sys.argv[1] == "base":
        build_base_wheel(sys.argv[2], json.loads(sys.argv[3]) or None)
    elif sys.argv[1] == "analyze":
        analyze(sys.argv[2], sys.argv[3:])
    else:
        _fail("unknown command {!r}".format(sys.argv[1]))
