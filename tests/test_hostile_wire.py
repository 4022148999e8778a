"""A CSMS that breaks the wire cannot exhaust or wedge a charge point (issue 10, items 2 and 5).

Against the testbed's fault switches: a frame header announcing 2^40 bytes is refused before
anything of it is buffered (close code 1009, a counted failure naming the size, a reconnect, RSS
bounded); masked frames and reserved bits fail the connection with a close frame 1002 (RFC 6455
§5.1, §7.4.1); a CALL with an over-long or unreadable message id gets a CALLERROR (OCPP-J 1.6
§4.2.3; OCPP 2.0.1 part 4 §4.2.3 for "-1"); ReserveNow with a past expiryDate is Rejected.
Each has its passing counterpart against the correct testbed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import gevent
import pytest

from ocpp_users.embedded import TestbedProcess
from ocpp_users.ocppj.errors import ConnectionLost, FrameError
from ocpp_users.ocppj.sink import PROTOCOL, WEBSOCKET, Recorder
from ocpp_users.v16.settings import ChargePointSettings
from ocpp_users.v16.station import Station

ROOT = Path(__file__).resolve().parent.parent


def set_fault(csms: TestbedProcess, name: str, **args: Any) -> None:
    status, body = csms.api("PUT", "/faults", {"name": name, **args})
    assert status == 200, body


def record_of(csms: TestbedProcess, cp_id: str) -> dict[str, Any]:
    status, body = csms.api("GET", f"/cps/{cp_id}")
    assert status == 200, body
    return dict(body)


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = gevent.get_hub().loop.now() + timeout
    while gevent.get_hub().loop.now() < deadline:
        if predicate():
            return True
        gevent.sleep(0.05)
    return predicate()


def failures(cp: Station, request_type: str) -> list[BaseException]:
    assert isinstance(cp.sink, Recorder)
    return [r.exception for r in cp.sink.select(request_type) if r.exception is not None]


@pytest.fixture
def make(csms: TestbedProcess, cp_id: str) -> Iterator[Callable[..., Station]]:
    made: list[Station] = []

    def build(**settings: Any) -> Station:
        values: dict[str, Any] = {"call_timeout": 2.0, "backoff_initial": 0.1, "backoff_max": 0.3}
        values.update(settings)
        cp = Station(ChargePointSettings(cp_id=cp_id, url=csms.ws_url, **values), sink=Recorder())
        cp.connect()
        cp.boot()
        made.append(cp)
        return cp

    yield build
    for cp in made:
        cp.stop(stop_transactions=False)


# ---------------------------------------------------------------- item 2: the largest message


def test_a_length_bomb_is_refused_at_its_header_with_1009_and_the_charge_point_reconnects(
    csms: TestbedProcess, cp_id: str, make: Callable[..., Station]
) -> None:
    cp = make()
    set_fault(csms, "length_bomb", action="Heartbeat", limit=16 << 20)
    with pytest.raises(ConnectionLost):
        cp.heartbeat()
    [refused] = failures(cp, PROTOCOL)
    assert isinstance(refused, FrameError)
    assert str(refused) == "inbound message too big (at least 1 TiB announced, limit 1 MiB)"
    assert refused.detail == f"{1 << 40} bytes", "the exact size is in the detail"
    [dropped] = failures(cp, WEBSOCKET)
    assert "inbound message too big" in str(dropped) and "closed with 1009" in str(dropped)
    assert wait_until(lambda: cp.connected and cp.reconnects == 1), "the charge point came back"
    record = record_of(csms, cp_id)
    assert record["closes"][0]["code"] == 1009, record["closes"]
    assert record["closes"][0]["by_csms"] is False
    assert record["connections"] == 2
    csms.api("DELETE", "/faults")
    assert cp.heartbeat()["currentTime"], "and works on the new connection"


def test_the_limit_is_configurable_and_a_large_legitimate_answer_fits(
    csms: TestbedProcess, make: Callable[..., Station]
) -> None:
    big = "x" * (1536 << 10)  # a 1.5 MiB DataTransfer.conf
    set_fault(csms, "override_response", action="DataTransfer", payload={"data": big})
    roomy = make(max_frame_size=2 << 20)
    assert roomy.call("DataTransfer", {"vendorId": "VolatileOCPP"})["data"] == big
    assert failures(roomy, PROTOCOL) == []
    roomy.stop(stop_transactions=False)
    default = make()
    with pytest.raises(ConnectionLost):
        default.call("DataTransfer", {"vendorId": "VolatileOCPP"})
    assert [str(f) for f in failures(default, PROTOCOL)] == [
        "inbound message too big (at least 1 MiB announced, limit 1 MiB)"
    ]


_CHILD = textwrap.dedent(
    """
    from gevent import monkey; monkey.patch_all()
    import json, resource, sys, time
    import gevent
    from ocpp_users.ocppj.sink import Recorder
    from ocpp_users.v16.settings import ChargePointSettings
    from ocpp_users.v16.station import Station

    url, cp_id = sys.argv[1], sys.argv[2]
    settings = ChargePointSettings(cp_id=cp_id, url=url, call_timeout=3.0, backoff_initial=0.1, backoff_max=0.3)
    cp = Station(settings, sink=Recorder())
    cp.connect()
    cp.boot()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print("booted", flush=True)
    sys.stdin.readline()  # the parent sets the fault
    try:
        cp.heartbeat()
    except Exception as exc:
        outcome = type(exc).__name__
    else:
        outcome = "answered"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not (cp.connected and cp.reconnects >= 1):
        gevent.sleep(0.05)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"before_kib": before, "after_kib": after, "outcome": outcome,
                      "reconnects": cp.reconnects, "connected": cp.connected}), flush=True)
    cp.stop(stop_transactions=False)
    """
)


def test_rss_of_a_charge_point_process_stays_bounded_under_a_length_bomb(csms: TestbedProcess, cp_id: str) -> None:
    """A charge point process takes a header announcing 2^40 bytes followed by up to 128 MiB of
    filler: its peak RSS grows by far less than the filler (the bytes are never buffered)."""
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, csms.ws_url, cp_id],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None and child.stdout is not None
    try:
        assert child.stdout.readline().strip() == "booted"
        set_fault(csms, "length_bomb", action="Heartbeat", limit=128 << 20)
        child.stdin.write("go\n")
        child.stdin.flush()
        out, err = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    report = json.loads(out.strip().splitlines()[-1])
    grown_mib = (report["after_kib"] - report["before_kib"]) / 1024
    assert report["outcome"] == "ConnectionLost", (report, err[-2000:])
    assert grown_mib < 24, f"peak RSS grew {grown_mib:.1f} MiB under a 128 MiB bomb"
    assert report["connected"] and report["reconnects"] >= 1
    assert record_of(csms, cp_id)["bomb_bytes"] < 32 << 20, "the filler was not read to its end"


# ---------------------------------------------------------------- item 5: WebSocket violations


@pytest.mark.parametrize(
    ("fault", "rule"),
    [
        ("masked_frame", "masked frame from the server"),
        ("reserved_bits", "reserved bits set"),
    ],
)
def test_a_websocket_violation_is_failed_with_a_close_frame_1002(
    csms: TestbedProcess, cp_id: str, make: Callable[..., Station], fault: str, rule: str
) -> None:
    """RFC 6455 §5.1: "A client MUST close a connection if it detects a masked frame"; §7.4.1: 1002
    "terminating the connection due to a protocol error", sent before the TCP connection goes."""
    cp = make(reconnect=False)
    set_fault(csms, fault, action="Heartbeat")
    with pytest.raises(ConnectionLost):
        cp.heartbeat()
    assert [str(f) for f in failures(cp, PROTOCOL)] == [f"WebSocket protocol error: {rule}"]
    assert wait_until(lambda: bool(record_of(csms, cp_id)["closes"]))
    [close] = record_of(csms, cp_id)["closes"]
    assert close == {"code": 1002, "reason": "protocol error", "by_csms": False}


def test_a_clean_connection_ends_with_1000(csms: TestbedProcess, cp_id: str, make: Callable[..., Station]) -> None:
    """The correct testbed: frames read, the charge point closes normally (1000), no protocol failure."""
    cp = make(reconnect=False)
    assert cp.heartbeat()["currentTime"]
    cp.close()
    assert wait_until(lambda: bool(record_of(csms, cp_id)["closes"]))
    assert record_of(csms, cp_id)["closes"][0]["code"] == 1000
    assert failures(cp, PROTOCOL) == []


# ---------------------------------------------------------------- item 5: message ids


@pytest.mark.parametrize("length", [36, 37, 200])
def test_a_call_with_a_long_message_id_is_answered(
    csms: TestbedProcess, cp_id: str, make: Callable[..., Station], length: int
) -> None:
    """OCPP-J 1.6 §4.2.3 names "unique identifier too long" among the CALLERROR situations, and the
    CALLERROR's UniqueId "must be the exact same id that is in the call request": the CSMS gets its
    answer, with its own id (36 characters is allowed: a normal answer)."""
    cp = make()
    set_fault(csms, "long_message_id", action="ClearCache", length=length)
    status, body = csms.api("POST", f"/cps/{cp_id}/ClearCache?timeout=3", {})
    assert status == 200, body
    _, log = csms.api("GET", f"/cps/{cp_id}/messages")
    answer = [m for m in log["messages"] if m["direction"] == "in" and m["type"] in (3, 4)][-1]
    assert len(answer["id"]) == length, "answered with the CALL's own id"
    if length <= 36:
        assert body == {"result": {"status": "Accepted"}}
        assert failures(cp, PROTOCOL) == []
    else:
        assert body["error"]["code"] == "FormationViolation", body
        assert "message id longer than 36 characters" in body["error"]["description"]
        [problem] = failures(cp, PROTOCOL)
        assert str(problem) == (
            "invalid CALL frame (answered FormationViolation with its over-long id): "
            "message id longer than 36 characters"
        )


def test_a_call_with_an_unreadable_message_id_is_answered_with_minus_one(
    csms: TestbedProcess, cp_id: str, make: Callable[..., Station]
) -> None:
    """OCPP 2.0.1 part 4 §4.2.3 (1.6 has no rule): "When also the MessageId cannot be read, the
    CALLERROR SHALL contain "-1" as MessageId"."""
    cp = make()
    set_fault(csms, "unreadable_message_id", action="ClearCache")
    status, body = csms.api("POST", f"/cps/{cp_id}/ClearCache?timeout=3", {})
    assert status == 200 and body["error"]["code"] == "FormationViolation", body
    _, log = csms.api("GET", f"/cps/{cp_id}/messages")
    [answer] = [m for m in log["messages"] if m["direction"] == "in" and m["type"] == 4]
    assert answer["id"] == "-1"
    assert [str(f) for f in failures(cp, PROTOCOL)] == [
        'invalid CALL frame (answered FormationViolation with id "-1"): message id must be a string, got int'
    ]


# ---------------------------------------------------------------- item 5: ReserveNow


def _stamp(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.mark.parametrize(("offset_s", "expected"), [(-60, "Rejected"), (-0.001, "Rejected"), (60, "Accepted")])
def test_reserve_now_with_an_expiry_date_in_the_past_is_rejected(
    csms: TestbedProcess, cp_id: str, make: Callable[..., Station], offset_s: float, expected: str
) -> None:
    """OCPP 1.6 §5.13: a reservation "SHALL be terminated ... when the time specified in expiryDate
    is reached": one already past is not made (§7.40 Rejected: "Reservation has not been made")."""
    cp = make()
    payload = {"connectorId": 1, "expiryDate": _stamp(timedelta(seconds=offset_s)), "idTag": "T1", "reservationId": 7}
    status, body = csms.api("POST", f"/cps/{cp_id}/ReserveNow?timeout=3", payload)
    assert (status, body) == (200, {"result": {"status": expected}})
    assert (cp.connectors[1].reservation is None) == (expected == "Rejected")
