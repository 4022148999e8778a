"""Charging sessions against the testbed: transaction message retries and StopTransactionOnInvalidId."""

from __future__ import annotations

import time

import gevent

from ocpp_users.embedded import TestbedProcess
from ocpp_users.ocppj.sink import CP_TO_CSMS, Recorder
from ocpp_users.v16.settings import ChargePointSettings
from ocpp_users.v16.station import Station


def _charger(csms: TestbedProcess, cp_id: str, **config: str) -> tuple[Station, Recorder]:
    sink = Recorder()
    settings = ChargePointSettings(
        cp_id=cp_id, url=csms.ws_url, call_timeout=3, reconnect=False, meter_interval_override=0.2, configuration=config
    )
    cp = Station(settings, sink=sink)
    cp.connect()
    cp.boot_until_accepted()
    return cp, sink


def _received(csms: TestbedProcess, cp_id: str, action: str) -> list[dict]:
    _, body = csms.api("GET", f"/cps/{cp_id}/messages")
    return [m["payload"] for m in body["messages"] if m["direction"] == "in" and m["action"] == action]


def test_stop_transaction_is_retried_after_callerrors(csms: TestbedProcess, cp_id: str) -> None:
    cp, sink = _charger(csms, cp_id, TransactionMessageRetryInterval="0", TransactionMessageAttempts="3")
    try:
        csms.api("PUT", "/faults", {"name": "callerror", "action": "StopTransaction", "code": "InternalError"})
        cp.start_session(1, "VOCPP-VALID", 0.3).join(timeout=10)
        stops = _received(csms, cp_id, "StopTransaction")
        assert len(stops) == 3, stops  # TransactionMessageAttempts
        assert len({s["transactionId"] for s in stops}) == 1, "each retry repeats the same transaction"
        outcomes = [r.ok for r in sink.select(CP_TO_CSMS, "StopTransaction")]
        assert outcomes == [False, False, False]
    finally:
        cp.stop(stop_transactions=False)


def test_a_retry_that_succeeds_ends_the_session_normally(csms: TestbedProcess, cp_id: str) -> None:
    cp, sink = _charger(csms, cp_id, TransactionMessageRetryInterval="1", TransactionMessageAttempts="3")
    try:
        csms.api("PUT", "/faults", {"name": "callerror", "action": "StopTransaction", "code": "InternalError"})
        session = cp.start_session(1, "VOCPP-VALID", 0.3)
        deadline = time.monotonic() + 5
        while not _received(csms, cp_id, "StopTransaction") and time.monotonic() < deadline:
            gevent.sleep(0.05)
        csms.api("DELETE", "/faults")
        session.join(timeout=10)
        assert [r.ok for r in sink.select(CP_TO_CSMS, "StopTransaction")] == [False, True]
        assert cp.connectors[1].status == "Available"
    finally:
        cp.stop(stop_transactions=False)


def test_stop_transaction_on_invalid_id_true_stops_with_deauthorized(csms: TestbedProcess, cp_id: str) -> None:
    cp, _ = _charger(csms, cp_id)
    try:
        cp.start_session(1, "VOCPP-BLOCKED", 5, authorize=False).join(timeout=10)
        [stop] = _received(csms, cp_id, "StopTransaction")
        assert stop["reason"] == "DeAuthorized"
        assert cp.connectors[1].status == "Available"
    finally:
        cp.stop(stop_transactions=False)


def test_stop_transaction_on_invalid_id_false_keeps_the_transaction_without_energy(
    csms: TestbedProcess, cp_id: str
) -> None:
    """Errata 3.17: "when StopTransactionOnInvalidId is set to false: only stop energy delivery to the
    vehicle": the transaction goes on, SuspendedEVSE (OCTT TC_037_2_CS), no energy drawn."""
    cp, _ = _charger(csms, cp_id, StopTransactionOnInvalidId="false")
    try:
        session = cp.start_session(1, "VOCPP-BLOCKED", 0.8, authorize=False)
        gevent.sleep(0.5)
        assert cp.connectors[1].status == "SuspendedEVSE"
        assert cp.connectors[1].meter.effective_power() == 0.0
        statuses = [p["status"] for p in _received(csms, cp_id, "StatusNotification") if p["connectorId"] == 1]
        assert statuses[-1] == "SuspendedEVSE" and "Charging" not in statuses
        assert _received(csms, cp_id, "StopTransaction") == []
        session.join(timeout=10)
        [stop] = _received(csms, cp_id, "StopTransaction")
        assert stop["reason"] == "Local"
    finally:
        cp.stop(stop_transactions=False)


def test_change_availability_during_a_session_in_preparing_is_scheduled(csms: TestbedProcess, cp_id: str) -> None:
    cp, _ = _charger(csms, cp_id)
    try:
        csms.api("PUT", "/faults", {"name": "late_answer", "seconds": 0.5, "action": "Authorize"})
        session = cp.start_session(1, "VOCPP-VALID", 0.2)
        gevent.sleep(0.2)  # Preparing, waiting for Authorize.conf
        status, body = csms.api("POST", f"/cps/{cp_id}/ChangeAvailability", {"connectorId": 1, "type": "Inoperative"})
        assert (status, body) == (200, {"result": {"status": "Scheduled"}})
        session.join(timeout=10)
        statuses = [p["status"] for p in _received(csms, cp_id, "StatusNotification") if p["connectorId"] == 1]
        assert statuses[-1] == "Unavailable", statuses
        assert cp.connectors[1].operative is False
    finally:
        cp.stop(stop_transactions=False)


def test_an_illegal_status_change_is_refused_and_counted(csms: TestbedProcess, cp_id: str) -> None:
    from ocpp_users.ocppj.errors import IllegalStatusChange

    cp, sink = _charger(csms, cp_id)
    try:
        cp.status_notification(1, "Preparing")
        before = len(_received(csms, cp_id, "StatusNotification"))
        try:
            cp.status_notification(1, "Unavailable")  # Preparing -> Unavailable is not in the 1.6 table
        except IllegalStatusChange as exc:
            assert "Preparing -> Unavailable" in str(exc)
        else:
            raise AssertionError("the illegal change was sent")
        assert len(_received(csms, cp_id, "StatusNotification")) == before
        assert isinstance(sink.select(CP_TO_CSMS, "StatusNotification")[-1].exception, IllegalStatusChange)
        assert cp.connectors[1].status == "Preparing"
    finally:
        cp.stop(stop_transactions=False)
