"""Distributed runs on loopback: a real Locust master and two worker processes against a testbed
CSMS we start ourselves (``--host``): ids unique across workers, stats merged on the master, the
Charge points counts aggregated, CI gates that must pass pass and gates that must fail fail, a
boot storm across workers, and ``--processes``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ocpp_users.embedded import REPO_ROOT, TestbedProcess

LOCUSTFILES = "locustfiles/fleet.py,locustfiles/shapes.py"
GATE_EXIT_CODE = 3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOCUST_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass
class Run:
    returncode: int
    output: str
    workers: list[tuple[int, str]]

    @property
    def logs(self) -> str:
        return self.output + "".join(out for _, out in self.workers)


def _finish(proc: subprocess.Popen[str], timeout: float) -> str:
    """Wait for ``proc``; on timeout kill its whole process group (``--processes`` forks children
    that hold the output pipe) and fail with what it printed."""
    try:
        out, _ = proc.communicate(timeout=timeout)
        return out
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        pytest.fail(f"locust did not finish within {timeout:g} s:\n{out[-4000:]}")


def _start(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "locust", "-f", LOCUSTFILES, *args],
        cwd=REPO_ROOT,
        env={**_env(), **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def run_local(args: list[str], timeout: float = 90, env: dict[str, str] | None = None) -> Run:
    """One headless ``locust`` process (local runner, or a master with ``--processes``)."""
    proc = _start(["--headless", "--only-summary", *args], env)
    output = _finish(proc, timeout)
    return Run(proc.returncode, output, [])


def run_distributed(args: list[str], workers: int = 2, timeout: float = 90, expect: bool = True) -> Run:
    """A headless master on a free loopback port and ``workers`` worker processes; ``expect=False``:
    the master is not told how many workers to expect (it starts with the first)."""
    port = free_port()
    expecting = ["--expect-workers", str(workers), "--expect-workers-max-wait", "30"] if expect else []
    master = _start(
        [
            "--master",
            "--master-bind-host",
            "127.0.0.1",
            "--master-bind-port",
            str(port),
            *expecting,
            "--headless",
            "--only-summary",
            *args,
        ]
    )
    procs = [_start(["--worker", "--master-host", "127.0.0.1", "--master-port", str(port)]) for _ in range(workers)]
    try:
        output = _finish(master, timeout)
        finished = [_finish(proc, 20) for proc in procs]  # wait first: returncode is None until then
        return Run(
            master.returncode, output, [(proc.returncode, out) for proc, out in zip(procs, finished, strict=True)]
        )
    finally:
        for proc in (master, *procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()


def assert_clean(run: Run) -> None:
    """No traceback and no ERROR line in any process's log."""
    assert "Traceback" not in run.logs, run.logs[-4000:]
    errors = [line for line in run.logs.splitlines() if "/ERROR/" in line]
    assert errors == [], errors


@pytest.fixture
def testbed() -> Iterator[TestbedProcess]:
    """A testbed of our own per test, so that its charge point registry counts only this run."""
    proc = TestbedProcess(["--port", "0", "--heartbeat-interval", "30", "-q"])
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def charge_points(testbed: TestbedProcess) -> dict[str, dict]:
    status, body = testbed.api("GET", "/cps")
    assert status == 200, body
    return body["cps"]


def test_master_and_two_workers_40_charge_points(testbed: TestbedProcess, tmp_path: Path) -> None:
    """The acceptance run: 40 distinct charge points at the CSMS, merged stats without failures,
    passing gates, no traceback anywhere."""
    summary = tmp_path / "summary.json"
    run = run_distributed(
        [
            "--host",
            testbed.ws_url,
            "-u",
            "40",
            "-r",
            "40",
            "-t",
            "8s",
            "--shape",
            "steady",
            "--csv",
            str(tmp_path / "run"),
            "--html",
            str(tmp_path / "run.html"),
            "--json-summary",
            str(summary),
            "--max-failure-ratio",
            "0",
            "--max-p95",
            "60000,BootNotification=60000",
            "--max-p99",
            "*=60000",
            "--min-boot-acceptance",
            "1",
            "--max-time-to-all-booted",
            "30",
        ]
    )
    assert run.returncode == 0, run.output[-4000:]
    assert [code for code, _ in run.workers] == [0, 0], run.logs[-4000:]
    assert_clean(run)

    cps = charge_points(testbed)
    assert len(cps) == 40, sorted(cps)
    assert all(cp["booted"] for cp in cps.values())
    assert {cp_id.split("-")[1] for cp_id in cps} == {"0", "1"}  # VOCPP-{worker}-{n}: both workers

    data = json.loads(summary.read_text())
    assert data["runner"] == "master" and data["workers"] == 2
    assert data["totals"]["failures"] == 0 and data["totals"]["requests"] > 0
    actions = {(a["type"], a["name"]): a for a in data["actions"]}
    # every worker ran 20; the master's merged stats hold all 40
    assert actions[("OCPP CP->CSMS", "BootNotification")]["requests"] == 40
    assert actions[("WebSocket", "connect")]["requests"] == 40
    assert data["fleet"]["accepted"] == 40 and data["fleet"]["attempted"] == 40
    assert data["gates"] == {"configured": True, "passed": True, "checks": data["gates"]["checks"]}
    assert data["exit_code"] == 0
    assert "CHECK FAILED" not in run.output
    assert "CHECK PASSED: boot acceptance: 1.0000 (40 of 40 charge points Accepted)" in run.output
    assert "checks passed" in run.output
    # the Charge points counts of both workers, aggregated on the master
    assert "fleet at the end of the test: charge points: 40 (" in run.output
    assert (tmp_path / "run_stats.csv").exists() and (tmp_path / "run.html").exists()


def test_boot_storm_across_workers_and_a_failing_p95_gate(testbed: TestbedProcess, tmp_path: Path) -> None:
    """A p95 limit below the real p95 exits non-zero with CHECK FAILED; the boot storm's
    broadcast reaches both workers and its figures are printed."""
    summary = tmp_path / "summary.json"
    run = run_distributed(
        [
            "--host",
            testbed.ws_url,
            "-u",
            "30",
            "-r",
            "30",
            "--shape",
            "boot-storm",
            "--storm-hold",
            "0.5",
            "--storm-timeout",
            "20",
            "--max-p95",
            "connect=0.001",
            "--max-failure-ratio",
            "0",
            "--json-summary",
            str(summary),
        ]
    )
    assert run.returncode == GATE_EXIT_CODE, run.output[-4000:]
    assert_clean(run)
    assert "CHECK FAILED: p95 of WebSocket connect:" in run.output
    assert "CHECK PASSED: failure ratio" in run.output
    assert "Boot storm: 30 of 30 charge points connected and held" in run.output
    assert "on 2 worker(s)" in run.output
    assert "time until all 30 booted:" in run.output
    assert "BootNotification latency during the storm: n=30" in run.output
    assert len(charge_points(testbed)) == 30

    data = json.loads(summary.read_text())
    assert data["exit_code"] == GATE_EXIT_CODE and data["gates"]["passed"] is False
    storm = data["shapes"][0]
    assert storm["shape"] == "boot-storm" and storm["connected_before_storm"] == 30
    assert storm["storm"]["workers_answered"] == 2 and storm["storm"]["complete"] is True
    assert 0 <= storm["time_to_all_booted_s"] < 20
    assert storm["storm"]["latency"]["OCPP CP->CSMS BootNotification"]["count"] == 30


def test_processes_flag_forks_workers_with_distinct_ids(testbed: TestbedProcess) -> None:
    port = str(free_port())  # the forked workers connect to --master-port
    run = run_local(
        [
            "--processes",
            "2",
            "--host",
            testbed.ws_url,
            "-u",
            "10",
            "-r",
            "10",
            "-t",
            "4s",
            "--shape",
            "none",
            "--master-bind-host",
            "127.0.0.1",
            "--master-bind-port",
            port,
            "--master-port",
            port,
            "--min-boot-acceptance",
            "1",
        ]
    )
    assert run.returncode == 0, run.output[-4000:]
    assert_clean(run)
    cps = charge_points(testbed)
    assert len(cps) == 10
    assert {cp_id.split("-")[1] for cp_id in cps} == {"0", "1"}
    assert "CHECK PASSED: boot acceptance: 1.0000 (10 of 10 charge points Accepted)" in run.output


def test_ids_file_without_expect_workers_never_collides(testbed: TestbedProcess, tmp_path: Path) -> None:
    """A master that does not know how many workers will come (no --expect-workers, as in the web
    UI setup) and rebalances users as the second worker joins: the file's ids are lent out by the
    master, each to one worker, so no two charge points share an id (the testbed would replace the
    first connection, a counted failure) and no id outside the file is used."""
    ids = [f"REG-{i:03d}" for i in range(20)]
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text("# registered stations\n" + "\n".join(ids) + "\n")
    summary = tmp_path / "summary.json"
    run = run_distributed(
        [
            "--host",
            testbed.ws_url,
            "--cp-ids-file",
            str(ids_file),
            "--enable-rebalancing",
            "-u",
            "20",
            "-r",
            "20",
            "-t",
            "10s",
            "--shape",
            "none",
            "--max-failure-ratio",
            "0",
            "--json-summary",
            str(summary),
        ],
        expect=False,
    )
    assert run.returncode == 0, run.logs[-4000:]
    assert_clean(run)
    cps = charge_points(testbed)
    assert set(cps) <= set(ids), sorted(cps)
    connected = sorted(cp_id for cp_id, cp in cps.items() if cp["connected"])
    data = json.loads(summary.read_text())
    assert data["totals"]["failures"] == 0, data["errors"]
    assert "replaced by a new connection" not in run.logs
    assert data["fleet"]["accepted"] == len(cps)
    assert len(connected) <= 20
