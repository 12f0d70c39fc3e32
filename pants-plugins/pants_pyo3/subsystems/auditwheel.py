# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""`[pyo3-auditwheel]`: the auditwheel that judges each module's manylinux compliance."""

from __future__ import annotations

from pants.backend.python.subsystems.python_tool_base import (
    LockfileRules,
    PythonToolRequirementsBase,
)
from pants.util.strutil import help_text


class Pyo3AuditwheelSubsystem(PythonToolRequirementsBase):
    options_scope = "pyo3-auditwheel"
    help = help_text(
        """
        auditwheel (https://github.com/pypa/auditwheel), whose own policies and analysis decide
        the manylinux tags of the wheels pants-pyo3 writes (see `[pyo3].manylinux`). pants-pyo3
        runs its analysis of each built module in a process of its own.

        Installed from a lockfile shipped with pants-pyo3. To use other versions, list them in a
        resolve of your own and set `install_from_resolve`, or regenerate a tool lockfile with
        `pants generate-lockfiles --resolve=pyo3-auditwheel`.
        """
    )

    # 6.1.0 is the last auditwheel that runs on CPython 3.8, which the analysis may run under.
    default_version = "auditwheel==6.1.0"
    default_extra_requirements = ["pyelftools==0.31", "packaging==24.0"]
    default_requirements = [default_version, *default_extra_requirements]

    register_interpreter_constraints = True
    default_interpreter_constraints = ["CPython>=3.8,<3.14"]

    default_lockfile_resource = ("pants_pyo3.subsystems", "auditwheel.lock")
    lockfile_rules_type = LockfileRules.SIMPLE


def rules():
    return [*Pyo3AuditwheelSubsystem.rules()]
