"""Offline as OCPP 1.6 describes it (§3.5, §3.7; OCTT TC_036_CS to TC_039_CS), against the testbed.

The charge point loses its connection (``Station.drop(offline_for=...)``: it reconnects when the
outage is over), goes on charging, starts and stops transactions; its transaction messages are
queued with the time they happened and replayed in order after the reconnect. What the CSMS
received is read back from the testbed: the order, the timestamps (earlier than the connection
they arrived on: ``connected_at`` in ``GET /cps/{id}``), the transactionIds it assigned, and that
nothing came twice or not at all.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from ocpp_users.embedded import TestbedProcess
from ocpp_users.v16.settings import Habits
from ocpp_users.v16.station import Station
from tests.station_helpers import MakeStation, back, go_offline, messages, record, session, station_factory
from tests.test_handlers import TAG, wait_until


@pytest.fixture
def make_cp(csms: TestbedProcess, cp_id: str) -> Iterator[MakeStation]:
    with station_factory(csms, cp_id) as make:
        yield make


def epoch(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


def stamp_of(message: dict[str, Any]) -> float:
    """When a transaction message says it happened."""
    payload = message["payload"]
    if message["action"] == "MeterValues":
        return epoch(payload["meterValue"][0]["timestamp"])
    return epoch(payload["timestamp"])


TX_ACTIONS = ("StartTransaction", "MeterValues", "StopTransaction")


def tx_messages(csms: TestbedProcess, cp: Station) -> list[dict[str, Any]]:
    return [m for m in messages(csms, cp) if m["action"] in TX_ACTIONS]


def transactions(csms: TestbedProcess, cp: Station) -> list[dict[str, Any]]:
    status, body = csms.api("GET", "/transactions")
    assert status == 200
    return [t for t in body["transactions"] if t["cp_id"] == cp.cp_id]


def assert_replayed(csms: TestbedProcess, cp: Station, replayed: list[dict[str, Any]]) -> None:
    """The replayed messages happened while offline (stamped before the connection they came on
    was opened), arrived after it, in the order they happened, each once, and their number is what
    the charge point says it replayed."""
    opened = record(csms, cp)["connected_at"][-1]
    stamps = [stamp_of(m) for m in replayed]
    assert all(stamp < opened < m["ts"] for stamp, m in zip(stamps, replayed, strict=True)), (opened, replayed)
    assert stamps == sorted(stamps)
    keys = [(m["action"], m["raw"].split(",", 2)[2]) for m in replayed]  # the payload as sent, without the id
    assert len(set(keys)) == len(keys), "nothing came twice"
    counts = cp.replay_counts
    assert len(replayed) == counts.delivered == counts.queued == counts.offline
    assert counts.given_up == counts.overflow == 0


def test_offline_transaction_replayed_in_order_with_the_csms_transaction_id(
    csms: TestbedProcess, make_cp: MakeStation
) -> None:
    """OCTT TC_039_CS: a transaction started and stopped offline. After the reconnect its
    StartTransaction, its MeterValues and its StopTransaction arrive in that order, and the queued
    StopTransaction names the transactionId the CSMS assigned to the replayed StartTransaction
    (§3.5.4; a charger cannot know it before)."""
    cp = make_cp(meter_interval_override=0.15)
    session(cp)  # online: the idTag is cached (LocalAuthorizeOffline)
    online = transactions(csms, cp)
    csms.api("DELETE", f"/cps/{cp.cp_id}/messages")
    go_offline(cp, 1.0)
    session(cp, duration=0.5)
    assert cp.queued_messages >= 5 and not cp.connected
    back(cp)
    replayed = tx_messages(csms, cp)
    sent = [m["action"] for m in replayed]
    assert (sent[0], sent[-1]) == ("StartTransaction", "StopTransaction"), sent
    assert {m["action"] for m in replayed[1:-1]} == {"MeterValues"}
    assert_replayed(csms, cp, replayed)
    [tx] = [t for t in transactions(csms, cp) if t not in online]
    assert tx["start"] == replayed[0]["payload"]["timestamp"]
    assert {m["payload"]["transactionId"] for m in replayed[1:]} == {tx["id"]}
    assert (tx["active"], tx["reason"]) == (False, "Local")
    gaps = [stamp_of(b) - stamp_of(a) for a, b in itertools.pairwise(replayed[1:-1])]
    assert all(0.1 <= gap <= 0.3 for gap in gaps), gaps  # TC_036_CS: MeterValueSampleInterval apart


def test_a_transaction_started_offline_goes_on_online(csms: TestbedProcess, make_cp: MakeStation) -> None:
    """OCTT TC_037_1_CS and TC_036_CS: started offline, still charging at the reconnect: the queued
    StartTransaction (then its readings) first, then StatusNotification Charging; the readings taken
    online after that and the StopTransaction carry the CSMS's transactionId."""
    cp = make_cp(meter_interval_override=0.2)
    session(cp)
    csms.api("DELETE", f"/cps/{cp.cp_id}/messages")
    go_offline(cp, 0.6)
    running = cp.start_session(1, TAG, 1.6)
    back(cp)
    running.join(timeout=10)
    received = messages(csms, cp)
    sequence = [
        f"Status:{m['payload']['status']}" if m["action"] == "StatusNotification" else m["action"] for m in received
    ]
    assert sequence[0] == "StartTransaction", sequence
    charging = sequence.index("Status:Charging")
    assert set(sequence[1:charging]) <= {"MeterValues"}, sequence
    assert sequence[-3:] == ["StopTransaction", "Status:Finishing", "Status:Available"], sequence
    opened = record(csms, cp)["connected_at"][-1]
    offline = [m for m in received if m["action"] in TX_ACTIONS and stamp_of(m) < opened]
    assert 2 <= len(offline) <= charging and received[: len(offline)] == offline  # replayed first
    assert all(m["ts"] > opened for m in offline)
    [tx] = [t for t in transactions(csms, cp) if t["start"] == received[0]["payload"]["timestamp"]]
    assert {m["payload"]["transactionId"] for m in received[1:] if m["action"] in TX_ACTIONS} == {tx["id"]}
    assert len([m for m in received[charging:] if m["action"] == "MeterValues"]) >= 2  # online ones


@pytest.mark.parametrize("stop_on_invalid", [True, False])
def test_an_offline_start_the_csms_refuses(csms: TestbedProcess, make_cp: MakeStation, stop_on_invalid: bool) -> None:
    """Started offline for an unknown idTag (AllowOfflineTxForUnknownId) that the CSMS then finds
    Invalid (§3.5.4, errata 3.17): with StopTransactionOnInvalidId the transaction is stopped,
    reason DeAuthorized, under the transactionId the CSMS gave (OCTT TC_037_3_CS); without, it goes
    on with energy delivery stopped, SuspendedEVSE (TC_037_2_CS)."""
    cp = make_cp(
        configuration={"AllowOfflineTxForUnknownId": "true", "StopTransactionOnInvalidId": str(stop_on_invalid).lower()}
    )
    go_offline(cp, 0.5)
    running = cp.start_session(1, "VOCPP-INVALID", 30.0)
    back(cp)
    [start] = [m for m in messages(csms, cp) if m["action"] == "StartTransaction"]
    [tx] = [t for t in transactions(csms, cp) if t["start"] == start["payload"]["timestamp"]]
    if stop_on_invalid:
        running.join(timeout=5)
        assert running.dead
        [stop] = [m["payload"] for m in messages(csms, cp) if m["action"] == "StopTransaction"]
        assert (stop["transactionId"], stop["reason"]) == (tx["id"], "DeAuthorized")
        statuses = [m["payload"]["status"] for m in messages(csms, cp) if m["action"] == "StatusNotification"]
        assert statuses[-2:] == ["Finishing", "Available"]
    else:
        wait_until(lambda: cp.connectors[1].status == "SuspendedEVSE", 3, "SuspendedEVSE")
        statuses = [m["payload"]["status"] for m in messages(csms, cp) if m["action"] == "StatusNotification"]
        assert "SuspendedEVSE" in statuses and cp.connectors[1].meter.effective_power() == 0.0
        assert not any(m["action"] == "StopTransaction" for m in messages(csms, cp))
        assert not running.dead


def test_replay_retries_a_failed_message_then_goes_on(csms: TestbedProcess, make_cp: MakeStation) -> None:
    """§3.7.1 during the replay: a MeterValues the CSMS fails to process (CALLERROR) is sent again
    TransactionMessageAttempts times, then dropped, and the next message follows."""
    cp = make_cp(
        meter_interval_override=0.2,
        configuration={"TransactionMessageAttempts": "2", "TransactionMessageRetryInterval": "0"},
    )
    session(cp)
    csms.api("DELETE", f"/cps/{cp.cp_id}/messages")
    go_offline(cp, 0.8)
    session(cp, duration=0.5)
    assert csms.api("PUT", "/faults", {"name": "callerror", "action": "MeterValues"})[0] == 200
    back(cp)
    sent = [m["action"] for m in tx_messages(csms, cp)]
    readings = sent.count("MeterValues")
    assert readings >= 4 and readings % 2 == 0, sent
    assert sent == ["StartTransaction", *["MeterValues"] * readings, "StopTransaction"], sent
    counts = cp.replay_counts
    # Start and Stop delivered; each reading given up after its 2 attempts (lost, counted apart).
    assert counts.queued == counts.offline == 2 + readings // 2
    assert (counts.delivered, counts.given_up) == (2, readings // 2), counts


def test_a_start_that_never_gets_through_gives_transaction_id_minus_one(
    csms: TestbedProcess, make_cp: MakeStation
) -> None:
    """Errata 3.18: when the StartTransaction could not be delivered despite its attempts, the
    transaction's other messages carry transactionId -1."""
    cp = make_cp(configuration={"TransactionMessageAttempts": "1"})
    session(cp)
    csms.api("DELETE", f"/cps/{cp.cp_id}/messages")
    go_offline(cp, 0.6)
    session(cp)
    assert csms.api("PUT", "/faults", {"name": "callerror", "action": "StartTransaction"})[0] == 200
    back(cp)
    [stop] = [m["payload"] for m in tx_messages(csms, cp) if m["action"] == "StopTransaction"]
    assert stop["transactionId"] == -1


def test_offline_replay_rate_paces_the_replay(csms: TestbedProcess, make_cp: MakeStation) -> None:
    """``Habits.offline_replay_rate``: at most that many queued messages a second (a trickle); 0 (the
    default) sends each as soon as the previous one is answered (a burst)."""
    gaps: dict[float, list[float]] = {}
    for rate in (0.0, 8.0):
        cp = make_cp(meter_interval_override=0.1, habits=Habits(offline_replay_rate=rate))
        session(cp)
        csms.api("DELETE", f"/cps/{cp.cp_id}/messages")
        go_offline(cp, 0.45)
        session(cp, duration=0.35)
        back(cp)
        arrived = [m["ts"] for m in tx_messages(csms, cp)]
        assert len(arrived) >= 4
        gaps[rate] = [b - a for a, b in itertools.pairwise(arrived)]
    assert min(gaps[8.0]) >= 0.11, gaps[8.0]
    assert max(gaps[0.0]) < 0.1, gaps[0.0]


def test_a_message_in_flight_at_the_drop_goes_first_again(csms: TestbedProcess, make_cp: MakeStation) -> None:
    """A StopTransaction sent when the connection drops, unanswered: the CSMS may have it, so it is
    sent again after the reconnect (at least once, as chargers deliver; counted ``in_doubt``), and
    first: before the readings the other connector took meanwhile (§3.7, chronological order)."""
    cp = make_cp(connectors=2, meter_interval_override=0.2)
    assert csms.api("PUT", "/faults", {"name": "late_answer", "seconds": 1.0, "action": "StopTransaction"})[0] == 200
    other = cp.start_session(2, TAG, 2.0)
    wait_until(lambda: cp.connectors[2].transaction_id is not None, 3, "connector 2 charging")
    first = cp.start_session(1, TAG, 0.1)
    wait_until(lambda: any(m["action"] == "StopTransaction" for m in messages(csms, cp)), 3, "the first stop sent")
    wait_until(lambda: cp.queued_messages >= 2, 3, "readings of connector 2 waiting behind it")
    go_offline(cp, 0.3)
    csms.api("DELETE", "/faults")
    first.join(timeout=3)
    other.join(timeout=5)
    back(cp)
    sent = [
        (m["action"], m["payload"].get("connectorId"), m["payload"].get("transactionId")) for m in tx_messages(csms, cp)
    ]
    in_doubt = sent.index(next(item for item in sent if item[0] == "StopTransaction"))
    assert sent[in_doubt + 1] == sent[in_doubt], sent  # again at once: before what waited behind it
    assert sent.count(sent[in_doubt]) == 2
    assert [item[0] for item in sent[in_doubt + 2 :]].count("MeterValues") >= 2, sent
    assert cp.replay_counts.in_doubt == 1
