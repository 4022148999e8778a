"""The Charge points view: the per-charge-point table kept by events (bounded), its queries and CSV,
the timeline and its charts, and the web UI's page and endpoints, under a real Locust Environment
+ LocalRunner against the testbed CSMS. Pure parts (queries, charts, the timeline's bound) are unit
tests."""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from typing import Any

import pytest
from locust.env import Environment

from ocpp_users.embedded import TestbedProcess
from ocpp_users.fleet.chart import Series, line_chart, nice_step
from ocpp_users.fleet.cptable import Query, Table, merge, select, table_from_wire, write_csv
from ocpp_users.fleet.runtime import Fleet
from ocpp_users.fleet.state import fleet_state
from ocpp_users.fleet.timeline import Marker, Timeline
from ocpp_users.ocppj.errors import ConnectionLost
from tests.test_fleet_user import FAST, fleet_env, prefix, set_fault, wait_until

ROWS = [
    ("CP-3", "charging", 100.0, 130.0, 9, 0, ""),
    ("CP-1", "booted", 100.0, 120.0, 5, 2, "Heartbeat: CALLERROR InternalError"),
    ("CP-2", "failed", None, None, 0, 7, "connect: connection refused"),
    ("CP-4", "reconnecting", None, 110.0, 3, 1, "disconnect: connection dropped"),
]


# ---------------------------------------------------------------- queries (units)


def test_select_sorts_filters_and_cuts() -> None:
    assert [r[0] for r in select(ROWS, Query()).rows] == ["CP-1", "CP-2", "CP-3", "CP-4"]
    by_failed = select(ROWS, Query(sort="calls_failed", desc=True))
    assert [r[0] for r in by_failed.rows] == ["CP-2", "CP-1", "CP-4", "CP-3"]
    by_since = select(ROWS, Query(sort="connected_since"))  # not connected (None) first, then by time
    assert [r[0] for r in by_since.rows][:2] == ["CP-2", "CP-4"]
    by_state = select(ROWS, Query(sort="state"))  # in the view's order of states
    assert [r[1] for r in by_state.rows] == ["booted", "charging", "reconnecting", "failed"]
    found = select(ROWS, Query(q="connection", limit=1))
    assert (found.matched, found.total, len(found.rows)) == (2, 4, 1)
    assert found.states == {"charging": 1, "booted": 1, "failed": 1, "reconnecting": 1}
    assert [r[0] for r in select(ROWS, Query(state="failed")).rows] == ["CP-2"]
    assert select(ROWS, Query(q="cp-3")).matched == 1  # case-insensitive


def test_a_query_from_the_page_is_checked() -> None:
    query = Query.from_dict({"sort": "rm -rf", "desc": "1", "limit": "999999999", "q": "x" * 500})
    assert (query.sort, query.desc, query.limit, len(query.q)) == ("id", True, 20_000, 200)
    assert Query.from_dict({"limit": "abc"}).limit == 200


def test_workers_tables_merge_and_malformed_rows_are_dropped() -> None:
    wire = {"total": 3, "matched": 3, "states": {"booted": 3}, "rows": [list(ROWS[1]), ["short"], "junk"]}
    first = table_from_wire(wire)
    assert [r[0] for r in first.rows] == ["CP-1"]
    second = Table(rows=[ROWS[0], ROWS[2]], total=2, matched=2, states={"charging": 1, "failed": 1})
    merged = merge([first, second], Query(sort="calls_ok", desc=True, limit=2))
    assert [r[0] for r in merged.rows] == ["CP-3", "CP-1"]
    assert (merged.total, merged.matched, merged.answered) == (5, 5, 2)
    assert merged.states == {"booted": 3, "charging": 1, "failed": 1}


def test_csv_has_one_row_per_charge_point(tmp_path: Any) -> None:
    path = tmp_path / "out" / "cp.csv"
    assert write_csv(str(path), ROWS) == 4
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    assert [r["id"] for r in rows] == ["CP-1", "CP-2", "CP-3", "CP-4"]
    assert rows[0]["last_failure"] == "Heartbeat: CALLERROR InternalError"
    assert rows[0]["connected_since"] == "1970-01-01T00:01:40Z" and rows[1]["connected_since"] == ""


# ---------------------------------------------------------------- timeline and charts (units)


def test_the_timeline_keeps_the_whole_run_in_bounded_memory() -> None:
    timeline = Timeline(max_points=100)
    for second in range(1000):
        timeline.add({"total": second, "booted": second}, at=timeline.t0 + second)
    assert len(timeline.samples) <= 100
    times = timeline.times()
    assert times[0] == 0.0 and times[-1] >= 990  # the start is kept, at a coarser step
    assert timeline.step == 16.0
    assert timeline.series("booted")[-1] == times[-1]


def test_the_chart_draws_each_series_and_the_storms() -> None:
    svg = line_chart(
        [0.0, 1.0, 2.0, 3.0],
        [Series("booted", "booted", "#00f", [0, 5, None, 7]), Series("failed", "failed <b>", "#f00", [0, 0, 0, 0])],
        title="Charge points by state",
        markers=[Marker(1.0, 2.5, "boot storm", "all 5 done after 1.500 s")],
    )
    booted = re.findall(r'<polyline[^>]*data-series="booted"[^>]*data-points="(\d+)"', svg)
    assert booted == ["3", "3"]  # a gap where the value is missing: two lines, three points in all
    assert 'data-series="failed"' in svg and "failed &lt;b&gt;" in svg and "<b>" not in svg
    assert "boot storm: all 5 done after 1.500 s" in svg and 'fill-opacity="0.12"' in svg
    assert nice_step(37) == 10 and nice_step(0.7) == 0.2


# ---------------------------------------------------------------- a real run


def _run(env: Environment, users: int, during: Any) -> None:
    assert env.runner is not None
    env.runner.start(users, spawn_rate=users)
    try:
        during(env)
    finally:
        env.runner.quit()


def test_rows_are_kept_by_events_and_name_each_failure(csms: TestbedProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every Heartbeat answered with a CALLERROR: each charge point's row counts its calls and names
    the failure; the page's endpoints serve the rows sorted and filtered, the charts and the CSV."""
    monkeypatch.setattr(sys, "argv", ["locust"])  # the web UI re-parses the command line
    set_fault(csms, {"name": "callerror", "action": "Heartbeat", "code": "InternalError"})
    p = prefix()
    env = fleet_env(csms.ws_url, [*FAST, "--cp-id-template", p + "-{n}"], web_ui=True)
    seen: dict[str, Any] = {}

    def during(env: Environment) -> None:
        state = fleet_state(env)
        assert wait_until(lambda: len(state.rows()) == 3 and all(r[5] >= 1 for r in state.rows()), 10)
        assert wait_until(lambda: len(Fleet.of(env).monitor.timeline.samples) >= 3, 5)
        assert env.web_ui is not None
        client = env.web_ui.app.test_client()
        seen["rows"] = state.rows()
        seen["table"] = client.get("/charge-points/table?sort=id&desc=1&q=" + p).get_json()
        seen["filtered"] = client.get("/charge-points/table?state=failed").get_json()
        seen["data"] = client.get("/charge-points/data").get_json()
        seen["csv"] = client.get("/charge-points/csv").get_data(as_text=True)
        seen["page"] = client.get("/charge-points/view").get_data(as_text=True)
        seen["index"] = client.get("/").get_data(as_text=True)
        seen["script"] = client.get("/charge-points/locust.js").get_data(as_text=True)
        seen["report"] = client.get("/stats/report").get_data(as_text=True)

    _run(env, 3, during)
    for cp_id, state, since, last, ok, bad, reason in seen["rows"]:
        assert cp_id.startswith(p) and state in ("booted", "charging")
        assert since is not None and last is not None and ok >= 3  # BootNotification, StatusNotification x2
        assert bad >= 1 and reason.startswith("Heartbeat: "), reason
        assert "InternalError" in reason
    table = seen["table"]
    assert [r["id"] for r in table["rows"]] == [f"{p}-3", f"{p}-2", f"{p}-1"]
    assert table["total"] == 3 and table["matched"] == 3 and not table["final"]
    assert seen["filtered"]["rows"] == [] and seen["filtered"]["matched"] == 0
    data = seen["data"]
    assert data["counts"]["total"] == 3 and data["state"] in ("running", "spawning")
    points = re.findall(r'data-series="(booted|charging)" data-points="(\d+)"', data["charts"]["states"])
    assert points and max(int(n) for _, n in points) >= 3, data["charts"]["states"][:500]
    assert data["gates"]["configured"] is False
    rows = list(csv.DictReader(io.StringIO(seen["csv"])))
    assert sorted(r["id"] for r in rows if r["id"].startswith(p)) == [f"{p}-1", f"{p}-2", f"{p}-3"]
    assert all(int(r["calls_failed"]) >= 1 for r in rows)
    assert "<script>" in seen["page"] and "cp-table" in seen["page"]
    assert '<script src="./charge-points/locust.js"></script>' in seen["index"]
    metadata = json.loads(seen["script"].split("window.vocppFleet = ", 1)[1].split(";\n", 1)[0])
    assert metadata["tableMark"] == "Charge point state"  # (the form's groups: tests/test_fleet_web_form.py)
    assert 'id="vocpp-fleet"' in seen["report"] and "Charge points by state" in seen["report"]
    # after the test: the table as it ended (kept when the test began to stop), not emptied
    final = Fleet.of(env).monitor.rows.query(Query())
    assert sorted(r[0] for r in final.rows) == [f"{p}-1", f"{p}-2", f"{p}-3"]
    assert {r[1] for r in final.rows} <= {"booted", "charging"}


def test_rows_are_bounded_per_process(csms: TestbedProcess) -> None:
    """Beyond the limit a charge point is counted but has no row; stopped ones keep theirs, within
    the same bound."""
    p = prefix()
    env = fleet_env(csms.ws_url, [*FAST, "--cp-id-template", p + "-{n}"])
    state = fleet_state(env)
    state.row_limit = 2
    seen: dict[str, Any] = {}

    def during(env: Environment) -> None:
        assert wait_until(lambda: state.booted == 3, 10)
        seen["rows"] = state.rows()
        seen["counts"] = dict(state.counts)

    _run(env, 3, during)
    assert len(seen["rows"]) == 2 and seen["counts"]["total"] == 3
    assert state.tracked == 0 and len(state.departed) == 2
    assert {row[1] for row in state.rows()} == {"stopped"}


def test_a_drop_of_our_own_is_no_failure_a_drop_by_the_csms_is(csms: TestbedProcess) -> None:
    """A storm's drop (``Station.drop``) leaves the row's failures alone; the CSMS closing the
    connection counts, with its reason; both reconnect and "connected since" moves on."""
    p = prefix()
    env = fleet_env(csms.ws_url, [*FAST, "--cp-id-template", p + "-{n}", "--heartbeat-interval", "30"])
    state = fleet_state(env)
    seen: dict[str, Any] = {}

    def row(cp_id: str) -> Any:
        return next(r for r in state.rows() if r[0] == cp_id)

    def during(env: Environment) -> None:
        assert wait_until(lambda: state.booted == 2, 10)
        first = {m.cp_id: m for m in state.members}
        ours, theirs = f"{p}-1", f"{p}-2"
        seen["before"] = row(ours)
        station = first[ours].station
        assert station is not None
        station.drop()
        assert wait_until(lambda: row(ours)[2] is not None and row(ours)[2] > seen["before"][2], 10)
        seen["ours"] = row(ours)
        set_fault(csms, {"name": "close_after", "count": 1})
        other = first[theirs].station
        assert other is not None
        with pytest.raises(ConnectionLost):
            other.call("Heartbeat", {})  # the CSMS closes the connection on this frame
        assert wait_until(lambda: row(theirs)[5] >= 2, 10)  # the dropped connection, the call it cut short
        seen["theirs"] = row(theirs)
        csms.api("DELETE", "/faults")

    _run(env, 2, during)
    assert seen["ours"][5] == seen["before"][5] == 0 and seen["ours"][6] == "", seen["ours"]
    assert "closed by peer (code 1011)" in seen["theirs"][6], seen["theirs"]
