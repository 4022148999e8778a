"""Issue 9: the fleet measures the CSMS, never itself.

Stopping (the end of a run, a ramp-down, a frozen CSMS at the stop) is never a CSMS failure; the
counts are kept by events, not by walking the fleet; the Aggregated row holds round trips only; a
call never sent has its own 0 ms row; a session sends only the MeterValues that fell due; workers
behave as one process against the embedded testbed; ``--json-summary`` carries the run's fidelity.
Real testbed processes, real sockets.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path

import gevent
import pytest

from ocpp_users.embedded import TestbedProcess
from ocpp_users.fleet.state import fleet_state, state_of
from ocpp_users.ocppj import errors as engine_errors
from ocpp_users.ocppj.sink import CP_TO_CSMS, CSMS_TO_CP, NOT_SENT, Recorder, is_round_trip
from ocpp_users.v16.settings import ChargePointSettings
from ocpp_users.v16.station import Station
from tests.test_fleet_cli import locust
from tests.test_fleet_user import errors, fleet_env, prefix, wait_until

FAST_HEARTBEAT = ["--heartbeat-interval", "0.05", "--idle-duration", "0-0.3", "--session-duration", "0.5-1.5"]


def received(csms: TestbedProcess, cp_ids: set[str], action: str) -> int:
    """How many ``action`` CALLs the testbed received from these charge points."""
    total = 0
    for cp_id in cp_ids:
        status, body = csms.api("GET", f"/cps/{cp_id}/messages")
        assert status == 200, body
        total += sum(1 for m in body["messages"] if m["direction"] == "in" and m["type"] == 2 and m["action"] == action)
    return total


def test_a_stop_racing_in_flight_calls_is_never_a_failure(csms: TestbedProcess) -> None:
    """20 charge points heartbeating every 50 ms, sessions running: stopped three times over, no
    failure row, and every transaction they started was stopped on the CSMS's side."""
    for _ in range(3):
        tag = prefix()
        env = fleet_env(csms.ws_url, [*FAST_HEARTBEAT, "--cp-id-template", tag + "-{n}"])
        assert env.runner is not None
        env.runner.start(20, spawn_rate=20)
        state = fleet_state(env)
        assert wait_until(lambda state=state: state.booted == 20, 10)
        gevent.sleep(1.0)
        env.runner.quit()
        assert errors(env) == []
        assert env.stats.total.num_failures == 0
        heartbeats = env.stats.entries[("Heartbeat", CP_TO_CSMS)].num_requests
        assert heartbeats > 100  # the stop raced plenty of calls
        ids = {f"{tag}-{n}" for n in range(1, 21)}
        assert received(csms, ids, "StartTransaction") == received(csms, ids, "StopTransaction") > 0
        status, body = csms.api("GET", "/transactions")
        assert status == 200
        ours = [t for t in body["transactions"] if t["cp_id"] in ids]
        assert ours and [t for t in ours if t["active"]] == []  # the CSMS holds no open transaction
        assert fleet_state(env).users == 0 and fleet_state(env).counts["total"] == 0


def test_a_frozen_csms_at_the_stop_is_no_failure_and_the_stop_timeout_holds(
    csms: TestbedProcess, caplog: pytest.LogCaptureFixture
) -> None:
    """The CSMS stops answering Heartbeats: at the stop the charge points wait for the calls in
    flight until --stop-timeout, then close; those calls are counted as stopped by the run."""
    caplog.set_level(logging.INFO, logger="ocpp_users")
    tag = prefix()
    env = fleet_env(
        csms.ws_url, ["--heartbeat-interval", "0.2", "--idle-duration", "600", "--cp-id-template", tag + "-{n}"]
    )
    assert env.runner is not None
    env.stop_timeout = 1.5
    env.runner.start(5, spawn_rate=5)
    assert wait_until(lambda: fleet_state(env).booted == 5, 10)
    status, _ = csms.api("PUT", "/faults", {"name": "no_answer", "action": "Heartbeat"})
    assert status == 200
    gevent.sleep(0.5)  # every charge point now has a Heartbeat in flight
    started = time.monotonic()
    env.runner.quit()
    took = time.monotonic() - started
    assert took < 1.5 + 1.5, took  # bounded by --stop-timeout (plus Locust's own bookkeeping)
    assert errors(env) == []
    assert sum(fleet_state(env).calls_stopped.values()) == 5
    assert fleet_state(env).calls_stopped["Heartbeat"] == 5
    # ... and the console says so once the users are gone (the end-of-test line comes before the stop)
    assert "fleet stopped: 5 call(s) stopped by the run (not CSMS failures)" in caplog.text


def test_a_ramp_down_is_no_failure(csms: TestbedProcess) -> None:
    tag = prefix()
    env = fleet_env(csms.ws_url, [*FAST_HEARTBEAT, "--cp-id-template", tag + "-{n}"])
    assert env.runner is not None
    env.runner.start(12, spawn_rate=12)
    assert wait_until(lambda: fleet_state(env).booted == 12, 10)
    gevent.sleep(0.5)
    env.runner.start(4, spawn_rate=100)  # ramp down to 4
    assert wait_until(lambda: fleet_state(env).users == 4, 10)
    gevent.sleep(0.5)
    env.runner.quit()
    assert errors(env) == []


def test_counts_follow_the_charge_points_without_walking_them(csms: TestbedProcess) -> None:
    """The event-kept counts equal what walking every charge point would give, at any moment."""
    tag = prefix()
    env = fleet_env(csms.ws_url, [*FAST_HEARTBEAT, "--cp-id-template", tag + "-{n}"])
    assert env.runner is not None
    env.runner.start(10, spawn_rate=10)
    state = fleet_state(env)
    try:
        for _ in range(15):
            gevent.sleep(0.2)
            walked: dict[str, int] = {}
            for member in state.members:
                name = state_of(member.station, member.failed)
                if name is not None:
                    walked[name] = walked.get(name, 0) + 1
            assert {k: v for k, v in state.counts.items() if v and k != "total"} == walked
            assert state.charging == sum(1 for m in state.members if m.station is not None and m.station.charging)
            assert state.connected == sum(1 for m in state.members if m.station is not None and m.station.connected)
    finally:
        env.runner.quit()


def test_the_aggregated_row_is_the_csmss_round_trips(csms: TestbedProcess) -> None:
    """Our handling time of the CSMS's calls has its own row and stays out of the total."""
    tag = prefix()
    env = fleet_env(csms.ws_url, ["--idle-duration", "600", "--cp-id-template", tag + "-{n}"])
    assert env.runner is not None
    env.runner.start(2, spawn_rate=2)
    try:
        assert wait_until(lambda: fleet_state(env).booted == 2, 10)
        for n in (1, 2):
            for _ in range(3):
                status, body = csms.api("POST", f"/cps/{tag}-{n}/GetConfiguration", {})
                assert status == 200 and "result" in body, body
    finally:
        env.runner.quit()
    stats = env.stats
    assert stats.entries[("GetConfiguration", CSMS_TO_CP)].num_requests == 6
    round_trips = sum(e.num_requests for (name, method), e in stats.entries.items() if is_round_trip(method, name))
    assert stats.total.num_requests == round_trips
    assert stats.total.num_requests < sum(e.num_requests for e in stats.entries.values())


def test_a_call_never_sent_is_its_own_zero_ms_row(csms: TestbedProcess, cp_id: str) -> None:
    """One outstanding CALL at a time: a call that waited out the previous one is not a round trip."""
    sink = Recorder()
    cp = Station(ChargePointSettings(cp_id=cp_id, url=csms.ws_url, reconnect=False, call_timeout=0.5), sink=sink)
    cp.connect()
    try:
        cp.boot()
        csms.api("PUT", "/faults", {"name": "no_answer", "action": "Heartbeat"})
        first = gevent.spawn(cp.heartbeat)
        gevent.sleep(0.05)
        with pytest.raises(engine_errors.CallNotSent):
            cp.call("Authorize", {"idTag": "VOCPP-VALID"}, timeout=0.2)
        with pytest.raises(engine_errors.CallTimeout):
            first.get()
    finally:
        cp.stop(stop_transactions=False)
    [not_sent] = sink.select(NOT_SENT, "Authorize")
    assert not_sent.response_time == 0.0
    assert "not sent" in str(not_sent.exception)
    assert sink.select(CP_TO_CSMS, "Authorize") == []


def test_a_short_session_sends_no_meter_values_that_were_not_due(csms: TestbedProcess, cp_id: str) -> None:
    """A 1 s session with a 60 s MeterValueSampleInterval sends none, and none is counted as due."""
    due: list[str] = []
    cp = Station(ChargePointSettings(cp_id=cp_id, url=csms.ws_url, reconnect=False), sink=Recorder())
    cp.schedule_observer = lambda kind, since, interval: due.append(kind)
    cp.connect()
    try:
        cp.boot()
        cp.start_session(1, "VOCPP-VALID", 1.0).join(timeout=10)
        assert received(csms, {cp_id}, "StopTransaction") == 1
        assert received(csms, {cp_id}, "MeterValues") == 0
        assert due == []
        cp.configuration.change("MeterValueSampleInterval", "1")
        cp.start_session(1, "VOCPP-VALID", 2.5).join(timeout=10)
        assert received(csms, {cp_id}, "MeterValues") == 2  # due at 1 s and 2 s, none at the end
        assert due == ["MeterValues", "MeterValues"]
    finally:
        cp.stop(stop_transactions=False)


def test_the_cli_run_exits_0_every_time_and_reports_its_fidelity(tmp_path: Path) -> None:
    """The README's quickstart shape with a 50 ms heartbeat, three times: exit 0, no failure; the
    JSON summary has the run's fidelity object."""
    for run in range(3):
        summary = tmp_path / f"s{run}.json"
        result = locust(
            ["--headless", "-u", "20", "-r", "20", "-t", "4s", *FAST_HEARTBEAT, "--json-summary", str(summary)],
            tmp_path,
        )
        output = result.stdout + result.stderr
        assert result.returncode == 0, output[-3000:]
        document = json.loads(summary.read_text())
        assert document["totals"]["failures"] == 0 and document["errors"] == [], document["errors"]
        fidelity = document["fidelity"]
        for key in ("loop_lag_p99_ms", "cpu_percent", "heartbeats_on_time_ratio", "meter_values_on_time_ratio"):
            assert key in fidelity, fidelity
        assert fidelity["heartbeats_due"] > 100 and 0 < fidelity["heartbeats_on_time_ratio"] <= 1
        assert fidelity["loop_lag_p99_ms"] >= 0 and fidelity["cpu_percent"] > 0


def test_processes_send_what_one_process_sends(tmp_path: Path) -> None:
    """--processes against the embedded testbed: the workers take the same MeterValueSampleInterval
    as one process does (5 s), so their sessions send MeterValues."""
    summary = tmp_path / "p.json"
    result = locust(
        [
            "--headless",
            "--processes",
            "2",
            "-u",
            "4",
            "-r",
            "4",
            "-t",
            "14s",
            "--idle-duration",
            "0-0.5",
            "--session-duration",
            "11-12",
            "--json-summary",
            str(summary),
        ],
        tmp_path,
        timeout=90,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    document = json.loads(summary.read_text())
    actions = {(a["type"], a["name"]): a for a in document["actions"]}
    meter_values = actions[("OCPP CP->CSMS", "MeterValues")]["requests"]
    assert meter_values >= 4 * 2, meter_values  # 4 sessions of 11 s or more, one sample every 5 s
    assert document["totals"]["failures"] == 0


def test_stop_in_the_web_ui_is_no_failure(csms: TestbedProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run started and stopped from the web UI (its /swarm and /stop), heartbeats flying."""
    monkeypatch.setattr(sys, "argv", ["locust"])  # the web UI re-parses the command line
    tag = prefix()
    env = fleet_env(csms.ws_url, [*FAST_HEARTBEAT, "--cp-id-template", tag + "-{n}"], web_ui=True)
    assert env.web_ui is not None and env.runner is not None
    client = env.web_ui.app.test_client()
    try:
        started = client.post("/swarm", data={"user_count": 10, "spawn_rate": 10, "host": csms.ws_url})
        assert started.status_code == 200, started.get_data(as_text=True)
        assert wait_until(lambda: fleet_state(env).booted == 10, 10)
        gevent.sleep(1.0)
        stopped = client.post("/stop")
        assert stopped.status_code == 200
        assert wait_until(lambda: fleet_state(env).users == 0, 15)
    finally:
        env.runner.quit()
    assert errors(env) == []
    assert env.stats.entries[("Heartbeat", CP_TO_CSMS)].num_requests > 50
