# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

from __future__ import annotations

import logging

import pytest
from pants.engine.process import InteractiveProcess
from pants_pyo3 import register
from pants_pyo3.publish.redaction import REDACTED, redact_secrets


def _execute_message(env: dict[str, str]) -> str:
    # Exactly what Pants 2.17's `publish` goal logs at debug level before each upload.
    process = InteractiveProcess(argv=("./twine.pex_pex_shim.sh", "upload", "dist/x.whl"), env=env)
    return f"Execute {process}"


@pytest.mark.parametrize(
    "password",
    [
        pytest.param("s3cret-Pa55", id="plain"),
        pytest.param("it's", id="single-quote"),
        pytest.param('say "hi"', id="double-quote"),
        pytest.param("""both ' and " \\ and }""", id="both-quotes-backslash-brace"),
        pytest.param("pypi-AgEIcHlwaS5vcmc", id="pypi-token"),
    ],
)
def test_redacts_password_in_process_repr(password: str) -> None:
    message = _execute_message(
        {"TWINE_USERNAME": "__token__", "TWINE_PASSWORD": password, "LANG": "C"}
    )
    assert repr(password) in message  # The leak this module exists for.
    redacted = redact_secrets(message)
    assert repr(password) not in redacted
    assert password not in redacted
    assert f"'TWINE_PASSWORD': '{REDACTED}'" in redacted
    # Everything else stays as it was, so debug logs remain useful.
    assert "'TWINE_USERNAME': '__token__'" in redacted
    assert "'LANG': 'C'" in redacted
    assert "dist/x.whl" in redacted


def test_redacts_other_secret_names() -> None:
    message = _execute_message(
        {"TWINE_PASSWORD_LOCAL": "a", "CI_TOKEN": "b", "MY_SECRET": "c", "HOME": "/h"}
    )
    assert redact_secrets(message).count(REDACTED) == 3
    assert "'HOME': '/h'" in redact_secrets(message)


def test_publish_goal_logger_is_filtered(caplog: pytest.LogCaptureFixture) -> None:
    register.rules()
    register.rules()  # Loading the backend again (as pantsd does) adds no second filter.
    publish_logger = logging.getLogger("pants.core.goals.publish")
    assert len(publish_logger.filters) == 1
    message = _execute_message({"TWINE_PASSWORD": "hunter2"})
    with caplog.at_level(logging.DEBUG, logger="pants.core.goals.publish"):
        publish_logger.debug(message)
        publish_logger.debug("Execute %s", message)
    assert len(caplog.records) == 2
    assert "hunter2" not in caplog.text
    assert REDACTED in caplog.text
