# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""Keep publishing credentials out of Pants' logs.

`pants publish` uploads `python_distribution` packages with Pants' own twine backend
(`pants.backend.experimental.python`), which passes `TWINE_USERNAME` and `TWINE_PASSWORD` (taken
from `TWINE_*_<ALIAS>` or plain `TWINE_*` in Pants' environment) to twine as process environment.
Pants 2.17's `publish` goal logs each upload process at debug level (`Execute
InteractiveProcess(...)`), and that text holds the process' environment: with `-ldebug` the password
would reach the console, `.pants.d/pants.log` and the run tracker's logs. This module installs a
logging filter that replaces the value of every secret-looking variable in those records.
"""

from __future__ import annotations

import logging
import re

logger = logging.getLogger(__name__)

# The loggers whose records can hold a process environment with credentials in it.
_PUBLISH_LOGGERS = ("pants.core.goals.publish",)

REDACTED = "<redacted>"

# An environment entry as `repr()` writes it inside `FrozenDict({...})`, whose name says it is a
# secret.
_SECRET_ENTRY = re.compile(
    r"""(?P<name>'[A-Z0-9_]*(?:PASSWORD|TOKEN|SECRET)[A-Z0-9_]*'): """
    r"""(?P<value>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")""",
    re.IGNORECASE,
)


def redact_secrets(message: str) -> str:
    """`message` with the value of every secret-named `'NAME': 'value'` entry replaced."""
    return _SECRET_ENTRY.sub(lambda m: f"{m['name']}: '{REDACTED}'", message)


class SecretRedactingFilter(logging.Filter):
    """Rewrites log records so that the values of secret-named environment variables never leave."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_secrets(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def install_log_redaction() -> None:
    """Attach the filter to Pants' publish loggers, once per process (pantsd reloads rules, not
    modules)."""
    for name in _PUBLISH_LOGGERS:
        target = logging.getLogger(name)
        if not any(isinstance(f, SecretRedactingFilter) for f in target.filters):
            target.addFilter(SecretRedactingFilter())


def rules():
    # No rules of our own: Pants' twine backend does the uploads. Loading the backend is the moment
    # to protect its logs.
    install_log_redaction()
    return []
