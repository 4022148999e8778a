"""Storm shapes, headless and bounded, against a testbed we start: a boot storm really holds the
BootNotifications until its broadcast, a reconnect storm (across two workers) drops every
connection and times the way back with and without jitter, a rolling restart goes wave by wave,
a peak hour keeps its fraction charging. Each prints its figures. Plus the histogram and the
merging of worker results they rely on.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ocpp_users.embedded import TestbedProcess
from ocpp_users.fleet.storms import Conductor, Histogram, bucket
from tests.test_distributed import _finish, _start, assert_clean, run_distributed, run_local


@pytest.fixture
def testbed() -> Iterator[TestbedProcess]:
    proc = TestbedProcess(["--port", "0", "--heartbeat-interval", "30", "-q"])
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def printed(output: str) -> str:
    """What Locust printed at the end, without the log lines (the figures are logged as well)."""
    return "\n".join(line for line in output.splitlines() if not line.startswith("["))


def _cps(testbed: TestbedProcess) -> dict[str, dict]:
    status, body = testbed.api("GET", "/cps")
    assert status == 200, body
    return body["cps"]


# ---------------------------------------------------------------- the shapes, run by Locust


def test_boot_storm_holds_every_boot_until_the_broadcast(testbed: TestbedProcess, tmp_path: Path) -> None:
    summary = tmp_path / "summary.json"
    proc = _start(
        [
            "--headless",
            "--only-summary",
            "--host",
            testbed.ws_url,
            "-u",
            "10",
            "-r",
            "20",
            "--shape",
            "boot-storm",
            "--storm-hold",
            "3",
            "--storm-timeout",
            "20",
            "--json-summary",
            str(summary),
        ]
    )
    held: dict[str, dict] = {}
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        cps = _cps(testbed)
        if len(cps) == 10 and all(cp["connected"] for cp in cps.values()):
            held = cps
            break
        time.sleep(0.1)
    output = _finish(proc, 60)
    assert proc.returncode == 0, output[-4000:]
    assert held, f"the 10 charge points never all connected:\n{output[-3000:]}"
    assert not any(cp["booted"] for cp in held.values()), held  # connected, but no BootNotification yet
    assert all(cp["booted"] for cp in _cps(testbed).values())
    assert "time until all 10 booted:" in output
    assert "BootNotification latency during the storm: n=10" in output
    figures = json.loads(summary.read_text())["shapes"][0]
    assert figures["shape"] == "boot-storm" and figures["storm"]["complete"]
    assert figures["time_to_all_booted_s"] is not None


def test_reconnect_storm_across_two_workers(testbed: TestbedProcess, tmp_path: Path) -> None:
    """Every connection of both workers drops at once, twice (jitter 0, then 0.5); the drops a
    storm causes on purpose do not count against --max-failure-ratio."""
    summary = tmp_path / "summary.json"
    run = run_distributed(
        [
            "--host",
            testbed.ws_url,
            "-u",
            "20",
            "-r",
            "40",
            "--shape",
            "reconnect-storm",
            "--storm-hold",
            "0.5",
            "--storm-timeout",
            "20",
            "--storm-jitter",
            "0,0.5",
            "--max-failure-ratio",
            "0",
            "--max-time-to-all-back",
            "15",
            "--json-summary",
            str(summary),
        ]
    )
    assert run.returncode == 0, run.output[-4000:]
    assert_clean(run)
    output = printed(run.output)
    assert "Reconnect storm: 20 of 20 charge points connected" in output
    assert "backoff jitter 0:" in output and "backoff jitter 0.5:" in output
    assert output.count("time until all 20 back:") == 2
    assert output.count("WebSocket reconnect latency during the storm: n=20") == 2
    assert "worst case: jitter" in output
    assert "CHECK PASSED: failure ratio: 0.0000" in output
    assert "CHECK PASSED: time until all back (reconnect-storm)" in output
    data = json.loads(summary.read_text())
    figures = data["shapes"][0]
    assert [r["jitter"] for r in figures["rounds"]] == [0.0, 0.5]
    for round_ in figures["rounds"]:
        assert round_["complete"] and round_["workers_answered"] == 2 and round_["charge_points"] == 20
        # the engine's first backoff step is 1 s: nobody is back before 1 s without jitter, 0.5 s with 0.5
        assert round_["first_s"] >= (1.0 if round_["jitter"] == 0 else 0.5) - 0.05
    assert data["fleet"]["deliberate_drops"] == 40
    assert data["errors"] == []  # the drops are counted apart (deliberate_drops), never as failures
    assert all(cp["connected"] is False for cp in _cps(testbed).values())  # closed cleanly at the end


def test_rolling_restart_goes_wave_by_wave(testbed: TestbedProcess, tmp_path: Path) -> None:
    summary = tmp_path / "summary.json"
    run = run_local(
        [
            "--host",
            testbed.ws_url,
            "-u",
            "12",
            "-r",
            "30",
            "--shape",
            "rolling-restart",
            "--restart-waves",
            "3",
            "--storm-hold",
            "0.3",
            "--storm-timeout",
            "20",
            "--json-summary",
            str(summary),
        ]
    )
    assert run.returncode == 0, run.output[-4000:]  # no gate: the drops are the run's own doing, never failures
    assert_clean(run)
    output = printed(run.output)
    for wave in (1, 2, 3):
        assert f"wave {wave} of 3:" in output
    assert output.count("time until all 4 back:") == 3
    figures = json.loads(summary.read_text())["shapes"][0]
    assert [r["charge_points"] for r in figures["rounds"]] == [4, 4, 4]
    assert figures["time_to_all_back_s"] is not None


def test_peak_hour_keeps_the_fraction_charging(testbed: TestbedProcess, tmp_path: Path) -> None:
    summary = tmp_path / "summary.json"
    run = run_local(
        [
            "--host",
            testbed.ws_url,
            "-u",
            "12",
            "-r",
            "30",
            "--shape",
            "peak-hour",
            "--peak-fraction",
            "0.5",
            "--peak-duration",
            "4",
            "--idle-duration",
            "3600",
            "--meter-interval",
            "1",
            "--storm-hold",
            "0.3",
            "--json-summary",
            str(summary),
            "--max-failure-ratio",
            "0",
        ]
    )
    assert run.returncode == 0, run.output[-4000:]
    assert_clean(run)
    assert "Peak hour: 0.5 of 12 charge points = 6 charging for 4 s" in run.output
    assert "StartTransaction latency: n=6" in run.output
    assert "StopTransaction latency: n=6" in run.output
    figures = json.loads(summary.read_text())["shapes"][0]
    assert figures["target"] == 6 and figures["charging_min"] == 6 and figures["charging_max"] == 6
    assert figures["time_to_target_s"] is not None
    status, body = testbed.api("GET", "/transactions")
    assert status == 200
    transactions = body["transactions"] if isinstance(body, dict) else body
    assert len(transactions) == 6


# ---------------------------------------------------------------- the pieces


def test_bucket_rounds_like_locust() -> None:
    assert [bucket(v) for v in (0.4, 5.5, 99.4, 123, 999, 1234, 15555)] == [0, 6, 99, 120, 1000, 1200, 16000]


def test_histogram_percentiles_merge_and_wire_form() -> None:
    first, second = Histogram(), Histogram()
    for ms in range(1, 51):
        first.add(float(ms))
    for ms in range(51, 101):
        second.add(float(ms))
    first.merge(Histogram.from_wire(second.to_wire()))
    assert first.count == 100
    assert first.percentile(0.5) == 50 and first.percentile(0.95) == 95 and first.percentile(1.0) == 100
    figures = first.figures()
    assert figures["min_ms"] == 1 and figures["max_ms"] == 100 and figures["avg_ms"] == 50.5
    assert Histogram().percentile(0.95) is None and Histogram().figures()["count"] == 0


def test_outcome_takes_the_slowest_worker_and_sums_the_rest() -> None:
    class _Env:
        runner = None

    conductor = Conductor(_Env())
    conductor.sent_at[1] = 0.0
    hist_a, hist_b = Histogram(), Histogram()
    hist_a.add(10)
    hist_b.add(30)
    common = {"kind": "drop", "round": 1, "complete": True}
    conductor.on_result(
        "a",
        {
            **common,
            "n": 3,
            "done": 3,
            "duration": 1.2,
            "first": 1.0,
            "latencies": {"WebSocket reconnect": hist_a.to_wire()},
            "completions": [[1.0, 2], [1.2, 1]],
            "failures": {},
        },
    )
    conductor.on_result(
        "b",
        {
            **common,
            "n": 2,
            "done": 2,
            "duration": 1.5,
            "first": 1.1,
            "latencies": {"WebSocket reconnect": hist_b.to_wire()},
            "completions": [[1.0, 1], [1.5, 1]],
            "failures": {"x": 1},
        },
    )
    outcome = conductor.outcome(1, nodes=2)
    assert outcome.complete and outcome.n == 5 and outcome.done == 5
    assert outcome.duration == 1.5 and outcome.first == 1.0
    assert outcome.latency().count == 2 and outcome.latency().high == 30
    assert outcome.peak_per_s == 30.0  # 3 completions in the 100 ms slot at 1.0 s
    assert outcome.failures == {"x": 1}
    assert conductor.outcome(1, nodes=3).complete is False  # a worker did not answer
