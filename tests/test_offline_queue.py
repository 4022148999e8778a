"""The offline queue's limits and its accounting (OCPP 1.6 §3.7), against the testbed.

A real charger keeps its queued transaction messages in limited storage (``--offline-queue-max``):
when full, the oldest MeterValues goes, never a StartTransaction or StopTransaction. Messages still
queued when the run stops are never delivered: counted per charge point and for the fleet (the
harness stopping, not a CSMS failure). ``--offline-replay-rate`` paces only the messages that
happened offline.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ocpp_users.embedded import TestbedProcess
from ocpp_users.fleet.state import FleetState
from ocpp_users.fleet.ui import summary_line
from ocpp_users.v16.settings import Habits
from tests.station_helpers import MakeStation, back, clear, go_offline, messages, session, station_factory
from tests.test_distributed import run_local
from tests.test_handlers import TAG, wait_until

TX_ACTIONS = ("StartTransaction", "MeterValues", "StopTransaction")


@pytest.fixture
def make_cp(csms: TestbedProcess, cp_id: str) -> Iterator[MakeStation]:
    with station_factory(csms, cp_id) as make:
        yield make


def test_a_full_queue_drops_the_oldest_meter_values_never_a_start_or_stop(
    csms: TestbedProcess, make_cp: MakeStation
) -> None:
    """A queue of 2: offline, session 1's readings push each other out and its StopTransaction
    pushes out the last one; session 2's StartTransaction goes over the bound (never dropped) and
    its readings find no MeterValues to push out, so they are the ones dropped. The CSMS receives
    both transactions, complete, and no reading; the drops are counted."""
    cp = make_cp(meter_interval_override=0.1, habits=Habits(offline_queue_max=2))
    session(cp, 0.1)  # online: the idTag is cached, for the local authorization offline
    clear(csms, cp)
    base = cp.replay_counts  # what the online session may have queued behind a message in flight
    go_offline(cp, 2.0)
    session(cp, 0.45)
    session(cp, 0.45)
    counts = cp.replay_counts
    assert counts.overflow - base.overflow >= 4, counts  # about 4 readings a session, at 0.1 s
    back(cp)
    sent = [m["action"] for m in messages(csms, cp) if m["action"] in TX_ACTIONS]
    assert sent == ["StartTransaction", "StopTransaction"] * 2, sent
    counts = cp.replay_counts
    delivered = counts.delivered - base.delivered
    assert delivered == 4 and counts.queued - base.queued == delivered + counts.overflow, counts


def test_messages_queued_when_the_charge_point_stops_are_counted_never_delivered(
    csms: TestbedProcess, make_cp: MakeStation
) -> None:
    """Offline when the run stops: the queued transaction messages are never delivered. The charge
    point counts them (``unsent``), the fleet adds them up as the charge point leaves, and the
    end-of-run line says so (apart from failures: the harness stopped, not the CSMS)."""
    cp = make_cp(meter_interval_override=0.1)
    session(cp, 0.1)
    clear(csms, cp)
    base = cp.replay_counts  # what the online session may have queued behind a message in flight
    fleet = FleetState()
    member = fleet.join()
    fleet.attach(member, cp)
    go_offline(cp, 60.0)
    session(cp, 0.3)
    queued = cp.queued_messages
    assert queued >= 3  # StartTransaction, readings, StopTransaction
    cp.stop(stop_transactions=True)
    counts = cp.replay_counts
    assert (counts.unsent, counts.delivered - base.delivered, counts.given_up) == (queued, 0, 0), counts
    assert cp.queued_messages == 0
    fleet.leave(member)
    assert fleet.snapshot()["unsent_messages"] == queued
    line = summary_line({"total": 0, "unsent_messages": queued})
    assert f"{queued} transaction message(s) never delivered (queued when the run stopped)" in line
    assert "never delivered" not in summary_line({"total": 0})  # only when there are some
    assert not [m for m in messages(csms, cp) if m["action"] in TX_ACTIONS]


def test_the_fleet_reports_the_messages_its_stop_left_undelivered(csms: TestbedProcess, tmp_path: Path) -> None:
    """A fleet run whose CSMS never answers StopTransaction: each charge point's StopTransaction
    waits for its retry (TransactionMessageRetryInterval, 60 s) when the run ends after 4 s. It is
    never delivered: ``--json-summary`` counts it in ``fleet.unsent_messages`` and the console says so
    after the stop, apart from the failures (the missing answer is the CSMS's; the stop is ours)."""
    assert csms.api("PUT", "/faults", {"name": "no_answer", "action": "StopTransaction"})[0] == 200
    summary = tmp_path / "summary.json"
    run = run_local(
        [
            "--host",
            csms.ws_url,
            "-u",
            "2",
            "-r",
            "10",
            "-t",
            "4",
            "--cp-id-template",
            "UNS" + uuid.uuid4().hex[:6] + "-{n}",
            "--session-duration",
            "0.3",
            "--idle-duration",
            "0.1",
            "--call-timeout",
            "1",
            "--json-summary",
            str(summary),
        ],
        timeout=60,
    )
    fleet = json.loads(summary.read_text())["fleet"]
    unsent = fleet["unsent_messages"]
    assert unsent >= 2, (fleet, run.output[-3000:])  # a StopTransaction per charge point at least
    said = [line for line in run.output.splitlines() if "fleet stopped: " in line]
    assert len(said) == 1 and f"; {unsent} transaction message(s) never delivered" in said[0], run.output[-3000:]
    assert fleet["overflow_messages"] == 0


def test_the_replay_rate_paces_only_the_messages_queued_offline(csms: TestbedProcess, make_cp: MakeStation) -> None:
    """``--offline-replay-rate 4``: the messages queued offline (connector 1) go out at most 4 a
    second; the ones of a session started online meanwhile (connector 2), which only wait behind
    them, go out as soon as their turn comes. The replay ends (``replay_s``) with the last message
    queued offline, not with the ones behind it."""
    cp = make_cp(connectors=2, meter_interval_override=0.1, habits=Habits(offline_replay_rate=4.0))
    session(cp, 0.1)
    clear(csms, cp)
    base = cp.replay_counts  # what the online session may have queued behind a message in flight
    go_offline(cp, 0.6)
    session(cp, 0.4)
    wait_until(lambda: cp.online, 10, "the charge point back online")
    online = cp.start_session(2, TAG, 0.6)
    online.join(timeout=10)
    assert online.dead
    back(cp)
    sent = [m for m in messages(csms, cp) if m["action"] in TX_ACTIONS]
    first = [m for m in sent if m["payload"].get("connectorId", 1) == 1 and not _of_connector_2(m, sent)]
    second = [m for m in sent if m not in first]
    assert len(first) >= 4 and len(second) >= 4, sent
    assert sent == first + second  # the ones of connector 2 waited behind the replay
    paced = [b["ts"] - a["ts"] for a, b in itertools.pairwise(first)]
    assert min(paced) >= 0.24, paced  # 4 a second
    behind = [b["ts"] - a["ts"] for a, b in itertools.pairwise(second)]
    assert min(behind) < 0.2, behind  # not paced (paced, each would wait 0.25 s)
    counts = cp.replay_counts
    assert counts.offline - base.offline == len(first) and counts.delivered - base.delivered == len(sent), counts
    assert counts.ended is not None
    ended = counts.ended + (time.time() - time.monotonic())  # the replay's end, on the testbed's clock
    assert ended < second[-1]["ts"], (ended, second[-1]["ts"])


def _of_connector_2(message: dict, sent: list[dict]) -> bool:
    """A StopTransaction names no connector: it belongs to connector 2's transaction by its id."""
    if message["action"] != "StopTransaction":
        return False
    ids = {m["payload"].get("transactionId") for m in sent if m["payload"].get("connectorId") == 2}
    return message["payload"]["transactionId"] in ids
