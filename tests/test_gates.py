"""CI gates: the limit options (flags and LOCUST_ env vars), their evaluation on Locust's stats,
the exit code and the JSON summary; and real runs where a gate passes and where one fails
because the CSMS rejects every BootNotification.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from locust.env import Environment
from locust.event import Events

from ocpp_users.embedded import REPO_ROOT, TestbedProcess
from ocpp_users.fleet import gates
from ocpp_users.ocppj.sink import CP_TO_CSMS, WEBSOCKET
from tests.test_distributed import assert_clean, run_local

# ---------------------------------------------------------------- option values


def test_latency_spec_overall_per_action_and_every_action() -> None:
    assert gates.parse_latency_spec("800") == {"": 800.0}
    assert gates.parse_latency_spec(" 800 , BootNotification=2000,*=5000 ") == {
        "": 800.0,
        "BootNotification": 2000.0,
        "*": 5000.0,
    }


@pytest.mark.parametrize("spec", ["", "abc", "Boot=", "=5", "Boot=-1", "Boot=0", "nan", "Boot=inf"])
def test_bad_latency_specs_are_refused(spec: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        gates.parse_latency_spec(spec)


@pytest.mark.parametrize(
    ("text", "ok"), [("0", True), ("1", True), ("0.05", True), ("1.01", False), ("-0.1", False), ("x", False)]
)
def test_ratios(text: str, ok: bool) -> None:
    if ok:
        assert gates.parse_ratio(text) == float(text)
    else:
        with pytest.raises(argparse.ArgumentTypeError):
            gates.parse_ratio(text)


@pytest.mark.parametrize(
    ("args", "env", "needle"),
    [
        (["--max-p95", "fast"], {}, "argument --max-p95: expected MS or NAME=MS"),
        (["--max-failure-ratio", "5%"], {}, "argument --max-failure-ratio: expected a ratio"),
        ([], {"LOCUST_MIN_BOOT_ACCEPTANCE": "2"}, "argument --min-boot-acceptance: expected a ratio"),
        ([], {"LOCUST_MAX_TIME_TO_ALL_BOOTED": "-1"}, "argument --max-time-to-all-booted: expected seconds"),
    ],
)
def test_a_bad_limit_ends_locust_with_one_line_and_exit_code_2(
    args: list[str], env: dict[str, str], needle: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "locust", "-f", "locustfiles/fleet.py", "--headless", *args],
        cwd=REPO_ROOT,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("LOCUST_")}, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert len(lines) == 1 and needle in lines[0], lines


# ---------------------------------------------------------------- evaluation on Locust's stats


def _environment(**options: Any) -> Environment:
    """A local runner with its own events, so nothing registers on Locust's global ones."""
    defaults = {dest: "" for dest in gates.LIMITS} | {"json_summary": "", "exit_code_on_error": 1}
    env = Environment(events=Events(), parsed_options=SimpleNamespace(**(defaults | options)))
    env.create_local_runner()
    return env


def _log(env: Environment, request_type: str, name: str, times: list[float], failures: int = 0) -> None:
    for ms in times:
        env.events.request.fire(
            request_type=request_type, name=name, response_time=ms, response_length=0, exception=None, context={}
        )
    for _ in range(failures):
        env.events.request.fire(
            request_type=request_type,
            name=name,
            response_time=1,
            response_length=0,
            exception=RuntimeError("boom"),
            context={},
        )


def _by_name(checks: list[gates.Check]) -> dict[str, gates.Check]:
    return {check.name: check for check in checks}


def test_failure_ratio_limit_is_inclusive() -> None:
    env = _environment(max_failure_ratio="0.01")
    _log(env, CP_TO_CSMS, "Heartbeat", [5.0] * 99, failures=1)
    assert [c.passed for c in gates.evaluate(env)] == [True]
    env.parsed_options.max_failure_ratio = "0.005"  # the web UI edits limits as text
    (check,) = gates.evaluate(env)
    assert not check.passed
    assert check.line == "CHECK FAILED: failure ratio: 0.0100 (1 of 100 requests) (limit 0.005)"


def test_the_failure_ratio_counts_every_row() -> None:
    env = _environment()
    _log(env, CP_TO_CSMS, "Heartbeat", [5.0] * 10)
    _log(env, WEBSOCKET, "disconnect", [], failures=4)  # the CSMS dropped us: counted
    assert gates.failure_ratio(env.runner.stats) == (4 / 14, 4, 14)


def test_latency_limits_overall_per_action_and_every_action() -> None:
    env = _environment(max_p95="1000,BootNotification=50,Nothing=5", max_p99="*=150")
    _log(env, CP_TO_CSMS, "BootNotification", [10.0] * 90 + [100.0] * 10)
    _log(env, CP_TO_CSMS, "Heartbeat", [5.0] * 100)
    checks = _by_name(gates.evaluate(env))
    assert checks["p95 of all requests"].passed
    boot = checks["p95 of OCPP CP->CSMS BootNotification"]
    assert not boot.passed and boot.actual == "100 ms" and boot.limit == "50 ms"
    assert not checks["p95 of Nothing (--max-p95)"].passed  # a limit on an action that never ran fails
    assert checks["p95 of Nothing (--max-p95)"].actual == "no requests recorded"
    assert checks["p99 of OCPP CP->CSMS BootNotification"].passed
    assert checks["p99 of OCPP CP->CSMS Heartbeat"].passed


def test_boot_limits_without_any_boot_fail() -> None:
    env = _environment(min_boot_acceptance="1", max_time_to_all_booted="10")
    checks = _by_name(gates.evaluate(env))
    assert not checks["boot acceptance"].passed
    assert not checks["time until all booted"].passed


def test_quitting_sets_the_exit_code_prints_and_writes_the_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "out" / "summary.json"
    env = _environment(max_p95="BootNotification=50", max_failure_ratio="0", json_summary=str(path))
    _log(env, CP_TO_CSMS, "BootNotification", [100.0] * 10)
    gates.on_quitting(env)
    out = capsys.readouterr().out
    assert env.process_exit_code == gates.GATE_EXIT_CODE
    assert "CHECK FAILED: p95 of OCPP CP->CSMS BootNotification: 100 ms (limit 50 ms)" in out
    assert "CHECK PASSED: failure ratio" in out
    data = json.loads(path.read_text())
    assert data["exit_code"] == gates.GATE_EXIT_CODE and data["gates"]["passed"] is False
    assert {c["check"] for c in data["gates"]["checks"]} == {"failure ratio", "p95 of OCPP CP->CSMS BootNotification"}
    assert data["actions"][0]["name"] == "BootNotification" and data["actions"][0]["p95_ms"] == 100


def test_passing_gates_clear_locusts_failure_exit_code() -> None:
    env = _environment(max_failure_ratio="0.5")
    _log(env, CP_TO_CSMS, "Heartbeat", [5.0] * 9, failures=1)
    gates.on_quitting(env)
    assert env.process_exit_code == 0


def test_without_limits_locust_decides_the_exit_code() -> None:
    env = _environment()
    _log(env, CP_TO_CSMS, "Heartbeat", [5.0], failures=1)
    gates.on_quitting(env)
    assert env.process_exit_code is None


# ---------------------------------------------------------------- real runs


@pytest.fixture
def rejecting_csms() -> Iterator[TestbedProcess]:
    proc = TestbedProcess(["--port", "0", "--boot-status", "Rejected", "--boot-retry-interval", "1", "-q"])
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def test_gates_from_env_vars_pass(csms: TestbedProcess, tmp_path: Path) -> None:
    run = run_local(
        ["--host", csms.ws_url, "-u", "5", "-r", "10", "-t", "3s", "--shape", "none", "--min-boot-acceptance", "1"],
        env={"LOCUST_MAX_P99": "*=60000", "LOCUST_MAX_FAILURE_RATIO": "0"},
    )
    assert run.returncode == 0, run.output[-3000:]
    assert_clean(run)
    assert "CHECK PASSED: p99 of OCPP CP->CSMS BootNotification" in run.output  # from LOCUST_MAX_P99
    assert "CHECK PASSED: boot acceptance: 1.0000 (5 of 5 charge points Accepted)" in run.output
    assert "CHECK PASSED: failure ratio: 0.0000" in run.output  # from LOCUST_MAX_FAILURE_RATIO


def test_a_csms_that_rejects_every_boot_fails_the_boot_gates(rejecting_csms: TestbedProcess, tmp_path: Path) -> None:
    summary = tmp_path / "summary.json"
    run = run_local(
        [
            "--host",
            rejecting_csms.ws_url,
            "-u",
            "5",
            "-r",
            "10",
            "-t",
            "3s",
            "--shape",
            "none",
            "--min-boot-acceptance",
            "0.9",
            "--max-time-to-all-booted",
            "10",
            "--json-summary",
            str(summary),
        ]
    )
    assert run.returncode == gates.GATE_EXIT_CODE, run.output[-3000:]
    assert "Traceback" not in run.output
    assert "CHECK FAILED: boot acceptance: 0.0000 (0 of 5 charge points Accepted) (limit >= 0.9)" in run.output
    assert "CHECK FAILED: time until all booted: not all booted (0 of 5)" in run.output
    data = json.loads(summary.read_text())
    assert data["fleet"]["attempted"] == 5 and data["fleet"]["accepted"] == 0
    boot = next(a for a in data["actions"] if a["name"] == "BootNotification")
    assert boot["failures"] == boot["requests"] >= 5  # Rejected counts as a failure (strict mode)
