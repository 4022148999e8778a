"""The demonstration set-up: the testbed CSMS as the system under test.

Without ``--url`` the runner starts ``python -m testbed`` (via :class:`TestbedProcess`), drives its
CSMS-initiated steps through the testbed's control API and uses its configured idTags. The
testbed requires Basic auth with a random password, so TC_085 runs too.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import replace

from ocpp_users.embedded import TestbedProcess, TestbedStartError
from ocpp_users.ocppj.transport import SecurityConfig
from scenarios.options import RunOptions, Tags

VALID_TAG = "VOCPP-VALID"
BLOCKED_TAG = "VOCPP-BLOCKED"
EXPIRED_TAG = "VOCPP-EXPIRED"
INVALID_TAG = "VOCPP-INVALID"
GROUP_TAG = "VOCPP-GROUP"
PARENT_TAG = "VOCPP-PARENT"


def start_testbed(password: str | None) -> TestbedProcess:
    """Start the testbed; a :class:`TestbedStartError` (its text quotes the testbed's output) comes
    back with the password replaced by ``***``.

    The password reaches the testbed through ``TESTBED_BASIC_AUTH_PASSWORD``, not its command line,
    so it never shows in ``ps``."""
    args = ["--port", "0", "--api-port", "0", "-q", "--heartbeat-interval", "60"]
    env = dict(os.environ)
    env.pop("TESTBED_BASIC_AUTH_PASSWORD", None)
    if password:
        env["TESTBED_BASIC_AUTH_PASSWORD"] = password
    try:
        return TestbedProcess(args, env=env).start()
    except TestbedStartError as exc:
        raise TestbedStartError(redact(str(exc), password)) from None


def redact(text: str, secret: str | None) -> str:
    return text.replace(secret, "***") if secret else text


def testbed_password() -> str:
    return secrets.token_hex(12)


def against_testbed(options: RunOptions, testbed: TestbedProcess, password: str | None) -> RunOptions:
    """``options`` aimed at the testbed: its URL, its API as trigger driver, its tags."""
    tags = options.tags
    security = options.security
    if password:
        security = SecurityConfig(profile=1, password=password)
    return replace(
        options,
        url=testbed.ws_url.rstrip("/") + "/{cp_id}",
        trigger_url=options.trigger_url or testbed.api_url + "/cps/{cp_id}/{action}",
        security=security,
        tags=Tags(
            valid=tags.valid or VALID_TAG,
            invalid=tags.invalid or INVALID_TAG,
            expired=tags.expired or EXPIRED_TAG,
            blocked=tags.blocked or BLOCKED_TAG,
            group=tags.group or GROUP_TAG,
            parent=tags.parent or PARENT_TAG,
        ),
    )
