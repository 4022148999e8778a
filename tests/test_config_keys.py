"""Every configuration key the charge point reports has its behaviour (issue 12, deliverable 1).

Each test changes a key at runtime the way a CSMS does, with a ChangeConfiguration.req the real
testbed sends (``POST /cps/{id}/ChangeConfiguration``), and observes the change of behaviour on the
wire as the testbed received it (``GET /cps/{id}/messages``, ``GET /cps/{id}``). The read-only
keys (MaxChargingProfilesInstalled, ChargingScheduleMaxPeriods, GetConfigurationMaxKeys) refuse a
ChangeConfiguration (§9: accessibility R) and are given at start-up, as a charger's factory
settings; their test shows the limit enforced at two values.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import gevent
import pytest

from ocpp_users.embedded import TestbedProcess
from ocpp_users.v16.settings import Habits
from ocpp_users.v16.station import Station
from tests.station_helpers import (
    MakeStation,
    actions,
    back,
    change,
    clear,
    go_offline,
    record,
    session,
    station_factory,
)
from tests.test_handlers import TAG, csms_call, iso, payloads, result_of, statuses, wait_status, wait_until


@pytest.fixture
def make_cp(csms: TestbedProcess, cp_id: str) -> Iterator[MakeStation]:
    with station_factory(csms, cp_id) as make:
        yield make


def profile(profile_id: int, stack_level: int, periods: int = 1) -> dict:
    return {
        "chargingProfileId": profile_id,
        "stackLevel": stack_level,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": {
            "chargingRateUnit": "W",
            "startSchedule": iso(datetime.now(UTC) - timedelta(minutes=1)),
            "chargingSchedulePeriod": [{"startPeriod": 60 * n, "limit": 11000.0 - n} for n in range(periods)],
        },
    }


def set_profile(csms: TestbedProcess, cp: Station, body: dict) -> str:
    answer = result_of(csms, cp.cp_id, "SetChargingProfile", {"connectorId": 0, "csChargingProfiles": body})
    return str(answer["status"])


# ---------------------------------------------------------------- authorization (§3.5, §9.1)


def test_local_pre_authorize_starts_from_the_cache_without_authorize(
    csms: TestbedProcess, make_cp: MakeStation
) -> None:
    """§9.1.13 LocalPreAuthorize, OCTT TC_007_CS: a cached Accepted idTag starts at once (while
    AuthorizationCacheEnabled, §9.1.2, lets the cache be used)."""
    cp = make_cp()
    session(cp)  # online: Authorize.req, and the answer goes into the cache
    assert actions(csms, cp).count("Authorize") == 1
    assert change(csms, cp, "LocalPreAuthorize", "true") == "Accepted"
    clear(csms, cp)
    session(cp)
    sent = actions(csms, cp)
    assert "Authorize" not in sent and sent.index("StartTransaction") < sent.index("StopTransaction"), sent
    assert change(csms, cp, "AuthorizationCacheEnabled", "false") == "Accepted"  # §9.1.2: the cache is off
    clear(csms, cp)
    session(cp)
    assert actions(csms, cp).count("Authorize") == 1
    assert change(csms, cp, "AuthorizationCacheEnabled", "true") == "Accepted"
    assert change(csms, cp, "LocalPreAuthorize", "false") == "Accepted"
    clear(csms, cp)
    session(cp)
    assert actions(csms, cp).count("Authorize") == 1


def test_an_expired_cache_entry_is_asked_for_again(csms: TestbedProcess, make_cp: MakeStation) -> None:
    """§3.5.1: "When the validity of a Cache entry expires, it SHALL be changed to expired": its
    expiryDate passed, LocalPreAuthorize no longer applies and the CSMS is asked."""
    tag = "VOCPP-SOON"
    expiry = (datetime.now(UTC) + timedelta(seconds=1)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    assert csms.api("PUT", f"/tags/{tag}", {"status": "Accepted", "expiry_date": expiry})[0] == 200
    cp = make_cp(configuration={"LocalPreAuthorize": "true"})
    session(cp, 0.05, tag=tag)
    assert actions(csms, cp).count("Authorize") == 1  # unknown to the cache: asked
    clear(csms, cp)
    session(cp, 0.05, tag=tag)
    assert "Authorize" not in actions(csms, cp)  # cached and valid: not asked
    wait_until(lambda: datetime.now(UTC) > datetime.fromisoformat(expiry.replace("Z", "+00:00")), 4, "the expiry")
    clear(csms, cp)
    session(cp, 0.05, tag=tag)
    assert actions(csms, cp).count("Authorize") == 1
    assert cp.state.auth_cache.lookup(tag) is not None


def test_local_authorize_offline(csms: TestbedProcess, make_cp: MakeStation) -> None:
    """§9.1.12 LocalAuthorizeOffline: offline, a cached Accepted idTag starts a transaction only
    while the key is true (OCTT TC_037_1_CS); its StartTransaction is replayed after reconnecting."""
    cp = make_cp()
    session(cp)  # the idTag is now cached Accepted
    assert change(csms, cp, "LocalAuthorizeOffline", "false") == "Accepted"
    clear(csms, cp)
    go_offline(cp, 0.5)
    session(cp, 0.05)
    assert cp.queued_messages == 0, "refused offline: nothing to queue"
    back(cp)
    assert "StartTransaction" not in actions(csms, cp)
    assert change(csms, cp, "LocalAuthorizeOffline", "true") == "Accepted"
    clear(csms, cp)
    go_offline(cp, 0.5)
    session(cp, 0.05)
    assert cp.queued_messages >= 2  # StartTransaction and StopTransaction
    back(cp)
    sent = actions(csms, cp)
    assert sent.count("StartTransaction") == 1 and sent.count("StopTransaction") == 1, sent
    assert "Authorize" not in sent


def test_allow_offline_tx_for_unknown_id(csms: TestbedProcess, make_cp: MakeStation) -> None:
    """§3.5.4 / §9.1.1 AllowOfflineTxForUnknownId: offline, an idTag neither the local list nor the
    cache knows starts a transaction only while the key is true; one the local list holds as
    Blocked is rejected whatever the key says ("MUST be rejected")."""
    cp = make_cp()
    unknown = "VOCPP-LOAD-NEW"
    assert result_of(
        csms,
        cp.cp_id,
        "SendLocalList",
        {
            "listVersion": 1,
            "updateType": "Full",
            "localAuthorizationList": [{"idTag": "VOCPP-LISTED", "idTagInfo": {"status": "Blocked"}}],
        },
    ) == {"status": "Accepted"}
    go_offline(cp, 0.5)
    session(cp, 0.05, tag=unknown)
    assert cp.queued_messages == 0
    back(cp)
    assert change(csms, cp, "AllowOfflineTxForUnknownId", "true") == "Accepted"
    clear(csms, cp)
    go_offline(cp, 0.5)
    session(cp, 0.05, tag="vocpp-listed")  # the list is case-insensitive (CiString20)
    assert cp.queued_messages == 0
    session(cp, 0.05, tag=unknown)
    assert cp.queued_messages >= 2
    back(cp)
    [start] = payloads(csms, cp.cp_id, "StartTransaction")
    assert start["idTag"] == unknown


def test_authorize_remote_tx_requests(csms: TestbedProcess, make_cp: MakeStation) -> None:
    """§9.1.3 AuthorizeRemoteTxRequests: a RemoteStartTransaction is authorized like a local start
    (Authorize.req) only while the key is true."""
    cp = make_cp()

    def remote_start() -> list[str]:
        clear(csms, cp)
        assert result_of(csms, cp.cp_id, "RemoteStartTransaction", {"idTag": TAG, "connectorId": 1}) == {
            "status": "Accepted"
        }
        wait_status(csms, cp.cp_id, 1, "Charging")
        tx = cp.connectors[1].transaction_id
        assert result_of(csms, cp.cp_id, "RemoteStopTransaction", {"transactionId": tx}) == {"status": "Accepted"}
        wait_status(csms, cp.cp_id, 1, "Available")
        return actions(csms, cp)

    sent = remote_start()
    assert sent.index("Authorize") < sent.index("StartTransaction")
    assert change(csms, cp, "AuthorizeRemoteTxRequests", "false") == "Accepted"
    sent = remote_start()
    assert "Authorize" not in sent and "StartTransaction" in sent


# ---------------------------------------------------------------- metering (§3.16)


def _contexts(message: dict) -> set[str]:
    return {value.get("context") for reading in message["meterValue"] for value in reading["sampledValue"]}


def test_clock_aligned_meter_values(csms: TestbedProcess, make_cp: MakeStation) -> None:
    """§3.16.2, §9.1.5, §9.1.15, OCTT TC_071_CS: every ClockAlignedDataInterval, MeterValues with
    the measurands of MeterValuesAlignedData, context Sample.Clock, stamped at the boundary (with
    the transactionId during a transaction, errata 3.16); 0 stops them."""
    cp = make_cp(meter_interval_override=None, configuration={"MeterValueSampleInterval": "0"})
    assert change(csms, cp, "MeterValuesAlignedData", "Voltage,Frequency") == "Accepted"
    assert change(csms, cp, "MeterValuesAlignedData", "Voltage,RPM") == "Rejected"  # §3.16.4: unsupported
    running = cp.start_session(1, TAG, 2.1)
    assert change(csms, cp, "ClockAlignedDataInterval", "1") == "Accepted"
    running.join(timeout=10)
    [stop] = payloads(csms, cp.cp_id, "StopTransaction")
    wait_until(lambda: "transactionId" not in payloads(csms, cp.cp_id, "MeterValues")[-1], 2, "one outside the tx")
    clocked = payloads(csms, cp.cp_id, "MeterValues")
    assert len(clocked) >= 3
    for message in clocked:
        [reading] = message["meterValue"]
        assert reading["timestamp"].endswith(".000Z"), reading["timestamp"]  # a whole second: aligned
        assert [v["measurand"] for v in reading["sampledValue"]] == ["Voltage", "Frequency"]
        assert {v["context"] for v in reading["sampledValue"]} == {"Sample.Clock"}
    assert {m.get("transactionId") for m in clocked[:-1]} == {stop["transactionId"]}
    stamps = [datetime.fromisoformat(m["meterValue"][0]["timestamp"].replace("Z", "+00:00")) for m in clocked]
    assert all((b - a).total_seconds() == 1.0 for a, b in itertools.pairwise(stamps)), stamps
    assert change(csms, cp, "ClockAlignedDataInterval", "0") == "Accepted"
    clear(csms, cp)
    gevent.sleep(1.1)
    assert payloads(csms, cp.cp_id, "MeterValues") == []


def test_stop_txn_sampled_and_aligned_data(csms: TestbedProcess, make_cp: MakeStation) -> None:
    """§3.16.1-2, §9.1.25, §9.1.27: StopTransaction's transactionData holds the StopTxnSampledData
    measurands at the start, every MeterValueSampleInterval and at the end, and the StopTxnAlignedData
    ones at every ClockAlignedDataInterval; both empty, none at all (§3.16.5)."""
    cp = make_cp(meter_interval_override=0.5)
    assert change(csms, cp, "StopTxnSampledData", "Power.Active.Import,SoC") == "Accepted"
    assert change(csms, cp, "StopTxnAlignedData", "Voltage") == "Accepted"
    assert change(csms, cp, "ClockAlignedDataInterval", "1") == "Accepted"
    session(cp, duration=1.3)
    [stop] = payloads(csms, cp.cp_id, "StopTransaction")
    data = stop["transactionData"]
    contexts = [reading["sampledValue"][0]["context"] for reading in data]
    assert contexts[0] == "Transaction.Begin" and contexts[-1] == "Transaction.End", contexts
    periodic = [r for r in data if r["sampledValue"][0]["context"] == "Sample.Periodic"]
    clocked = [r for r in data if r["sampledValue"][0]["context"] == "Sample.Clock"]
    assert len(periodic) == 2 and len(clocked) >= 1, contexts
    measured = [[v["measurand"] for v in r["sampledValue"]] for r in data if r not in clocked]
    assert all(m == ["Power.Active.Import", "SoC"] for m in measured), measured
    assert all([v["measurand"] for v in r["sampledValue"]] == ["Voltage"] for r in clocked)
    stamps = [r["timestamp"] for r in data]
    assert stamps == sorted(stamps)
    assert change(csms, cp, "StopTxnSampledData", "") == "Accepted"
    assert change(csms, cp, "StopTxnAlignedData", "") == "Accepted"
    clear(csms, cp)
    session(cp, duration=0.2)
    [stop] = payloads(csms, cp.cp_id, "StopTransaction")
    assert "transactionData" not in stop


# ---------------------------------------------------------------- the connection (§9.1.34)


def _pings(csms: TestbedProcess, cp: Station) -> list[float]:
    return list(record(csms, cp)["pings"])


def test_websocket_ping_interval(csms: TestbedProcess, make_cp: MakeStation) -> None:
    """§9.1.34 WebSocketPingInterval: a ping every that many seconds; a ping whose predecessor had no
    pong (the testbed's fault no_pong) means the link is dead: the charge point drops it and
    reconnects; 0 "disables client side websocket Ping/Pong"."""
    cp = make_cp()
    assert change(csms, cp, "WebSocketPingInterval", "-1") == "Rejected"  # "Negative values are not allowed"
    assert change(csms, cp, "WebSocketPingInterval", "1") == "Accepted"
    pings = wait_until(lambda: _pings(csms, cp)[1:] and _pings(csms, cp), 4, "two pings")
    assert 0.8 <= pings[1] - pings[0] <= 1.6, pings
    assert cp.drops == 0  # each had its pong
    assert csms.api("PUT", "/faults", {"name": "no_pong"})[0] == 200
    wait_until(lambda: cp.drops == 1, 4, "the drop")
    assert "no WebSocket pong" in (cp.last_error or "")
    # the CSMS's doing: a counted disconnect naming it (a drop the run makes itself is none)
    drops = [r for r in cp.sink.failures() if r.name == "disconnect"]  # type: ignore[attr-defined]
    assert len(drops) == 1 and "no WebSocket pong" in str(drops[0].exception), drops
    csms.api("DELETE", "/faults")
    wait_until(lambda: cp.online, 5, "the reconnect")
    assert record(csms, cp)["connections"] == 2
    assert change(csms, cp, "WebSocketPingInterval", "0") == "Accepted"
    count = len(_pings(csms, cp))
    gevent.sleep(1.3)
    assert len(_pings(csms, cp)) == count


# ---------------------------------------------------------------- connectors (§9.1.6, §9.1.23, §9.1.33)


def test_connection_time_out(csms: TestbedProcess, make_cp: MakeStation) -> None:
    """§9.1.6 ConnectionTimeOut (errata 3.76; OCTT TC_011_2_CS): an EV not plugged in within it
    after a remote start sends the connector from Preparing back to Available, no transaction; a
    longer ConnectionTimeOut lets the same EV start."""
    cp = make_cp(habits=Habits(plug_in_delay=(20.0, 20.0)))  # 1 s at the time factor 20
    assert change(csms, cp, "ConnectionTimeOut", "0") == "Accepted"
    assert change(csms, cp, "ConnectionTimeOut", "-5") == "Rejected"
    assert change(csms, cp, "ConnectionTimeOut", "1") == "Accepted"
    clear(csms, cp)
    started = time.monotonic()
    assert result_of(csms, cp.cp_id, "RemoteStartTransaction", {"idTag": TAG, "connectorId": 1})["status"] == "Accepted"
    wait_until(lambda: statuses(csms, cp.cp_id, 1)[-1:] == ["Available"], 4, "back to Available")
    assert statuses(csms, cp.cp_id, 1) == ["Preparing", "Available"]
    assert 0.8 <= time.monotonic() - started <= 2.5
    assert "StartTransaction" not in actions(csms, cp)
    assert change(csms, cp, "ConnectionTimeOut", "3") == "Accepted"
    clear(csms, cp)
    assert result_of(csms, cp.cp_id, "RemoteStartTransaction", {"idTag": TAG, "connectorId": 1})["status"] == "Accepted"
    wait_status(csms, cp.cp_id, 1, "Charging", timeout=4)
    assert "StartTransaction" in actions(csms, cp)


def test_stop_transaction_on_ev_side_disconnect(csms: TestbedProcess, make_cp: MakeStation) -> None:
    """§4.10, §9.1.23, OCTT TC_005_1_CS and TC_005_3_CS: unplugged at the EV, the transaction stops
    (EVDisconnected) while the key is true; false, it goes on SuspendedEV ("EV side disconnected")
    until the CSMS stops it (reason Remote)."""
    cp = make_cp(habits=Habits(driver_return=(600.0, 600.0)))
    session(cp, default_stop_reason="EVDisconnected")
    [stop] = payloads(csms, cp.cp_id, "StopTransaction")
    assert stop["reason"] == "EVDisconnected"
    assert statuses(csms, cp.cp_id, 1)[-2:] == ["Finishing", "Available"]
    assert change(csms, cp, "StopTransactionOnEVSideDisconnect", "false") == "Accepted"
    clear(csms, cp)
    running = cp.start_session(1, TAG, 0.2, default_stop_reason="EVDisconnected")
    wait_status(csms, cp.cp_id, 1, "SuspendedEV")
    [suspended] = [p for p in payloads(csms, cp.cp_id, "StatusNotification") if p["status"] == "SuspendedEV"]
    assert suspended["info"] == "EV side disconnected"
    gevent.sleep(0.5)
    assert payloads(csms, cp.cp_id, "StopTransaction") == [] and not running.dead
    tx = cp.connectors[1].transaction_id
    assert result_of(csms, cp.cp_id, "RemoteStopTransaction", {"transactionId": tx}) == {"status": "Accepted"}
    running.join(timeout=5)
    [stop] = payloads(csms, cp.cp_id, "StopTransaction")
    assert (stop["transactionId"], stop["reason"]) == (tx, "Remote")
    assert statuses(csms, cp.cp_id, 1)[-2:] == ["Finishing", "Available"]


def test_unlock_connector_on_ev_side_disconnect(csms: TestbedProcess, make_cp: MakeStation) -> None:
    """§4.10, §9.1.33, OCTT TC_005_2_CS: with UnlockConnectorOnEVSideDisconnect false the connector
    stays locked after the EVDisconnected stop (Finishing) until UnlockConnector; true, Available."""
    cp = make_cp(habits=Habits(driver_return=(600.0, 600.0)))
    assert change(csms, cp, "UnlockConnectorOnEVSideDisconnect", "false") == "Accepted"
    running = cp.start_session(1, TAG, 0.2, default_stop_reason="EVDisconnected")
    wait_status(csms, cp.cp_id, 1, "Finishing")
    gevent.sleep(0.5)
    assert statuses(csms, cp.cp_id, 1)[-1] == "Finishing" and not running.dead
    assert payloads(csms, cp.cp_id, "StopTransaction")[0]["reason"] == "EVDisconnected"
    assert result_of(csms, cp.cp_id, "UnlockConnector", {"connectorId": 1}) == {"status": "Unlocked"}
    wait_status(csms, cp.cp_id, 1, "Available")
    assert change(csms, cp, "UnlockConnectorOnEVSideDisconnect", "true") == "Accepted"
    clear(csms, cp)
    session(cp, default_stop_reason="EVDisconnected")
    assert statuses(csms, cp.cp_id, 1)[-2:] == ["Finishing", "Available"]


# ---------------------------------------------------------------- read-only limits (§9.1.9, §9.4.3, §9.4.5)


def test_max_charging_profiles_installed(csms: TestbedProcess, make_cp: MakeStation) -> None:
    """§9.4.5 MaxChargingProfilesInstalled: a profile beyond it is Rejected (one replacing an
    installed profile adds none); read-only, so a ChangeConfiguration is Rejected."""
    cp = make_cp(configuration={"MaxChargingProfilesInstalled": "2"})
    assert change(csms, cp, "MaxChargingProfilesInstalled", "5") == "Rejected"
    assert set_profile(csms, cp, profile(1, 0)) == "Accepted"
    assert set_profile(csms, cp, profile(2, 1)) == "Accepted"
    assert set_profile(csms, cp, profile(3, 2)) == "Rejected"
    assert set_profile(csms, cp, profile(2, 1, periods=2)) == "Accepted"  # replaces profile 2
    assert set_profile(csms, cp, profile(4, 0)) == "Accepted"  # replaces stack level 0 (profile 1)
    other = make_cp(configuration={"MaxChargingProfilesInstalled": "3"})
    for n in range(3):
        assert set_profile(csms, other, profile(n + 1, n)) == "Accepted"
    assert set_profile(csms, other, profile(9, 5)) == "Rejected"


def test_charging_schedule_max_periods(csms: TestbedProcess, make_cp: MakeStation) -> None:
    """§9.4.3 ChargingScheduleMaxPeriods: a schedule with more periods is Rejected."""
    cp = make_cp(configuration={"ChargingScheduleMaxPeriods": "2"})
    assert change(csms, cp, "ChargingScheduleMaxPeriods", "9") == "Rejected"
    assert set_profile(csms, cp, profile(1, 0, periods=3)) == "Rejected"
    assert set_profile(csms, cp, profile(1, 0, periods=2)) == "Accepted"


def test_get_configuration_max_keys(csms: TestbedProcess, make_cp: MakeStation) -> None:
    """§9.1.9 GetConfigurationMaxKeys: a GetConfiguration.req asking for more keys gets CALLERROR
    OccurenceConstraintViolation; as many as that are all answered (OCTT TC_019_CS step 7/8)."""
    cp = make_cp(configuration={"GetConfigurationMaxKeys": "3"})
    assert change(csms, cp, "GetConfigurationMaxKeys", "50") == "Rejected"
    keys = ["HeartbeatInterval", "ConnectionTimeOut", "LocalPreAuthorize", "WebSocketPingInterval"]
    three = result_of(csms, cp.cp_id, "GetConfiguration", {"key": keys[:3]})
    assert [entry["key"] for entry in three["configurationKey"]] == keys[:3]
    error = csms_call(csms, cp.cp_id, "GetConfiguration", {"key": keys})["error"]
    assert error["code"] == "OccurenceConstraintViolation"
    everything = result_of(csms, cp.cp_id, "GetConfiguration", {})  # no list: every key, however many
    assert len(everything["configurationKey"]) > 3


# ---------------------------------------------------------------- the fleet's interval options


def test_the_csms_changing_an_interval_key_overrides_the_fleets_option(
    csms: TestbedProcess, make_cp: MakeStation
) -> None:
    """--heartbeat-interval/--meter-interval set a station's pace, but a HeartbeatInterval or
    MeterValueSampleInterval the CSMS changes (and we answer Accepted) takes effect (§9.1.8, §9.1.20)."""
    cp = make_cp(heartbeat_override=0.2, meter_interval_override=0.2)
    heartbeats = gevent.spawn(cp.run_heartbeats)
    try:
        assert wait_until(lambda: actions(csms, cp).count("Heartbeat") >= 3, 5)  # the option's 0.2 s
        assert cp.meter_interval == 0.2
        assert change(csms, cp, "HeartbeatInterval", "3600") == "Accepted"
        assert change(csms, cp, "MeterValueSampleInterval", "30") == "Accepted"
        gevent.sleep(0.3)  # a heartbeat in flight at the change may still arrive
        clear(csms, cp)
        gevent.sleep(1.0)
        assert "Heartbeat" not in actions(csms, cp)  # the CSMS's 3600 s rules now
        assert cp.meter_interval == 30.0
    finally:
        cp.stop(stop_transactions=False)
        heartbeats.join(timeout=5)


# ---------------------------------------------------------------- transactions (§3.7.1, §3.16, errata 3.17)


def _arrivals(csms: TestbedProcess, cp: Station, action: str) -> list[dict]:
    status, body = csms.api("GET", f"/cps/{cp.cp_id}/messages")
    assert status == 200
    return [m for m in body["messages"] if m["direction"] == "in" and m["type"] == 2 and m["action"] == action]


def test_transaction_message_attempts_and_retry_interval(csms: TestbedProcess, make_cp: MakeStation) -> None:
    """§9.1.32/§9.1.33 TransactionMessageAttempts and TransactionMessageRetryInterval, §3.7.1: a
    StopTransaction the CSMS fails to process (CALLERROR) is sent again after RetryInterval x n
    seconds, at most Attempts times. Both changed at runtime; the interval is real seconds like every
    configuration key (the charge point runs at time factor 20 here: a simulated interval would be
    20 times shorter)."""
    cp = make_cp(configuration={"TransactionMessageAttempts": "1", "TransactionMessageRetryInterval": "0"})
    assert cp.settings.time_factor > 1
    assert csms.api("PUT", "/faults", {"name": "callerror", "action": "StopTransaction"})[0] == 200
    session(cp, 0.1)
    assert len(_arrivals(csms, cp, "StopTransaction")) == 1  # one attempt: given up at once
    assert change(csms, cp, "TransactionMessageAttempts", "3") == "Accepted"
    assert change(csms, cp, "TransactionMessageRetryInterval", "1") == "Accepted"
    clear(csms, cp)
    session(cp, 0.1)
    stops = _arrivals(csms, cp, "StopTransaction")
    assert len(stops) == 3, stops
    assert len({m["payload"]["transactionId"] for m in stops}) == 1  # the same message each time
    gaps = [b["ts"] - a["ts"] for a, b in itertools.pairwise(stops)]
    # "wait as many seconds as specified in its TransactionMessageRetryInterval key, multiplied by
    # the number of preceding transmissions": 1 s, then 2 s (a little slack for clock resolution).
    assert gaps[0] >= 0.95 and gaps[1] >= 1.95, gaps


def test_stop_transaction_on_invalid_id(csms: TestbedProcess, make_cp: MakeStation) -> None:
    """§9.1.31 StopTransactionOnInvalidId, errata 3.17, changed at runtime: a StartTransaction.conf
    that refuses the idTag stops the transaction (reason DeAuthorized) while true; while false the
    transaction goes on without energy (SuspendedEVSE) and stops at its end (reason Local)."""
    cp = make_cp()
    session(cp, 0.6, tag="VOCPP-BLOCKED", authorize=False)
    [stop] = [m["payload"] for m in _arrivals(csms, cp, "StopTransaction")]
    assert stop["reason"] == "DeAuthorized"
    assert change(csms, cp, "StopTransactionOnInvalidId", "false") == "Accepted"
    clear(csms, cp)
    session(cp, 0.6, tag="VOCPP-BLOCKED", authorize=False)
    [stop] = [m["payload"] for m in _arrivals(csms, cp, "StopTransaction")]
    assert stop["reason"] == "Local"
    sent = [
        m["payload"]["status"] for m in _arrivals(csms, cp, "StatusNotification") if m["payload"]["connectorId"] == 1
    ]
    assert "SuspendedEVSE" in sent and "Charging" not in sent, sent
    assert change(csms, cp, "StopTransactionOnInvalidId", "true") == "Accepted"
    clear(csms, cp)
    session(cp, 0.6, tag="VOCPP-BLOCKED", authorize=False)
    [stop] = [m["payload"] for m in _arrivals(csms, cp, "StopTransaction")]
    assert stop["reason"] == "DeAuthorized"


def _sampled_measurands(csms: TestbedProcess, cp: Station) -> set[str]:
    """The measurands of the periodic (Sample.Periodic) readings the testbed received."""
    return {
        value.get("measurand", "Energy.Active.Import.Register")
        for m in _arrivals(csms, cp, "MeterValues")
        for reading in m["payload"]["meterValue"]
        for value in reading["sampledValue"]
        if value.get("context", "Sample.Periodic") == "Sample.Periodic"
    }


def test_meter_values_sampled_data(csms: TestbedProcess, make_cp: MakeStation) -> None:
    """§9.1.17 MeterValuesSampledData, changed at runtime: the periodic MeterValues of a transaction
    carry the measurands the key lists, and only those."""
    cp = make_cp(meter_interval_override=0.1)
    session(cp, 0.5)
    before = _sampled_measurands(csms, cp)
    assert {"Voltage", "Power.Active.Import"} <= before, before
    assert change(csms, cp, "MeterValuesSampledData", "Energy.Active.Import.Register,Current.Import") == "Accepted"
    clear(csms, cp)
    session(cp, 0.5)
    assert _sampled_measurands(csms, cp) == {"Energy.Active.Import.Register", "Current.Import"}


def test_local_auth_list_enabled(csms: TestbedProcess, make_cp: MakeStation) -> None:
    """§9.1.11 LocalAuthListEnabled, §3.5.3: with LocalPreAuthorize (and no cache) an idTag in the
    Local Authorization List starts without Authorize.req while the list is enabled; once the key is
    false the list is not consulted and the CSMS is asked."""
    cp = make_cp(configuration={"LocalPreAuthorize": "true", "AuthorizationCacheEnabled": "false"})
    listed = {
        "listVersion": 1,
        "updateType": "Full",
        "localAuthorizationList": [{"idTag": TAG, "idTagInfo": {"status": "Accepted"}}],
    }
    assert result_of(csms, cp.cp_id, "SendLocalList", listed)["status"] == "Accepted"
    clear(csms, cp)
    session(cp, 0.1)
    sent = actions(csms, cp)
    assert "Authorize" not in sent and "StartTransaction" in sent, sent
    assert change(csms, cp, "LocalAuthListEnabled", "false") == "Accepted"
    clear(csms, cp)
    session(cp, 0.1)
    sent = actions(csms, cp)
    assert sent.count("Authorize") == 1 and sent.index("Authorize") < sent.index("StartTransaction"), sent
    assert change(csms, cp, "LocalAuthListEnabled", "true") == "Accepted"
    clear(csms, cp)
    session(cp, 0.1)
    assert "Authorize" not in actions(csms, cp)
