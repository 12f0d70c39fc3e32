# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""A PEP 517 backend for wheels that hold PyO3 extension modules.

pants-pyo3 writes this file into the build chroot of every `python_distribution` whose dependencies
include a `pyo3_extension` (with the generated `setup.py`), next to a plan (`PLAN_FILE`) and the
compiled modules of every build. setuptools builds the wheel once without any module; then, for each
wheel of the plan (one per interpreter and target triple, or one per triple for abi3), this backend
writes a copy holding that wheel's modules, tagged `<python>-<abi>-<platform>` with
`Root-Is-Purelib: false`. With a manylinux policy, auditwheel's own analysis decides (or checks) the
manylinux tag of each wheel.

It runs in the build chroot, on any CPython the plugin supports (3.8+), with setuptools, wheel and,
for manylinux, auditwheel.
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


def _write_wheel(path, files, dist_info, tags):
    """Write a wheel holding `files` (arcname -> bytes) with a WHEEL file for `tags` and a RECORD."""
    wheel_meta = "Wheel-Version: 1.0\nGenerator: pants-pyo3\nRoot-Is-Purelib: false\n"
    wheel_meta += "".join("Tag: {}\n".format(tag) for tag in tags)
    entries = dict(files)
    entries[dist_info + "/WHEEL"] = wheel_meta.encode()
    # Package files first, then the .dist-info directory, RECORD last (as `wheel` orders them).
    names = sorted(n for n in entries if not n.startswith(dist_info + "/"))
    names += sorted(n for n in entries if n.startswith(dist_info + "/"))
    record_name = dist_info + "/RECORD"
    record = "".join("{},{},{}\n".format(n, _record_hash(entries[n]), len(entries[n])) for n in names)
    record += record_name + ",,\n"
    entries[record_name] = record.encode()
    names.append(record_name)
    stamp = time.gmtime(max(int(os.environ.get("SOURCE_DATE_EPOCH", "0")), 315532800))[:6]
    tmp = path + ".tmp"
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in names:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o755 if name.endswith(".so") else 0o644) << 16
            zf.writestr(info, entries[name])
    os.replace(tmp, path)


def _manylinux_tags(wheel_path, platform, policy):
    """The platform tags for a wheel under the manylinux `policy`, judged by auditwheel."""
    if policy == "off" or not platform.startswith("linux_"):
        return [platform]
    from auditwheel.libc import Libc  # pants: no-infer-dep
    from auditwheel.policy import WheelPolicies  # pants: no-infer-dep
    from auditwheel.wheel_abi import analyze_wheel_abi  # pants: no-infer-dep

    arch = platform[len("linux_"):]
    policies = WheelPolicies(libc=Libc.GLIBC, arch=arch)
    analysis = analyze_wheel_abi(policies, wheel_path, frozenset())
    actual = analysis.overall_tag
    actual_priority = policies.get_priority_by_name(actual)
    if policy == "auto":
        chosen = actual
    else:
        chosen = next(
            (
                p["name"]
                for p in policies.policies
                if p["name"] == "{}_{}".format(policy, arch)
                or "{}_{}".format(policy, arch) in ["{}_{}".format(a, arch) for a in p["aliases"]]
            ),
            None,
        )
        if chosen is None:
            _fail("auditwheel knows no manylinux policy {!r} for {}.".format(policy, arch))
        if actual_priority < policies.get_priority_by_name(chosen):
            symbols = sorted(
                "{} {}".format(lib, " ".join(sorted(versions)))
                for lib, versions in analysis.versioned_symbols.items()
            )
            _fail(
                "{} does not comply with {} (auditwheel: {}): its modules need {}. Set "
                "`[pyo3].manylinux` to `auto` (tags the wheel {}) or to a newer policy, or build on "
                "a system with an older glibc.".format(
                    os.path.basename(wheel_path), chosen, actual, "; ".join(symbols) or "other libraries",
                    actual,
                )
            )
    if chosen.startswith("linux_"):
        sys.stderr.write(
            "pants-pyo3: {} complies with no manylinux policy; it keeps the tag {}.\n".format(
                os.path.basename(wheel_path), platform
            )
        )
        return [platform]
    policy_info = policies.get_policy_by_name(chosen)
    return [chosen] + ["{}_{}".format(alias, arch) for alias in policy_info["aliases"]]


def _plan_wheel(base_files, dist_info, name_version, spec, wheel_directory, policy):
    files = dict(base_files)
    for module in spec["modules"]:
        with open(module["source"], "rb") as f:
            files[module["path"]] = f.read()
    prefix = "{}-{}".format(spec["python_tag"], spec["abi_tag"])
    plain = os.path.join(wheel_directory, "{}-{}-{}.whl".format(name_version, prefix, spec["platform"]))
    _write_wheel(plain, files, dist_info, ["{}-{}".format(prefix, spec["platform"])])
    platforms = _manylinux_tags(plain, spec["platform"], policy)
    if platforms == [spec["platform"]]:
        return os.path.basename(plain)
    final = os.path.join(wheel_directory, "{}-{}-{}.whl".format(name_version, prefix, ".".join(platforms)))
    _write_wheel(final, files, dist_info, ["{}-{}".format(prefix, p) for p in platforms])
    os.unlink(plain)
    return os.path.basename(final)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    with open(PLAN_FILE) as f:
        plan = json.load(f)
    # The modules generated into the package tree are this machine's builds; each wheel gets its own.
    for path in plan["strip"]:
        if os.path.exists(path):
            os.unlink(path)
    base_dir = tempfile.mkdtemp(prefix="pants-pyo3-base-")
    try:
        base = _setuptools().build_wheel(base_dir, config_settings, metadata_directory)
        name_version = "-".join(base.split("-")[:2])
        with zipfile.ZipFile(os.path.join(base_dir, base)) as zf:
            base_files = {
                info.filename: zf.read(info) for info in zf.infolist() if not info.is_dir()
            }
        dist_info = next(n.split("/")[0] for n in base_files if n.split("/")[0].endswith(".dist-info"))
        for name in (dist_info + "/WHEEL", dist_info + "/RECORD"):
            base_files.pop(name, None)
        built = [
            _plan_wheel(base_files, dist_info, name_version, spec, wheel_directory, plan["manylinux"])
            for spec in plan["wheels"]
        ]
    finally:
        shutil.rmtree(base_dir, ignore_errors=True)
    return built[0]
