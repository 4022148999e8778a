"""Reconnect: the testbed process is killed and restarted on the same port (``TestbedProcess.restart``);
the drop is counted, a call pending during the kill fails with ConnectionLost, the backoff between
attempts is bounded, the reconnect succeeds and calls work again."""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Iterator
from typing import Any

import gevent
import pytest

from ocpp_users.embedded import TestbedProcess
from ocpp_users.ocppj import errors
from ocpp_users.ocppj.sink import CP_TO_CSMS, WEBSOCKET, Recorder
from ocpp_users.v16.settings import ChargePointSettings
from ocpp_users.v16.station import Phase, Station


class TimedRecorder(Recorder):
    """A Recorder that also notes when each event arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[tuple[float, str, str, BaseException | None]] = []

    def __call__(self, **kwargs: Any) -> None:  # type: ignore[override]
        self.times.append((time.monotonic(), kwargs["request_type"], kwargs["name"], kwargs.get("exception")))
        super().__call__(**kwargs)


def settings(url: str, cp_id: str, **overrides: Any) -> ChargePointSettings:
    options: dict[str, Any] = {
        "call_timeout": 5.0,
        "connect_timeout": 2.0,
        "backoff_initial": 0.2,
        "backoff_max": 0.8,
        "backoff_jitter": 0.5,
    }
    options.update(overrides)
    return ChargePointSettings(cp_id=cp_id, url=url, **options)


def wait_until(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        gevent.sleep(0.05)


@pytest.fixture
def own_testbed() -> Iterator[TestbedProcess]:
    """A testbed of this test's own, since it gets killed."""
    proc = TestbedProcess(["--port", "0", "--heartbeat-interval", "30", "-q"])
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


# ---------------------------------------------------------------- backoff


def test_backoff_is_exponential_and_bounded() -> None:
    cp = Station(settings("ws://127.0.0.1:1/", "B1", backoff_initial=0.5, backoff_max=4.0, backoff_jitter=0.0))
    next_delay = cp.backoff_delays()
    assert [next_delay() for _ in range(7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0]


def test_backoff_jitter_stays_within_its_fraction() -> None:
    cp = Station(settings("ws://127.0.0.1:1/", "B2", backoff_initial=1.0, backoff_max=8.0, backoff_jitter=0.5))
    cp.rng = random.Random(7)
    next_delay = cp.backoff_delays()
    delays = [next_delay() for _ in range(40)]
    nominal = [min(2.0**i, 8.0) for i in range(40)]
    assert all(n / 2 <= d <= n for d, n in zip(delays, nominal, strict=True))
    assert len({round(d, 6) for d in delays[4:]}) > 10, "jitter spreads reconnects out"


# ---------------------------------------------------------------- kill and restart


def test_reconnect_after_the_csms_is_killed_and_restarted(own_testbed: TestbedProcess, cp_id: str) -> None:
    sink = TimedRecorder()
    cp = Station(settings(own_testbed.ws_url, cp_id), sink=sink)
    try:
        cp.connect()
        cp.boot()
        # A call pending when the CSMS dies: the testbed is told not to answer it.
        status, _ = own_testbed.api("PUT", "/faults", {"name": "no_answer", "action": "Heartbeat"})
        assert status == 200

        def pending_heartbeat() -> BaseException | None:
            try:
                cp.heartbeat()
            except errors.VolatileOcppError as exc:
                return exc
            return None

        pending = gevent.spawn(pending_heartbeat)
        gevent.sleep(0.2)
        killed = time.monotonic()
        own_testbed.stop()
        failure = pending.get(timeout=3)
        assert time.monotonic() - killed < 2.0, "the pending call failed with the connection, not its timeout"
        assert isinstance(failure, errors.ConnectionLost)
        assert str(failure).startswith("connection lost: ")
        wait_until(lambda: cp.drops == 1, 2, "the drop to be counted")
        [drop] = sink.select(WEBSOCKET, "disconnect")
        assert isinstance(drop.exception, errors.ConnectionLost)
        assert cp.phase == Phase.reconnecting

        # While the CSMS is down, attempts fail, spaced by the bounded backoff.
        gevent.sleep(2.2)
        attempts = [t for t, kind, name, exc in sink.times if kind == WEBSOCKET and name == "reconnect"]
        failures = sink.select(WEBSOCKET, "reconnect")
        assert len(failures) >= 3 and all(isinstance(r.exception, errors.TransportError) for r in failures)
        gaps = [b - a for a, b in itertools.pairwise(attempts)]
        assert all(0.05 <= gap <= 0.8 + 1.0 for gap in gaps), gaps
        assert not cp.connected
        with pytest.raises(errors.ConnectionLost):
            cp.heartbeat()

        restarted = time.monotonic()
        own_testbed.restart()
        assert cp.wait_connected(timeout=3)
        assert time.monotonic() - restarted < 0.8 + 3.0, "the next attempt comes within backoff_max"
        wait_until(lambda: cp.phase == Phase.booted, 3, "the charge point to be back in service")
        assert cp.reconnects == 1 and cp.drops == 1
        assert sink.select(WEBSOCKET, "reconnect")[-1].exception is None
        assert cp.heartbeat()["currentTime"], "calls work again"
        status, body = own_testbed.api("GET", f"/cps/{cp_id}")
        assert status == 200 and body["connected"] is True and body["counts"]["Heartbeat"] == 1
        heartbeat_outcomes = [type(r.exception).__name__ for r in sink.select(CP_TO_CSMS, "Heartbeat")]
        assert heartbeat_outcomes == ["ConnectionLost", "ConnectionLost", "NoneType"]
    finally:
        cp.stop(stop_transactions=False)


def test_reconnect_boots_again_when_not_yet_accepted(own_testbed: TestbedProcess, cp_id: str) -> None:
    own_testbed.api("PATCH", "/config", {"boot_status": "Pending", "boot_retry_interval": 1})
    sink = Recorder()
    cp = Station(settings(own_testbed.ws_url, cp_id), sink=sink)
    try:
        cp.connect()
        assert cp.boot()["status"] == "Pending"
        own_testbed.stop()
        wait_until(lambda: cp.drops == 1, 3, "the drop")
        own_testbed.restart()  # a fresh process: boot status Accepted again
        wait_until(lambda: cp.registration == "Accepted", 5, "an accepted BootNotification after the reconnect")
        assert cp.phase == Phase.booted
        _, body = own_testbed.api("GET", f"/cps/{cp_id}")
        assert body["counts"]["BootNotification"] == 1 and body["booted"] is True
    finally:
        cp.stop(stop_transactions=False)


def test_reconnect_after_csms_closes_the_connection(csms: TestbedProcess, cp_id: str) -> None:
    sink = Recorder()
    cp = Station(settings(csms.ws_url, cp_id), sink=sink)
    try:
        cp.connect()
        cp.boot()
        status, _ = csms.api("POST", f"/cps/{cp_id}/disconnect?code=1001")
        assert status == 200
        wait_until(lambda: cp.reconnects == 1 and cp.connected, 3, "the reconnect")
        [drop] = sink.select(WEBSOCKET, "disconnect")
        assert "code 1001" in str(drop.exception)
        assert cp.heartbeat()["currentTime"]
        _, body = csms.api("GET", f"/cps/{cp_id}")
        assert body["connections"] == 2
    finally:
        cp.stop(stop_transactions=False)


def test_no_reconnect_when_disabled_or_stopped(csms: TestbedProcess, cp_id: str) -> None:
    cp = Station(settings(csms.ws_url, cp_id, reconnect=False), sink=Recorder())
    cp.connect()
    cp.boot()
    csms.api("POST", f"/cps/{cp_id}/disconnect")
    wait_until(lambda: cp.drops == 1, 3, "the drop")
    gevent.sleep(0.6)
    assert not cp.connected and cp.reconnects == 0
    cp.stop(stop_transactions=False)
    assert cp.phase == Phase.stopped

    other = Station(settings(csms.ws_url, cp_id + "s"), sink=Recorder())
    other.connect()
    other.boot()
    other.stop()
    gevent.sleep(0.6)
    assert other.drops == 0 and other.reconnects == 0 and not other.connected


def test_a_drop_of_ours_during_a_reconnects_boot_reconnects_at_once(csms: TestbedProcess, cp_id: str) -> None:
    """A storm drops a charge point again while its reconnect's BootNotification is in flight: that
    boot is stopped by the run (CallCancelled), and the charge point reconnects after its backoff,
    not after the boot retry interval (which would inflate a storm's "all back after" figure)."""
    sink = Recorder()
    cp = Station(settings(csms.ws_url, cp_id, boot_retry_default=8.0), sink=sink)
    try:
        cp.connect()  # never booted: every reconnect boots
        status, _ = csms.api("PUT", "/faults", {"name": "late_answer", "seconds": 1.0, "action": "BootNotification"})
        assert status == 200
        assert cp.drop()
        wait_until(lambda: cp.reconnects == 1 and cp.connected, 3, "the first reconnect")
        gevent.sleep(0.3)  # its BootNotification is waiting for the late answer
        assert cp.drop()
        started = time.monotonic()
        wait_until(lambda: cp.reconnects == 2 and cp.connected, 4, "the second reconnect")
        assert time.monotonic() - started < 4
        assert cp.calls_stopped == 1  # the drop did hit the boot in flight (stopped by the run)
        csms.api("DELETE", "/faults")
        wait_until(lambda: cp.registration == "Accepted", 5, "the boot")
        assert sink.failures() == []
    finally:
        cp.stop(stop_transactions=False)


def test_a_drop_finds_nothing_to_drop_on_a_closed_connection(csms: TestbedProcess, cp_id: str) -> None:
    """A storm counts only the drops it made: none on a charge point whose connection is closed."""
    cp = Station(settings(csms.ws_url, cp_id, reconnect=False), sink=Recorder())
    try:
        cp.connect()
        cp.close()
        assert not cp.drop(offline_for=5.0)
        assert cp.drops == 0 and cp.offline_for == 0
    finally:
        cp.stop(stop_transactions=False)


def test_a_boot_never_spins_on_a_connection_that_is_closing(csms: TestbedProcess, cp_id: str) -> None:
    """A drop or close of ours under way: every call on the connection is stopped at once. The
    fleet user's boot loop waits for the connection to go instead of calling again and again
    without yielding (which froze the worker's event loop and counted a stopped call per turn)."""
    from locust.env import Environment

    from ocpp_users.fleet.users import ChargePointUser

    cp = Station(settings(csms.ws_url, cp_id, reconnect=False), sink=Recorder())
    try:
        cp.connect()  # not booted
        connection = cp.link.connection
        assert connection is not None
        connection._closing_by_us = True  # the state between the start of our close and its end
        assert cp.closing and cp.connected
        user = ChargePointUser(Environment(user_classes=[ChargePointUser]))
        user.cp = cp
        attempts: list[int] = []
        boot = cp.boot_until_accepted

        def counted(max_attempts: int | None = None) -> dict:
            attempts.append(1)
            if len(attempts) > 50:  # a bound, so that a loop that spins ends (and fails below) rather than hangs
                cp._stopping = True
            return boot(max_attempts)

        cp.boot_until_accepted = counted  # type: ignore[method-assign]
        others_ran: list[bool] = []
        booting = gevent.spawn(user._boot)
        gevent.spawn(others_ran.append, True)
        gevent.sleep(0.3)
        assert others_ran == [True]
        assert len(attempts) <= 1 and cp.calls_stopped <= 1, (len(attempts), cp.calls_stopped)
        cp._stopping = True  # what stop() sets first: the boot loop ends
        booting.join(timeout=2)
        assert booting.dead
    finally:
        cp.stop(stop_transactions=False)
