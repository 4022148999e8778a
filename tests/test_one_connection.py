"""One connection per charge point, always (issue 10, item 3), counted on the CSMS side.

The testbed is set to leave a charge point's older connections open when it opens a new one
(``close_replaced: false``, as many CSMSs do), so ``GET /connections`` shows every socket a
charge point holds. Two Resets back to back (sent without waiting for the first answer: fault
``repeat_call``), a Reset while the CSMS drops the connection, and repeated reconnect
requests after a drop must each leave exactly one open connection.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import gevent
import pytest

from ocpp_users.embedded import TestbedProcess
from ocpp_users.ocppj.sink import Recorder
from ocpp_users.v16.settings import ChargePointSettings
from ocpp_users.v16.station import Station


def open_connections(csms: TestbedProcess, cp_id: str) -> int:
    status, body = csms.api("GET", "/connections")
    assert status == 200, body
    return sum(1 for c in body["connections"] if c["cp_id"] == cp_id)


def connections_made(csms: TestbedProcess, cp_id: str) -> int:
    return int(csms.api("GET", f"/cps/{cp_id}")[1]["connections"])


def wait_until(predicate: Callable[[], bool], timeout: float = 8.0) -> bool:
    deadline = gevent.get_hub().loop.now() + timeout
    while gevent.get_hub().loop.now() < deadline:
        if predicate():
            return True
        gevent.sleep(0.05)
    return predicate()


def send(csms: TestbedProcess, cp_id: str, action: str, payload: dict[str, Any]) -> None:
    status, body = csms.api("POST", f"/cps/{cp_id}/{action}?wait=0&timeout=5", payload)
    assert status == 202, body


@pytest.fixture
def leaky_csms(csms: TestbedProcess) -> Iterator[TestbedProcess]:
    status, body = csms.api("PATCH", "/config", {"close_replaced": False})
    assert status == 200 and body["close_replaced"] is False, body
    yield csms  # the csms fixture's POST /reset restores the config for the next test


@pytest.fixture
def cp(leaky_csms: TestbedProcess, cp_id: str) -> Iterator[Station]:
    settings = ChargePointSettings(
        cp_id=cp_id, url=leaky_csms.ws_url, call_timeout=2.0, backoff_initial=0.1, backoff_max=0.3
    )
    station = Station(settings, sink=Recorder())
    station.connect()
    station.boot()
    yield station
    station.stop(stop_transactions=False)


def settled(csms: TestbedProcess, cp: Station, made: int) -> bool:
    """The charge point is back (connected, Accepted) after ``made`` connections in all, and no
    reboot or reconnect is under way."""
    return (
        cp.connected
        and cp.registration == "Accepted"
        and not cp.reconnecting
        and connections_made(csms, cp.cp_id) >= made
    )


def test_two_resets_back_to_back_give_one_reboot_and_one_connection(leaky_csms: TestbedProcess, cp: Station) -> None:
    leaky_csms.api("PUT", "/faults", {"name": "repeat_call", "action": "Reset", "times": 2})
    send(leaky_csms, cp.cp_id, "Reset", {"type": "Hard"})
    assert wait_until(lambda: settled(leaky_csms, cp, 2))
    gevent.sleep(1.0)  # a second reboot, had there been one, would have reconnected by now
    _, log = leaky_csms.api("GET", f"/cps/{cp.cp_id}/messages")
    resets = [(m["direction"], m["type"]) for m in log["messages"] if m["action"] == "Reset"]
    # Both went out; the second may meet the first one's close frame (RFC 6455 §5.5.1: no data
    # frame after a Close), so only the first answer is sure to arrive.
    assert resets.count(("out", 2)) == 2 and resets.count(("in", 3)) >= 1, resets
    assert open_connections(leaky_csms, cp.cp_id) == 1
    assert connections_made(leaky_csms, cp.cp_id) == 2, "the second Reset joined the first reboot"


def test_a_reset_while_the_csms_drops_the_connection(leaky_csms: TestbedProcess, cp: Station) -> None:
    send(leaky_csms, cp.cp_id, "Reset", {"type": "Soft"})
    leaky_csms.api("POST", f"/cps/{cp.cp_id}/disconnect?code=1001")
    assert wait_until(lambda: settled(leaky_csms, cp, 2))
    gevent.sleep(1.0)
    assert open_connections(leaky_csms, cp.cp_id) == 1


def test_repeated_reconnect_requests_after_a_drop_open_one_connection(leaky_csms: TestbedProcess, cp: Station) -> None:
    cp.drop()
    for _ in range(3):
        cp.reconnect_in_background()
    assert wait_until(lambda: settled(leaky_csms, cp, 2))
    gevent.sleep(0.5)
    assert open_connections(leaky_csms, cp.cp_id) == 1
    assert connections_made(leaky_csms, cp.cp_id) == 2


def test_the_count_sees_a_leak(leaky_csms: TestbedProcess, cp: Station) -> None:
    """The measuring stick works: a second socket opened behind the station's back is counted."""
    from ocpp_users.ocppj.transport import connect
    from ocpp_users.v16.protocol import VERSION

    extra = connect(cp.url, cp.cp_id, cp.settings.security, subprotocol=VERSION.subprotocol, timeout=5)
    try:
        assert wait_until(lambda: open_connections(leaky_csms, cp.cp_id) == 2)
    finally:
        extra.close()
    assert wait_until(lambda: open_connections(leaky_csms, cp.cp_id) == 1)


def test_the_correct_testbed_closes_a_replaced_connection(csms: TestbedProcess, cp_id: str) -> None:
    """By default the testbed closes an older connection of the same id (its own config)."""
    settings = ChargePointSettings(cp_id=cp_id, url=csms.ws_url, call_timeout=2.0, reconnect=False)
    first, second = Station(settings, sink=Recorder()), Station(settings, sink=Recorder())
    first.connect()
    second.connect()
    try:
        assert wait_until(lambda: not first.connected)
        assert open_connections(csms, cp_id) == 1
    finally:
        first.stop(stop_transactions=False)
        second.stop(stop_transactions=False)
