# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""A PEP 517 backend for wheels that hold PyO3 extension modules.

pants-pyo3 writes this file into the build chroot of every `python_distribution` whose dependencies
include a `pyo3_extension` (with the generated `setup.py`). It wraps setuptools and only changes two
things: the distribution reports that it has extension modules, so `bdist_wheel` tags the wheel for
the interpreter and platform (`cp311-cp311-linux_x86_64`) and writes `Root-Is-Purelib: false`; and
it refuses to package a module compiled for another interpreter than the one tagging the wheel.
It runs in the build chroot, on any CPython the plugin supports, with only setuptools.
"""

import os
import sysconfig

from setuptools import build_meta as _setuptools_backend  # pants: no-infer-dep
from setuptools.dist import Distribution  # pants: no-infer-dep

Distribution.has_ext_modules = lambda self: True  # type: ignore[assignment]

# Same inputs, same bytes: `wheel` stamps every zip entry with this time instead of the files' mtimes
# (which are the time Pants wrote the sandbox). 1980-01-01 is the earliest time a zip can hold.
os.environ.setdefault("SOURCE_DATE_EPOCH", "315532800")

get_requires_for_build_wheel = _setuptools_backend.get_requires_for_build_wheel
get_requires_for_build_sdist = _setuptools_backend.get_requires_for_build_sdist
prepare_metadata_for_build_wheel = _setuptools_backend.prepare_metadata_for_build_wheel


def build_sdist(sdist_directory, config_settings=None):
    # With `sdist=True`, pants-pyo3 writes `_pants_pyo3_sdist.py` (its `sdist_backend.py`) next to
    # this module: the sdist holds the crate's sources and builds with maturin, not the compiled
    # module that setuptools would pack.
    if os.path.exists("_pants_pyo3_sdist.py"):
        import _pants_pyo3_sdist  # pants: no-infer-dep

        return _pants_pyo3_sdist.build_sdist(sdist_directory, config_settings)
    return _setuptools_backend.build_sdist(sdist_directory, config_settings)


def _foreign_modules(top: str = ".") -> list:
    """Extension modules whose suffix names another interpreter than this one."""
    expected = sysconfig.get_config_var("EXT_SUFFIX") or ""
    foreign = []
    for root, _dirs, files in os.walk(top):
        for name in files:
            if name.endswith(".so") and ".cpython-" in name and not name.endswith(expected):
                foreign.append(os.path.relpath(os.path.join(root, name), top))
    return sorted(foreign)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    foreign = _foreign_modules()
    if foreign:
        raise SystemExit(
            "pants-pyo3: refusing to build a wheel tagged for this interpreter (extension suffix "
            "{}) holding modules built for another: {}. Give the python_distribution the same "
            "interpreter_constraints as its pyo3_extension targets.".format(
                sysconfig.get_config_var("EXT_SUFFIX"), ", ".join(foreign)
            )
        )
    return _setuptools_backend.build_wheel(wheel_directory, config_settings, metadata_directory)
