"""The fleet's load fidelity (ocpp_users/fleet_fidelity.py) under a real Locust Environment +
LocalRunner against the real testbed CSMS: on schedule a run reports every heartbeat and meter
value on time and warns of nothing; with its event loop starved it warns in the log, in the
``/charge-points`` endpoint and on the "Charge points" tab. Workers' reports reach the master's view.
"""

from __future__ import annotations

import gc
import logging
import re
import sys
import time
from typing import Any

import gevent
import pytest
from locust.env import Environment

from ocpp_users.embedded import TestbedProcess
from ocpp_users.fleet.fidelity import FidelityTracker
from ocpp_users.fleet.fleet_fidelity import FIDELITY_KEY
from ocpp_users.fleet.runtime import Fleet
from ocpp_users.fleet.ui import TAB_KEY
from tests.test_fleet_user import FAST, entry, fleet_env, prefix, run_fleet


def fleet_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "ocpp_users.fleet" and r.levelno == logging.WARNING and "falling behind" in r.getMessage()
    ]


def tab_rows(stats: dict[str, Any]) -> dict[str, Any]:
    tab = [e for e in stats["extended_stats"] if e["key"] == TAB_KEY]
    assert len(tab) == 1, stats["extended_stats"]
    return {row["state"]: row["count"] for row in tab[0]["data"]}


def grab_web_ui(env: Environment, seen: dict[str, Any]) -> None:
    assert env.web_ui is not None
    client = env.web_ui.app.test_client()
    seen["endpoint"] = client.get("/charge-points").get_json()
    seen["tab"] = tab_rows(client.get("/stats/requests").get_json())


def test_on_schedule_every_message_is_on_time_and_nothing_is_warned(
    csms: TestbedProcess, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", ["locust"])  # the web UI re-parses the command line
    caplog.set_level(logging.INFO, logger="ocpp_users.fleet")
    seen: dict[str, Any] = {}

    def during(env: Environment) -> None:
        Fleet.of(env).fidelity.check_interval = 0.5
        gevent.sleep(6.0)
        seen["frozen"] = gc.get_freeze_count()
        grab_web_ui(env, seen)
        seen["summary"] = Fleet.of(env).monitor.summary()

    env = run_fleet(
        csms.ws_url,
        [*FAST, "--connectors", "2", "--cp-id-template", prefix() + "-{n}"],
        users=3,
        during=during,
        web_ui=True,
    )
    fidelity = seen["endpoint"]["fidelity"]
    heartbeat, meter = fidelity["totals"]["Heartbeat"], fidelity["totals"]["MeterValues"]
    assert heartbeat["due"] >= 9 and meter["due"] >= 3, fidelity
    assert heartbeat["on_time_ratio"] >= 0.99 and meter["on_time_ratio"] >= 0.99, fidelity
    assert heartbeat["late"] == meter["late"] == 0 and heartbeat["max_lateness_s"] < 0.5, fidelity
    assert fidelity["warning"] is None and fidelity["loop_lag_p99_s"] < 0.1, fidelity
    # the hook runs once per heartbeat, just before it goes out (one may be cut off by the stop)
    sent = entry(env, "Heartbeat").num_requests
    assert sent <= Fleet.of(env).fidelity.tracker.totals["Heartbeat"].due <= sent + 3
    assert fleet_warnings(caplog) == []
    tab = seen["tab"]
    assert tab["Heartbeat on time"].startswith("100% of "), tab
    assert tab["MeterValues on time"].startswith("100% of "), tab
    assert tab["fidelity warning"] == "none"
    assert {"event loop lag", "CPU", "GC pause", "booted", "total"} <= set(tab)
    assert "| on time: Heartbeat 100% of " in seen["summary"], seen["summary"]
    if hasattr(gc, "freeze"):
        assert seen["frozen"] > 0  # frozen when spawning completed ...
        assert gc.get_freeze_count() == 0  # ... and thawed when the test stopped


def hog_the_loop(busy_s: float, pause_s: float) -> None:
    """Keep the gevent hub from running anything else for ``busy_s`` at a time (a CPU-bound worker)."""
    while True:
        until = time.perf_counter() + busy_s
        while time.perf_counter() < until:
            pass
        gevent.sleep(pause_s)


def test_a_starved_loop_warns_in_the_log_and_on_the_tab(
    csms: TestbedProcess, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", ["locust"])
    caplog.set_level(logging.INFO, logger="ocpp_users.fleet")
    seen: dict[str, Any] = {}

    def during(env: Environment) -> None:
        fidelity = Fleet.of(env).fidelity
        fidelity.check_interval = 0.5
        gevent.sleep(1.0)  # booted, heartbeating on time
        seen["before"] = list(fleet_warnings(caplog))
        hog = gevent.spawn(hog_the_loop, 2.2, 0.3)
        try:
            gevent.sleep(7.0)
        finally:
            hog.kill()
        grab_web_ui(env, seen)
        seen["summary"] = Fleet.of(env).monitor.summary()

    env = fleet_env(csms.ws_url, [*FAST, "--cp-id-template", prefix() + "-{n}"], web_ui=True)
    # the production policy (1 s tolerance, 95% on time, 100 ms loop lag), on fewer messages
    Fleet.of(env).fidelity.tracker_factory = lambda: FidelityTracker(tolerance_s=1.0, min_due=5, cpu_max_percent=95)
    assert env.runner is not None
    env.runner.start(4, spawn_rate=4)
    try:
        during(env)
    finally:
        env.runner.quit()

    assert seen["before"] == []
    logged = fleet_warnings(caplog)
    assert len(logged) == 1, logged  # rate-limited: one line a minute
    assert "event loop lag p99" in logged[0], logged  # the first symptom, before 5 heartbeats were due
    fidelity = seen["endpoint"]["fidelity"]
    current = fidelity["warning"]  # the current state: by now the heartbeats are late too
    assert current.startswith("load generator falling behind") and "event loop lag p99" in current, current
    assert re.search(r"Heartbeat \d+% on time \(limit 95%; \d+ of \d+ due; [1-9]\d* late", current), current
    heartbeat = fidelity["totals"]["Heartbeat"]
    assert heartbeat["late"] > 0 and heartbeat["on_time_ratio"] < 0.95 and heartbeat["max_lateness_s"] > 1.0
    assert fidelity["loop_lag_max_s"] > 1.5
    assert seen["tab"]["fidelity warning"] == current
    assert not seen["tab"]["Heartbeat on time"].startswith("100%"), seen["tab"]
    assert "FALLING BEHIND" in seen["summary"]


def test_worker_reports_reach_the_master_view(csms: TestbedProcess, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="ocpp_users.fleet")
    env = fleet_env(csms.ws_url, FAST)
    fleet = Fleet.of(env)
    data: dict[str, Any] = {}
    env.events.report_to_master.fire(client_id="local", data=data)
    assert set(data[FIDELITY_KEY]) == {"snapshot", "warning", "seq"} and data[FIDELITY_KEY]["warning"] is None

    def worker(late: int, lag_s: float) -> FidelityTracker:
        """A worker's tracker: 20 heartbeats, the first ``late`` of them 2 s late."""
        tracker = FidelityTracker(tolerance_s=1.0, min_due=5)
        now = time.monotonic()
        for i in range(20):
            tracker.periodic("Heartbeat", now - 30.0 - (2.0 if i < late else 0.0), 30.0, at=now)
        tracker.record_loop_lag(lag_s)
        tracker.record_cpu(40.0)
        return tracker

    behind, fine = worker(10, 0.5), worker(0, 0.01)
    warning = behind.warn()
    assert warning is not None
    report = {"snapshot": behind.snapshot().as_dict(), "warning": warning, "seq": 1}
    for _ in range(2):  # a warning is logged once, not with every report that still carries it
        env.events.worker_report.fire(client_id="w1", data={FIDELITY_KEY: report})
    env.events.worker_report.fire(
        client_id="w2", data={FIDELITY_KEY: {"snapshot": fine.snapshot().as_dict(), "warning": None, "seq": 0}}
    )
    env.events.worker_report.fire(client_id="w3", data={FIDELITY_KEY: "garbage"})
    logged = [r.getMessage() for r in caplog.records if "worker w1" in r.getMessage()]
    assert logged == [f"fleet: worker w1: {warning}"]

    view = fleet.fidelity.view()
    assert view["processes"] == 3  # this process and two workers (w3 sent nothing usable)
    heartbeat = view["totals"]["Heartbeat"]
    assert (heartbeat["due"], heartbeat["on_time"], heartbeat["late"]) == (40, 30, 10)
    assert view["loop_lag_max_s"] == 0.5 and view["cpu_percent"] == 40.0
    assert view["warning"] == f"worker w1: {warning}"
    rows = {row["state"]: row["count"] for row in fleet.monitor.summary_rows()}
    assert rows["Heartbeat on time"].startswith("75.0% of 40 due"), rows
    assert rows["fidelity warning"] == f"worker w1: {warning}"
