"""Every CSMS-initiated OCPP 1.6 call, sent by the real testbed (``POST /cps/{id}/{Action}``) to a
connected ``Station``: the charger's answer and the follow-up messages the testbed
received (``GET /cps/{id}/messages``) are both asserted."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import gevent
import pytest

from ocpp_users.embedded import TestbedProcess
from ocpp_users.ocppj import errors
from ocpp_users.ocppj.sink import CP_TO_CSMS, CSMS_TO_CP, Recorder
from ocpp_users.v16.answers import InboundCall
from ocpp_users.v16.settings import Behaviour, ChargePointSettings
from ocpp_users.v16.station import Station

TAG = "VOCPP-VALID"

# ---------------------------------------------------------------- helpers


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def csms_call(csms: TestbedProcess, cp_id: str, action: str, payload: dict, timeout: float = 10) -> dict:
    """Have the testbed send a CALL; return {"result": ...} or {"error": {...}}."""
    status, body = csms.api("POST", f"/cps/{cp_id}/{action}?timeout={timeout:g}", payload)
    assert status == 200, (status, body)
    return body


def result_of(csms: TestbedProcess, cp_id: str, action: str, payload: dict) -> dict:
    body = csms_call(csms, cp_id, action, payload)
    assert "result" in body, body
    return body["result"]


def error_of(csms: TestbedProcess, cp_id: str, action: str, payload: dict) -> dict:
    body = csms_call(csms, cp_id, action, payload)
    assert "error" in body, body
    return body["error"]


def received(csms: TestbedProcess, cp_id: str, action: str | None = None) -> list[tuple[str, dict]]:
    """(action, payload) of every CALL the testbed received from the charge point, in order."""
    status, body = csms.api("GET", f"/cps/{cp_id}/messages")
    assert status == 200, body
    return [
        (m["action"], m["payload"])
        for m in body["messages"]
        if m["direction"] == "in" and m["type"] == 2 and (action is None or m["action"] == action)
    ]


def payloads(csms: TestbedProcess, cp_id: str, action: str) -> list[dict]:
    return [payload for _, payload in received(csms, cp_id, action)]


def wait_until(predicate: Callable[[], Any], timeout: float = 5.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        gevent.sleep(0.05)


def statuses(csms: TestbedProcess, cp_id: str, connector_id: int) -> list[str]:
    return [p["status"] for p in payloads(csms, cp_id, "StatusNotification") if p["connectorId"] == connector_id]


def wait_status(csms: TestbedProcess, cp_id: str, connector_id: int, status: str, timeout: float = 5.0) -> None:
    wait_until(
        lambda: status in statuses(csms, cp_id, connector_id),
        timeout,
        f"StatusNotification connector {connector_id} {status}",
    )


def sequence(csms: TestbedProcess, cp_id: str) -> list[str]:
    """Actions received, with StatusNotification spelled out as ``Status:<status>``."""
    return [f"Status:{p['status']}" if a == "StatusNotification" else a for a, p in received(csms, cp_id)]


def make_settings(csms: TestbedProcess, cp_id: str, **overrides: Any) -> ChargePointSettings:
    options: dict[str, Any] = {
        "call_timeout": 5.0,
        "meter_interval_override": 0.3,
        "time_factor": 20.0,
        "backoff_initial": 0.2,
        "backoff_max": 1.0,
    }
    options.update(overrides)
    return ChargePointSettings(cp_id=cp_id, url=csms.ws_url, **options)


@pytest.fixture
def make_charger(csms: TestbedProcess, cp_id: str) -> Iterator[Callable[..., Station]]:
    """Factory: a connected, booted charger (statuses reported), with the testbed's log then cleared."""
    made: list[Station] = []

    def make(**overrides: Any) -> Station:
        cp = Station(make_settings(csms, cp_id, **overrides), sink=Recorder())
        made.append(cp)
        cp.connect()
        assert cp.boot_until_accepted()["status"] == "Accepted"
        cp.report_all_statuses()
        status, _ = csms.api("DELETE", f"/cps/{cp_id}/messages")
        assert status == 200
        return cp

    yield make
    for cp in made:
        cp.stop(stop_transactions=False)


@pytest.fixture
def charger(make_charger: Callable[..., Station]) -> Station:
    return make_charger()


def start_charging(csms: TestbedProcess, cp: Station, connector_id: int = 1, tag: str = TAG) -> int:
    """Remote start a session and wait until it is Charging; return the transaction id."""
    assert result_of(csms, cp.cp_id, "RemoteStartTransaction", {"idTag": tag, "connectorId": connector_id}) == {
        "status": "Accepted"
    }
    wait_status(csms, cp.cp_id, connector_id, "Charging")
    tx = cp.connectors[connector_id].transaction_id
    assert isinstance(tx, int)
    return tx


def sink_outcomes(cp: Station, request_type: str) -> list[tuple[str, str | None]]:
    assert isinstance(cp.sink, Recorder)
    return [(r.name, None if r.exception is None else type(r.exception).__name__) for r in cp.sink.select(request_type)]


# ---------------------------------------------------------------- Core: ChangeAvailability


def test_change_availability_connector(csms: TestbedProcess, charger: Station) -> None:
    cp_id = charger.cp_id
    assert result_of(csms, cp_id, "ChangeAvailability", {"connectorId": 1, "type": "Inoperative"}) == {
        "status": "Accepted"
    }
    wait_status(csms, cp_id, 1, "Unavailable")
    assert charger.connectors[1].operative is False
    assert result_of(csms, cp_id, "RemoteStartTransaction", {"idTag": TAG, "connectorId": 1}) == {
        "status": "Rejected"
    }, "an inoperative connector does not start"
    assert result_of(csms, cp_id, "ChangeAvailability", {"connectorId": 1, "type": "Operative"}) == {
        "status": "Accepted"
    }
    wait_status(csms, cp_id, 1, "Available")
    assert statuses(csms, cp_id, 1) == ["Unavailable", "Available"]
    assert result_of(csms, cp_id, "ChangeAvailability", {"connectorId": 7, "type": "Operative"}) == {
        "status": "Rejected"
    }


def test_change_availability_whole_charge_point(csms: TestbedProcess, charger: Station) -> None:
    assert result_of(csms, charger.cp_id, "ChangeAvailability", {"connectorId": 0, "type": "Inoperative"}) == {
        "status": "Accepted"
    }
    wait_status(csms, charger.cp_id, 0, "Unavailable")
    wait_status(csms, charger.cp_id, 1, "Unavailable")


def test_change_availability_scheduled_during_transaction(csms: TestbedProcess, charger: Station) -> None:
    cp_id = charger.cp_id
    tx = start_charging(csms, charger)
    assert result_of(csms, cp_id, "ChangeAvailability", {"connectorId": 1, "type": "Inoperative"}) == {
        "status": "Scheduled"
    }
    gevent.sleep(0.3)
    assert "Unavailable" not in statuses(csms, cp_id, 1), "the change waits for the transaction to end"
    assert result_of(csms, cp_id, "RemoteStopTransaction", {"transactionId": tx}) == {"status": "Accepted"}
    wait_status(csms, cp_id, 1, "Unavailable")
    assert statuses(csms, cp_id, 1)[-3:] == ["Charging", "Finishing", "Unavailable"]
    assert charger.connectors[1].operative is False


# ---------------------------------------------------------------- ChangeConfiguration / GetConfiguration


def test_change_configuration_heartbeat_interval_applies_at_runtime(csms: TestbedProcess, charger: Station) -> None:
    cp_id = charger.cp_id
    assert charger.heartbeat_interval == 30, "from the testbed's BootNotification.conf"
    charger.spawn(charger.run_heartbeats)
    gevent.sleep(0.5)
    assert payloads(csms, cp_id, "Heartbeat") == []
    assert result_of(csms, cp_id, "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "1"}) == {
        "status": "Accepted"
    }
    changed = time.time()
    wait_until(lambda: len(payloads(csms, cp_id, "Heartbeat")) >= 3, 5, "three heartbeats")
    _, body = csms.api("GET", f"/cps/{cp_id}/messages")
    stamps = [m["ts"] for m in body["messages"] if m["direction"] == "in" and m["action"] == "Heartbeat"]
    assert 0.7 < stamps[0] - changed < 2.5
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert all(0.7 < gap < 2.5 for gap in gaps), gaps
    assert charger.heartbeat_interval == 1
    found = result_of(csms, cp_id, "GetConfiguration", {"key": ["HeartbeatInterval"]})
    assert found == {"configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "1"}]}


@pytest.mark.parametrize(
    ("key", "value", "status"),
    [
        ("MeterValueSampleInterval", "15", "Accepted"),
        ("NumberOfConnectors", "4", "Rejected"),
        ("HeartbeatInterval", "soon", "Rejected"),
        ("AuthorizeRemoteTxRequests", "perhaps", "Rejected"),
        ("NoSuchKey", "1", "NotSupported"),
    ],
)
def test_change_configuration_statuses(
    csms: TestbedProcess, charger: Station, key: str, value: str, status: str
) -> None:
    before = charger.configuration.get(key)
    assert result_of(csms, charger.cp_id, "ChangeConfiguration", {"key": key, "value": value}) == {"status": status}
    assert charger.configuration.get(key) == (value if status == "Accepted" else before)


def test_get_configuration_all(csms: TestbedProcess, charger: Station) -> None:
    result = result_of(csms, charger.cp_id, "GetConfiguration", {})
    assert "unknownKey" not in result
    keys = {entry["key"]: entry for entry in result["configurationKey"]}
    assert len(keys) == len(charger.configuration.keys)
    assert keys["NumberOfConnectors"] == {"key": "NumberOfConnectors", "readonly": True, "value": "1"}
    assert keys["HeartbeatInterval"]["value"] == "30"


def test_get_configuration_some_and_unknown(csms: TestbedProcess, charger: Station) -> None:
    result = result_of(
        csms, charger.cp_id, "GetConfiguration", {"key": ["ResetRetries", "Bogus", "AuthorizeRemoteTxRequests"]}
    )
    assert [entry["key"] for entry in result["configurationKey"]] == ["ResetRetries", "AuthorizeRemoteTxRequests"]
    assert result["unknownKey"] == ["Bogus"]


# ---------------------------------------------------------------- ClearCache / DataTransfer


def test_clear_cache(csms: TestbedProcess, charger: Station) -> None:
    charger.authorize(TAG)
    assert charger.state.auth_cache.lookup(TAG) == {"status": "Accepted"}
    assert result_of(csms, charger.cp_id, "ClearCache", {}) == {"status": "Accepted"}
    assert charger.state.auth_cache.lookup(TAG) is None


def test_data_transfer(csms: TestbedProcess, charger: Station) -> None:
    assert result_of(csms, charger.cp_id, "DataTransfer", {"vendorId": "VolatileOCPP", "data": "ping"}) == {
        "status": "Accepted",
        "data": "ping",
    }
    assert result_of(csms, charger.cp_id, "DataTransfer", {"vendorId": "Acme", "messageId": "x"}) == {
        "status": "UnknownVendorId"
    }


# ---------------------------------------------------------------- Remote start / stop


def test_remote_start_runs_a_real_session(csms: TestbedProcess, charger: Station) -> None:
    cp_id = charger.cp_id
    tx = start_charging(csms, charger)
    wait_until(lambda: len(payloads(csms, cp_id, "MeterValues")) >= 2, 5, "two MeterValues")
    seq = sequence(csms, cp_id)
    assert seq[:4] == ["Status:Preparing", "Authorize", "StartTransaction", "Status:Charging"]
    assert payloads(csms, cp_id, "Authorize") == [{"idTag": TAG}]
    [start] = payloads(csms, cp_id, "StartTransaction")
    assert (start["connectorId"], start["idTag"]) == (1, TAG)
    _, body = csms.api("GET", "/transactions")
    [testbed_tx] = [t for t in body["transactions"] if t["cp_id"] == cp_id]
    assert (testbed_tx["id"], testbed_tx["active"], testbed_tx["meter_start"]) == (tx, True, start["meterStart"])
    registers = []
    for meter in payloads(csms, cp_id, "MeterValues"):
        assert meter["transactionId"] == tx
        values = {v["measurand"]: v for v in meter["meterValue"][0]["sampledValue"]}
        registers.append(int(values["Energy.Active.Import.Register"]["value"]))
        assert 7400 <= float(values["Power.Active.Import"]["value"]) <= 22000
    assert registers == sorted(registers) and registers[0] >= start["meterStart"]
    assert result_of(csms, cp_id, "RemoteStartTransaction", {"idTag": TAG, "connectorId": 1}) == {
        "status": "Rejected"
    }, "the connector is busy"


def test_remote_start_without_authorize_when_not_required(
    csms: TestbedProcess, make_charger: Callable[..., Station]
) -> None:
    cp = make_charger(configuration={"AuthorizeRemoteTxRequests": "false"})
    start_charging(csms, cp)
    assert sequence(csms, cp.cp_id)[:3] == ["Status:Preparing", "StartTransaction", "Status:Charging"]


def test_remote_start_with_a_blocked_tag_is_a_counted_rejection(csms: TestbedProcess, charger: Station) -> None:
    assert result_of(csms, charger.cp_id, "RemoteStartTransaction", {"idTag": "VOCPP-BLOCKED"}) == {
        "status": "Accepted"
    }
    wait_status(csms, charger.cp_id, 1, "Available")
    assert sequence(csms, charger.cp_id) == ["Status:Preparing", "Authorize", "Status:Available"]
    assert isinstance(charger.sink, Recorder)
    [authorize] = charger.sink.select(CP_TO_CSMS, "Authorize")
    assert isinstance(authorize.exception, errors.RejectedError)
    assert str(authorize.exception) == "Authorize Blocked"


def test_remote_stop(csms: TestbedProcess, charger: Station) -> None:
    cp_id = charger.cp_id
    tx = start_charging(csms, charger)
    assert result_of(csms, cp_id, "RemoteStopTransaction", {"transactionId": tx + 1000}) == {"status": "Rejected"}
    assert result_of(csms, cp_id, "RemoteStopTransaction", {"transactionId": tx}) == {"status": "Accepted"}
    wait_status(csms, cp_id, 1, "Available")
    [stop] = payloads(csms, cp_id, "StopTransaction")
    assert (stop["transactionId"], stop["reason"]) == (tx, "Remote")
    contexts = [reading["sampledValue"][0]["context"] for reading in stop["transactionData"]]
    assert (contexts[0], contexts[-1]) == ("Transaction.Begin", "Transaction.End"), contexts
    assert statuses(csms, cp_id, 1)[-3:] == ["Charging", "Finishing", "Available"]
    _, body = csms.api("GET", "/transactions")
    [testbed_tx] = [t for t in body["transactions"] if t["id"] == tx]
    assert (testbed_tx["active"], testbed_tx["reason"]) == (False, "Remote")
    assert testbed_tx["meter_stop"] >= testbed_tx["meter_start"]
    assert charger.connectors[1].transaction_id is None


# ---------------------------------------------------------------- Reset


@pytest.mark.parametrize("kind", ["Soft", "Hard"])
def test_reset_stops_transactions_and_reboots(csms: TestbedProcess, charger: Station, kind: str) -> None:
    cp_id = charger.cp_id
    tx = start_charging(csms, charger)
    assert result_of(csms, cp_id, "Reset", {"type": kind}) == {"status": "Accepted"}
    wait_until(lambda: payloads(csms, cp_id, "BootNotification"), 5, "a new BootNotification")
    wait_status(csms, cp_id, 0, "Available")
    [stop] = payloads(csms, cp_id, "StopTransaction")
    assert (stop["transactionId"], stop["reason"]) == (tx, f"{kind}Reset")
    seq = sequence(csms, cp_id)
    assert seq.index("StopTransaction") < seq.index("BootNotification")
    _, body = csms.api("GET", "/cps")
    assert body["cps"][cp_id]["connections"] == 2
    assert body["cps"][cp_id]["connected"] is True
    assert ("reconnect", None) in sink_outcomes(charger, "WebSocket")
    assert charger.heartbeat()["currentTime"]


# ---------------------------------------------------------------- UnlockConnector


def test_unlock_connector(csms: TestbedProcess, charger: Station) -> None:
    assert result_of(csms, charger.cp_id, "UnlockConnector", {"connectorId": 1}) == {"status": "Unlocked"}
    # An unknown connector: NotSupported, as OCTT TC_031 expects of a charge point.
    assert result_of(csms, charger.cp_id, "UnlockConnector", {"connectorId": 9}) == {"status": "NotSupported"}


def test_unlock_connector_with_fixed_cable(csms: TestbedProcess, make_charger: Callable[..., Station]) -> None:
    cp = make_charger(behaviour=Behaviour(fixed_cable=True))
    assert result_of(csms, cp.cp_id, "UnlockConnector", {"connectorId": 1}) == {"status": "NotSupported"}


def test_unlock_connector_stops_a_running_transaction(csms: TestbedProcess, charger: Station) -> None:
    tx = start_charging(csms, charger)
    assert result_of(csms, charger.cp_id, "UnlockConnector", {"connectorId": 1}) == {"status": "Unlocked"}
    [stop] = payloads(csms, charger.cp_id, "StopTransaction")
    assert (stop["transactionId"], stop["reason"]) == (tx, "UnlockCommand")


# ---------------------------------------------------------------- Firmware management


@pytest.mark.parametrize("outcome", ["Uploaded", "UploadFailed"])
def test_get_diagnostics(csms: TestbedProcess, make_charger: Callable[..., Station], outcome: str) -> None:
    cp = make_charger(behaviour=Behaviour(diagnostics_outcome=outcome))
    result = result_of(csms, cp.cp_id, "GetDiagnostics", {"location": "ftp://diag.example/upload"})
    assert result["fileName"].startswith("diagnostics-")
    wait_until(lambda: len(payloads(csms, cp.cp_id, "DiagnosticsStatusNotification")) == 2, 5, "two notifications")
    assert payloads(csms, cp.cp_id, "DiagnosticsStatusNotification") == [{"status": "Uploading"}, {"status": outcome}]


def test_update_firmware_installs_and_reboots(csms: TestbedProcess, charger: Station) -> None:
    cp_id = charger.cp_id
    assert (
        result_of(
            csms,
            cp_id,
            "UpdateFirmware",
            {"location": "https://fw.example/v2.bin", "retrieveDate": iso(datetime.now(UTC))},
        )
        == {}
    )
    wait_until(lambda: {"status": "Installed"} in payloads(csms, cp_id, "FirmwareStatusNotification"), 8, "Installed")
    seq = [f"FW:{p['status']}" if a == "FirmwareStatusNotification" else a for a, p in received(csms, cp_id)]
    assert [s for s in seq if s.startswith("FW:") or s == "BootNotification"] == [
        "FW:Downloading",
        "FW:Downloaded",
        "FW:Installing",
        "BootNotification",
        "FW:Installed",
    ]
    _, body = csms.api("GET", "/cps")
    assert body["cps"][cp_id]["connections"] == 2


def test_update_firmware_download_failed(csms: TestbedProcess, make_charger: Callable[..., Station]) -> None:
    cp = make_charger(behaviour=Behaviour(firmware_outcome="DownloadFailed"))
    result_of(
        csms,
        cp.cp_id,
        "UpdateFirmware",
        {"location": "https://fw.example/v2.bin", "retrieveDate": iso(datetime.now(UTC))},
    )
    wait_until(lambda: len(payloads(csms, cp.cp_id, "FirmwareStatusNotification")) == 2, 5, "two notifications")
    gevent.sleep(0.3)
    assert payloads(csms, cp.cp_id, "FirmwareStatusNotification") == [
        {"status": "Downloading"},
        {"status": "DownloadFailed"},
    ]
    assert payloads(csms, cp.cp_id, "BootNotification") == [], "no reboot after a failed download"


# ---------------------------------------------------------------- Local authorization list


def test_local_list_version_and_send_local_list(csms: TestbedProcess, charger: Station) -> None:
    cp_id = charger.cp_id
    assert result_of(csms, cp_id, "GetLocalListVersion", {}) == {"listVersion": 0}
    full = {
        "listVersion": 3,
        "updateType": "Full",
        "localAuthorizationList": [{"idTag": "A", "idTagInfo": {"status": "Accepted"}}, {"idTag": "B"}],
    }
    assert result_of(csms, cp_id, "SendLocalList", full) == {"status": "Accepted"}
    assert result_of(csms, cp_id, "GetLocalListVersion", {}) == {"listVersion": 3}
    stale = {
        "listVersion": 2,
        "updateType": "Differential",
        "localAuthorizationList": [{"idTag": "C", "idTagInfo": {"status": "Accepted"}}],
    }
    assert result_of(csms, cp_id, "SendLocalList", stale) == {"status": "VersionMismatch"}
    newer = {**stale, "listVersion": 4}
    assert result_of(csms, cp_id, "SendLocalList", newer) == {"status": "Accepted"}
    assert result_of(csms, cp_id, "GetLocalListVersion", {}) == {"listVersion": 4}
    assert set(charger.state.local_list.entries) == {"A", "C"}


def test_send_local_list_when_disabled(csms: TestbedProcess, make_charger: Callable[..., Station]) -> None:
    cp = make_charger(configuration={"LocalAuthListEnabled": "false"})
    assert result_of(csms, cp.cp_id, "SendLocalList", {"listVersion": 1, "updateType": "Full"}) == {
        "status": "NotSupported"
    }


# ---------------------------------------------------------------- Reservation


def test_reserve_now_and_expiry(csms: TestbedProcess, charger: Station) -> None:
    cp_id = charger.cp_id
    expiry = datetime.now(UTC) + timedelta(seconds=1.5)
    assert result_of(
        csms, cp_id, "ReserveNow", {"connectorId": 1, "expiryDate": iso(expiry), "idTag": TAG, "reservationId": 11}
    ) == {"status": "Accepted"}
    wait_status(csms, cp_id, 1, "Reserved", timeout=1)
    assert result_of(
        csms, cp_id, "ReserveNow", {"connectorId": 1, "expiryDate": iso(expiry), "idTag": "OTHER", "reservationId": 12}
    ) == {"status": "Occupied"}
    wait_status(csms, cp_id, 1, "Available", timeout=4)
    assert statuses(csms, cp_id, 1) == ["Reserved", "Available"]
    assert charger.connectors[1].reservation is None
    assert result_of(
        csms, cp_id, "ReserveNow", {"connectorId": 0, "expiryDate": iso(expiry), "idTag": TAG, "reservationId": 13}
    ) == {"status": "Rejected"}


def test_remote_start_on_a_reservation_uses_it(csms: TestbedProcess, charger: Station) -> None:
    cp_id = charger.cp_id
    expiry = datetime.now(UTC) + timedelta(minutes=5)
    result_of(
        csms, cp_id, "ReserveNow", {"connectorId": 1, "expiryDate": iso(expiry), "idTag": TAG, "reservationId": 21}
    )
    wait_status(csms, cp_id, 1, "Reserved")
    assert result_of(csms, cp_id, "RemoteStartTransaction", {"idTag": "VOCPP-VALID-2", "connectorId": 1}) == {
        "status": "Rejected"
    }, "reserved for another idTag"
    start_charging(csms, charger)
    [start] = payloads(csms, cp_id, "StartTransaction")
    assert start["reservationId"] == 21
    assert statuses(csms, cp_id, 1) == ["Reserved", "Preparing", "Charging"]


def test_cancel_reservation(csms: TestbedProcess, charger: Station) -> None:
    cp_id = charger.cp_id
    expiry = datetime.now(UTC) + timedelta(minutes=5)
    result_of(
        csms, cp_id, "ReserveNow", {"connectorId": 1, "expiryDate": iso(expiry), "idTag": TAG, "reservationId": 31}
    )
    wait_status(csms, cp_id, 1, "Reserved")
    assert result_of(csms, cp_id, "CancelReservation", {"reservationId": 99}) == {"status": "Rejected"}
    assert result_of(csms, cp_id, "CancelReservation", {"reservationId": 31}) == {"status": "Accepted"}
    wait_status(csms, cp_id, 1, "Available")
    assert charger.connectors[1].reservation is None


# ---------------------------------------------------------------- Smart charging


def _power(meter_values: dict) -> float:
    [value] = [v for v in meter_values["meterValue"][0]["sampledValue"] if v["measurand"] == "Power.Active.Import"]
    return float(value["value"])


def test_set_and_clear_charging_profile_limit_the_power(csms: TestbedProcess, charger: Station) -> None:
    cp_id = charger.cp_id
    tx = start_charging(csms, charger)
    profile = {
        "chargingProfileId": 5,
        "transactionId": tx,
        "stackLevel": 1,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": {"chargingRateUnit": "W", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 2000.0}]},
    }
    assert result_of(csms, cp_id, "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": profile}) == {
        "status": "Accepted"
    }
    csms.api("DELETE", f"/cps/{cp_id}/messages")
    wait_until(lambda: len(payloads(csms, cp_id, "MeterValues")) >= 2, 5, "MeterValues under the limit")
    assert all(_power(m) == 2000.0 for m in payloads(csms, cp_id, "MeterValues"))
    assert charger.connectors[1].meter.effective_power() == 2000.0
    assert result_of(csms, cp_id, "ClearChargingProfile", {"id": 77}) == {"status": "Unknown"}
    assert result_of(csms, cp_id, "ClearChargingProfile", {"id": 5}) == {"status": "Accepted"}
    csms.api("DELETE", f"/cps/{cp_id}/messages")
    wait_until(lambda: len(payloads(csms, cp_id, "MeterValues")) >= 1, 5, "MeterValues without the limit")
    assert _power(payloads(csms, cp_id, "MeterValues")[-1]) >= 7400


def test_remote_start_with_a_relative_charging_profile(csms: TestbedProcess, charger: Station) -> None:
    """A Relative TxProfile counts from the start of the transaction: 3000 W, then 1500 W after one second."""
    cp_id = charger.cp_id
    profile = {
        "chargingProfileId": 9,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 3000.0}, {"startPeriod": 1, "limit": 1500.0}],
        },
    }
    payload = {"idTag": TAG, "connectorId": 1, "chargingProfile": profile}
    assert result_of(csms, cp_id, "RemoteStartTransaction", payload) == {"status": "Accepted"}
    wait_status(csms, cp_id, 1, "Charging")
    wait_until(lambda: len(payloads(csms, cp_id, "MeterValues")) >= 6, 4, "six MeterValues")
    powers = [_power(m) for m in payloads(csms, cp_id, "MeterValues")]
    assert powers[0] == 3000.0
    assert powers[-1] == 1500.0
    assert powers == sorted(powers, reverse=True), powers


@pytest.mark.parametrize(
    ("connector_id", "purpose", "stack_level"),
    [
        (1, "TxProfile", 0),  # no transaction running
        (1, "ChargePointMaxProfile", 0),  # only on connector 0
        (0, "TxDefaultProfile", 11),  # above ChargeProfileMaxStackLevel
        (4, "TxDefaultProfile", 0),  # no such connector
    ],
)
def test_set_charging_profile_rejections(
    csms: TestbedProcess, charger: Station, connector_id: int, purpose: str, stack_level: int
) -> None:
    profile = {
        "chargingProfileId": 1,
        "stackLevel": stack_level,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": "Absolute",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "startSchedule": iso(datetime.now(UTC)),
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10}],
        },
    }
    assert result_of(
        csms, charger.cp_id, "SetChargingProfile", {"connectorId": connector_id, "csChargingProfiles": profile}
    ) == {"status": "Rejected"}


def test_get_composite_schedule(csms: TestbedProcess, charger: Station) -> None:
    cp_id = charger.cp_id
    profile = {
        "chargingProfileId": 8,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "startSchedule": iso(datetime.now(UTC) - timedelta(minutes=1)),
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}],
        },
    }
    assert result_of(csms, cp_id, "SetChargingProfile", {"connectorId": 0, "csChargingProfiles": profile}) == {
        "status": "Accepted"
    }
    watts = result_of(csms, cp_id, "GetCompositeSchedule", {"connectorId": 1, "duration": 600})
    assert (watts["status"], watts["connectorId"]) == ("Accepted", 1)
    assert watts["chargingSchedule"]["chargingSchedulePeriod"] == [{"startPeriod": 0, "limit": 11040.0}]
    amps = result_of(csms, cp_id, "GetCompositeSchedule", {"connectorId": 1, "duration": 600, "chargingRateUnit": "A"})
    assert amps["chargingSchedule"]["chargingRateUnit"] == "A"
    assert amps["chargingSchedule"]["chargingSchedulePeriod"] == [{"startPeriod": 0, "limit": 16.0}]
    assert result_of(csms, cp_id, "GetCompositeSchedule", {"connectorId": 3, "duration": 60}) == {"status": "Rejected"}


# ---------------------------------------------------------------- TriggerMessage


@pytest.mark.parametrize(
    ("requested", "expected"),
    [
        ("BootNotification", {"chargePointVendor": "VolatileOCPP", "chargePointModel": "VirtualCP"}),
        ("DiagnosticsStatusNotification", {"status": "Idle"}),
        ("FirmwareStatusNotification", {"status": "Idle"}),
        ("Heartbeat", {}),
        ("MeterValues", {"connectorId": 1}),
        ("StatusNotification", {"connectorId": 1, "status": "Available", "errorCode": "NoError"}),
    ],
)
def test_trigger_message(csms: TestbedProcess, charger: Station, requested: str, expected: dict) -> None:
    assert result_of(csms, charger.cp_id, "TriggerMessage", {"requestedMessage": requested, "connectorId": 1}) == {
        "status": "Accepted"
    }
    [message] = wait_until(lambda: payloads(csms, charger.cp_id, requested), 3, requested)
    assert {key: message[key] for key in expected} == expected
    if requested == "MeterValues":
        assert message["meterValue"][0]["sampledValue"][0]["context"] == "Trigger"


def test_trigger_message_for_a_missing_connector(csms: TestbedProcess, charger: Station) -> None:
    assert result_of(
        csms, charger.cp_id, "TriggerMessage", {"requestedMessage": "StatusNotification", "connectorId": 3}
    ) == {"status": "Rejected"}


# ---------------------------------------------------------------- unknown, unsupported, misbehaving


def test_unknown_action_is_not_implemented(csms: TestbedProcess, charger: Station) -> None:
    assert error_of(csms, charger.cp_id, "FlyToTheMoon", {})["code"] == "NotImplemented"
    # Made-up action names share one stats row, so a CSMS cannot grow the stats table without bound.
    assert sink_outcomes(charger, CSMS_TO_CP) == [("(unknown action)", "NotImplementedCallError")]


@pytest.mark.parametrize("action", ["GetLog", "InstallCertificate", "ExtendedTriggerMessage"])
def test_security_extension_action_checks_its_schema(csms: TestbedProcess, charger: Station, action: str) -> None:
    # Supported now (tests/test_security_extension.py): an empty payload misses required fields.
    assert error_of(csms, charger.cp_id, action, {})["code"] == "OccurenceConstraintViolation"


def test_behaviour_answers_fail_and_unsupported(csms: TestbedProcess, make_charger: Callable[..., Station]) -> None:
    behaviour = Behaviour(
        answers={"RemoteStartTransaction": "Rejected", "UnlockConnector": "UnlockFailed"},
        fail=frozenset({"Reset"}),
        unsupported=frozenset({"ClearCache"}),
    )
    cp = make_charger(behaviour=behaviour)
    seen: list[InboundCall] = []
    cp.observers.append(seen.append)
    assert result_of(csms, cp.cp_id, "RemoteStartTransaction", {"idTag": TAG}) == {"status": "Rejected"}
    assert result_of(csms, cp.cp_id, "UnlockConnector", {"connectorId": 1}) == {"status": "UnlockFailed"}
    reset = error_of(csms, cp.cp_id, "Reset", {"type": "Hard"})
    assert reset["code"] == "InternalError"
    assert error_of(csms, cp.cp_id, "ClearCache", {})["code"] == "NotSupported"
    gevent.sleep(0.5)
    assert received(csms, cp.cp_id) == [], "no session, no reboot"
    assert sink_outcomes(cp, CSMS_TO_CP) == [
        ("RemoteStartTransaction", None),
        ("UnlockConnector", None),
        ("Reset", "InternalError"),
        ("ClearCache", "NotSupportedError"),
    ]
    assert [(c.action, c.answer, c.error is not None) for c in seen] == [
        ("RemoteStartTransaction", {"status": "Rejected"}, False),
        ("UnlockConnector", {"status": "UnlockFailed"}, False),
        ("Reset", None, True),
    ]


def test_no_auto_follow_up(csms: TestbedProcess, make_charger: Callable[..., Station]) -> None:
    cp = make_charger(behaviour=Behaviour(auto_follow_up=False))
    assert result_of(csms, cp.cp_id, "RemoteStartTransaction", {"idTag": TAG}) == {"status": "Accepted"}
    assert result_of(csms, cp.cp_id, "Reset", {"type": "Soft"}) == {"status": "Accepted"}
    assert result_of(csms, cp.cp_id, "TriggerMessage", {"requestedMessage": "Heartbeat"}) == {"status": "Accepted"}
    gevent.sleep(0.5)
    assert received(csms, cp.cp_id) == []


# ---------------------------------------------------------------- schema validation of CSMS requests


@pytest.mark.parametrize(
    ("action", "payload", "code", "field", "rule"),
    [
        ("Reset", {"type": "Warm"}, "PropertyConstraintViolation", "type", "enum"),
        ("ChangeConfiguration", {"key": "HeartbeatInterval"}, "OccurenceConstraintViolation", "value", "required"),
        (
            "ChangeAvailability",
            {"connectorId": "1", "type": "Operative"},
            "TypeConstraintViolation",
            "connectorId",
            "type",
        ),
        ("ClearCache", {"please": True}, "FormationViolation", "(payload)", "additionalProperties"),
        ("GetConfiguration", {"key": ["k" * 51]}, "PropertyConstraintViolation", "key.0", "maxLength"),
    ],
)
def test_schema_invalid_csms_request_gets_the_right_call_error(
    csms: TestbedProcess, charger: Station, action: str, payload: dict, code: str, field: str, rule: str
) -> None:
    error = error_of(csms, charger.cp_id, action, payload)
    assert error["code"] == code
    assert error["details"] == {"field": field, "rule": rule}
    assert f"field {field}, rule {rule}" in error["description"]
    gevent.sleep(0.2)
    assert received(csms, charger.cp_id) == [], "the invalid request was not acted on"


def test_validation_off_lets_invalid_payloads_through(
    csms: TestbedProcess, make_charger: Callable[..., Station]
) -> None:
    cp = make_charger(validate=False)
    assert result_of(csms, cp.cp_id, "DataTransfer", {"vendorId": "V" * 300}) == {"status": "UnknownVendorId"}
    assert result_of(csms, cp.cp_id, "ClearCache", {"please": True}) == {"status": "Accepted"}
    # Our own invalid request goes out too, and the testbed refuses it.
    with pytest.raises(errors.FormationViolationError):
        cp.call("Heartbeat", {"unexpected": 1})
    assert payloads(csms, cp.cp_id, "Heartbeat") == [{"unexpected": 1}]


def test_local_list_version_is_minus_one_when_the_list_is_disabled(csms: TestbedProcess, charger: Station) -> None:
    assert result_of(csms, charger.cp_id, "GetLocalListVersion", {}) == {"listVersion": 0}
    change = {"key": "LocalAuthListEnabled", "value": "false"}
    assert result_of(csms, charger.cp_id, "ChangeConfiguration", change) == {"status": "Accepted"}
    assert result_of(csms, charger.cp_id, "GetLocalListVersion", {}) == {"listVersion": -1}
