"""The benchmarks' own logic (no timing): reading the fleet's console line, the Locust command line,
the headline figures and target verdicts, the latency probe's frames.

The figures themselves are never asserted here: benchmarks print figures, they do not fail on one.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from benchmarks import latency
from benchmarks.__main__ import _table
from benchmarks.capacity import capacity_figures
from benchmarks.fastcsms import FastCsms, _unmask
from benchmarks.fleetrun import NO_SESSIONS_IDLE, fleet_command, parse_fleet_line, summary_fidelity
from benchmarks.messages import MESSAGES
from benchmarks.probe import PROBED, prebuilt_frames
from ocpp_users.fleet.config import parse_range
from ocpp_users.fleet.fleet_fidelity import summary_text
from ocpp_users.fleet.options import help_text
from ocpp_users.fleet.ui import summary_line

# ---------------------------------------------------------------- the fleet's console line


def _view(lag_s: float, warning: str | None = None) -> dict[str, Any]:
    return {
        "totals": {
            "Heartbeat": {"due": 19500, "on_time": 19480, "late": 20, "missed": 0},
            "MeterValues": {"due": 200, "on_time": 200, "late": 0, "missed": 0},
        },
        "loop_lag_p99_s": lag_s,
        "cpu_percent": 7.4,
        "warning": warning,
    }


def test_the_fleets_own_line_is_read() -> None:
    """The line as the fleet itself writes it (``FleetMonitor.summary``), so a change of its
    format that the benchmark cannot read fails here rather than in a 10-minute run."""
    counts = {"total": 19500, "connecting": 1, "booting": 2, "booted": 19000, "charging": 490, "failed": 7}
    text = (
        f"[2026-01-01 00:00:00,000] host/INFO/ocpp_users.fleet: {summary_line(counts)} | {summary_text(_view(0.0042))}"
    )
    line = parse_fleet_line(text, at=12.5)
    assert line is not None
    assert line.at == 12.5
    assert line.total == 19500
    assert (line.state("booted"), line.state("charging"), line.state("failed"), line.state("reconnecting")) == (
        19000,
        490,
        7,
        0,
    )
    assert line.on_time["Heartbeat"] == (pytest.approx(0.999), 19500)
    assert line.on_time["MeterValues"] == (1.0, 200)
    assert line.loop_lag_p99_ms == 4.0
    assert line.cpu_percent == 7.0
    assert line.falling_behind is False


def test_a_falling_behind_line_and_a_line_without_fidelity() -> None:
    counts = {"total": 3, "booted": 3}
    behind = parse_fleet_line(f"{summary_line(counts)} | {summary_text(_view(0.25, 'too slow'))}")
    assert behind is not None and behind.falling_behind and behind.loop_lag_p99_ms == 250.0
    bare = parse_fleet_line(summary_line(counts))
    assert bare is not None and bare.total == 3 and bare.loop_lag_p99_ms is None and bare.on_time == {}


@pytest.mark.parametrize(
    "text",
    ["", "Aggregated   1600  0(0.00%)", "[x] vm/INFO/locust.main: Shutting down (exit code 0)", "charge points: many"],
)
def test_other_lines_are_not_fleet_lines(text: str) -> None:
    assert parse_fleet_line(text) is None


# ---------------------------------------------------------------- the command line


def test_the_command_is_the_fleet_locustfile_headless() -> None:
    idle = fleet_command(
        "ws://127.0.0.1:9000/", 19979, 500, run_time_s=400, heartbeat_interval=60, sessions=False, json_summary="s.json"
    )
    assert idle[:5] == ["locust", "-f", "locustfiles/fleet.py", "--headless", "--host"]
    assert idle[idle.index("-u") + 1] == "19979" and idle[idle.index("-t") + 1] == "400s"
    assert idle[idle.index("--idle-duration") + 1] == NO_SESSIONS_IDLE
    assert idle[idle.index("--json-summary") + 1] == "s.json"
    sessions = fleet_command(
        "ws://127.0.0.1:9000/", 10, 5, run_time_s=60, heartbeat_interval=30, sessions=True, json_summary="s.json"
    )
    assert "--idle-duration" not in sessions  # the fleet's default sessions


def test_the_fleet_options_used_exist() -> None:
    options = help_text()
    for flag in ("--heartbeat-interval", "--idle-duration", "--json-summary"):
        assert flag in options
    assert parse_range(NO_SESSIONS_IDLE, "--idle-duration") == (86400.0, 86400.0)


def test_summary_fidelity_is_read_when_the_fleet_writes_it() -> None:
    assert summary_fidelity(None) is None
    assert summary_fidelity({"totals": {}}) is None
    assert summary_fidelity({"fidelity": {"loop_lag_p99_ms": 3.2}}) == {"loop_lag_p99_ms": 3.2}


# ---------------------------------------------------------------- headline figures


def _worker(booted: int, heartbeating: int | None, rss: float, cpu: float, lag: float, ratio: float) -> dict[str, Any]:
    return {
        "booted": booted,
        "heartbeating": heartbeating,
        "rss_kib_per_cp": rss,
        "rss_max_kib_per_cp": rss + 1,
        "cpu_percent": cpu,
        "cpu_percent_per_1000_cps": round(cpu / (booted / 1000), 3),
        "loop_lag_p99_ms": lag,
        "on_time": {"Heartbeat": {"ratio": ratio, "due": booted}},
        "fleet_counts": {"charging": 10},
        "csms_cpu_percent": 1.0,
        "csms_cpu_percent_ramp": 30.0,
    }


def test_full_run_figures_take_the_worst_worker() -> None:
    cap = {
        "users_per_worker": 19979,
        "idle": {"heartbeat_interval_s": 60, "per_worker": [_worker(19979, 19970, 57.0, 20.0, 4.0, 0.99)]},
        "sessions": {"per_worker": [_worker(19979, 19979, 66.0, 60.0, 9.0, 1.0)]},
        "two_workers": {
            "per_worker": [_worker(19979, 19979, 57.0, 25.0, 6.0, 1.0), _worker(19000, None, 58.0, 30.0, 8.0, 0.9)]
        },
    }
    flat = capacity_figures(cap)
    assert flat["fleet_max_cps_per_worker"] == 19970  # heartbeating in the window, not only booted
    assert flat["fleet_rss_kib_per_cp_idle"] == 57.0
    assert flat["fleet_rss_kib_per_cp_sessions"] == 67.0  # the peak in the window
    assert flat["fleet_loop_lag_p99_ms"] == 4.0
    assert flat["fleet_idle_heartbeat_interval_s"] == 60
    assert flat["fleet_two_workers_cps"] == 19979 + 19000  # no CSMS count: the fleet's booted count
    assert flat["fleet_csms_cpu_percent_max"] == 30.0
    assert "fleet_cps_per_worker_quick" not in flat


def test_quick_run_figures_are_not_named_as_maxima() -> None:
    """2,000 users asked is not a per-worker maximum: the quick run names it so no target is judged."""
    cap = {
        "users_per_worker": 2000,
        "two_workers": {
            "heartbeat_interval_s": 30,
            "per_worker": [_worker(2000, 2000, 57.0, 3.5, 4.0, 1.0), _worker(2000, 1990, 58.0, 3.4, 5.0, 1.0)],
        },
    }
    flat = capacity_figures(cap)
    assert "fleet_max_cps_per_worker" not in flat and "fleet_two_workers_cps" not in flat
    assert flat["fleet_cps_per_worker_quick"] == 1990
    assert flat["fleet_two_workers_cps_quick"] == 3990
    assert flat["fleet_loop_lag_p99_ms"] == 5.0
    assert flat["fleet_rss_kib_per_cp_idle"] == 58.0


def _step(rate: int, achieved: float, cpu: float, p50: float, ref: float) -> dict[str, Any]:
    return {
        "offered_per_s": rate,
        "achieved_per_s": achieved,
        "harness_cpu_percent": cpu,
        "harness_p50_ms": p50,
        "reference_p50_ms": ref,
        "inflation_p50_ms": round(p50 - ref, 3),
        "p50_ratio": round(p50 / ref, 3),
    }


def test_p50_verdict_stops_at_70_percent_cpu_or_falling_behind() -> None:
    steps = [
        _step(500, 500, 5.0, 0.105, 0.1),
        _step(5000, 5000, 30.0, 0.108, 0.1),
        _step(16000, 14000, 65.0, 50.0, 0.1),  # starved: behind although under 70 %
        _step(18000, 18000, 60.0, 0.1, 0.1),
    ]
    verdict = latency.p50_verdict(steps)
    assert verdict["steps_considered"] == 2
    assert verdict["p50_ratio_max"] == 1.08 and verdict["p50_within_10pct"] is True
    assert verdict["worst_step"]["offered_per_s"] == 5000
    hot = latency.p50_verdict([_step(500, 500, 75.0, 0.1, 0.1)])
    assert hot["p50_ratio_max"] is None and hot["steps_considered"] == 0
    worse = latency.p50_verdict([_step(500, 500, 5.0, 0.2, 0.1)])
    assert worse["p50_within_10pct"] is False


def test_the_table_marks_unmet_targets_and_leaves_unjudged_ones() -> None:
    text = _table({"fleet_rss_kib_per_cp_idle": 57.4, "ratio_vs_raw_frame": 0.55, "fleet_loop_lag_p99_ms": None})
    rows = {line.split()[0]: line for line in text.splitlines()[2:]}
    assert rows["fleet_rss_kib_per_cp_idle"].endswith("NO")
    assert rows["ratio_vs_raw_frame"].endswith("yes")
    assert rows["fleet_loop_lag_p99_ms"].split()[-2:] == ["<=", "5"]  # null: not judged


# ---------------------------------------------------------------- the latency reference and the CSMS


def test_the_probe_sends_what_the_harness_open_loop_sends() -> None:
    frames = prebuilt_frames()
    actions = []
    for frame in frames:
        assert frame[0] == 0x81  # FIN + text
        assert frame[1] & 0x80  # masked, as a client must
        length, pos = frame[1] & 0x7F, 2
        if length == 126:
            length, pos = int.from_bytes(frame[2:4], "big"), 4
        assert len(frame) == pos + 4 + length
        call = orjson.loads(_unmask(frame[pos + 4 :], frame[pos : pos + 4]))
        assert call[0] == 2 and isinstance(call[1], str)
        assert [call[2], call[3]] in [[a, p] for a, p in MESSAGES]
        actions.append(call[2])
    assert sorted(actions) == sorted(PROBED)


def test_the_csms_keeps_the_booted_count_across_a_reset() -> None:
    csms = FastCsms(heartbeat_interval=60)
    assert csms.answer("CP1", "BootNotification", {})["interval"] == 60
    csms.answer("CP1", "Heartbeat", {})
    csms.command({"cmd": "reset"})
    stats = csms.command({"cmd": "stats"})
    assert (stats["booted_cps"], stats["booted_total"], stats["heartbeat_cps"]) == (0, 1, 0)
