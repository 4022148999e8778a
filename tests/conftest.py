"""Shared fixtures. gevent must patch the standard library before anything opens a socket."""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import uuid  # noqa: E402
from collections.abc import Iterator  # noqa: E402

import pytest  # noqa: E402

from ocpp_users.embedded import TestbedProcess  # noqa: E402


@pytest.fixture(scope="session")
def shared_testbed() -> Iterator[TestbedProcess]:
    """One testbed CSMS process for the whole run (tests that need other start-up options start
    their own). Use the ``csms`` fixture, which resets it before each test."""
    proc = TestbedProcess(["--port", "0", "--heartbeat-interval", "30", "-q"])
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def csms(shared_testbed: TestbedProcess) -> TestbedProcess:
    """The shared testbed, reset: no faults, default config and tags, empty message logs."""
    status, body = shared_testbed.api("POST", "/reset")
    assert status == 200, body
    return shared_testbed


@pytest.fixture
def cp_id() -> str:
    """A charge point id no other test uses."""
    return "T" + uuid.uuid4().hex[:12]
