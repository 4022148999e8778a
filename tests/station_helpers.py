"""Helpers for the tests of a charger's own behaviour (configuration keys, offline operation,
realism): a factory of connected, booted stations against the testbed, and what the testbed saw."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ocpp_users.embedded import TestbedProcess
from ocpp_users.ocppj.sink import Recorder
from ocpp_users.v16.station import Station
from tests.test_handlers import TAG, make_settings, result_of, wait_until

MakeStation = Callable[..., Station]


@contextmanager
def station_factory(csms: TestbedProcess, cp_id: str) -> Iterator[MakeStation]:
    """``make(**settings)``: a connected, booted charger (statuses reported, the testbed's log then
    cleared); the second one made gets the id with a suffix. All are stopped at the end."""
    made: list[Station] = []

    def make(**overrides: Any) -> Station:
        cp = Station(make_settings(csms, cp_id + (f"-{len(made)}" if made else ""), **overrides), sink=Recorder())
        made.append(cp)
        cp.connect()
        assert cp.boot_until_accepted()["status"] == "Accepted"
        cp.report_all_statuses()
        clear(csms, cp)
        return cp

    try:
        yield make
    finally:
        for cp in made:
            cp.stop(stop_transactions=False)


def change(csms: TestbedProcess, cp: Station, key: str, value: str) -> str:
    """ChangeConfiguration.req from the CSMS; the status the charge point answered."""
    return str(result_of(csms, cp.cp_id, "ChangeConfiguration", {"key": key, "value": value})["status"])


def clear(csms: TestbedProcess, cp: Station) -> None:
    assert csms.api("DELETE", f"/cps/{cp.cp_id}/messages")[0] == 200


def messages(csms: TestbedProcess, cp: Station) -> list[dict[str, Any]]:
    """Every CALL the testbed received from the charge point, as recorded (``ts``: when it came)."""
    status, body = csms.api("GET", f"/cps/{cp.cp_id}/messages")
    assert status == 200
    return [m for m in body["messages"] if m["direction"] == "in" and m["type"] == 2]


def actions(csms: TestbedProcess, cp: Station) -> list[str]:
    return [m["action"] for m in messages(csms, cp)]


def record(csms: TestbedProcess, cp: Station) -> dict[str, Any]:
    status, body = csms.api("GET", f"/cps/{cp.cp_id}")
    assert status == 200
    return dict(body)


def session(cp: Station, duration: float = 0.2, tag: str = TAG, **kwargs: Any) -> None:
    """A driver's session on connector 1, to its end."""
    greenlet = cp.start_session(1, tag, duration, **kwargs)
    greenlet.join(timeout=10)
    assert greenlet.dead


def go_offline(cp: Station, seconds: float) -> None:
    """A network outage: the connection drops and the charge point reconnects after ``seconds``."""
    cp.drop(offline_for=seconds)
    assert not cp.connected


def back(cp: Station, timeout: float = 10.0) -> None:
    wait_until(lambda: cp.online and not cp.queued_messages, timeout, "the charge point back online, queue empty")
