"""The run's end as files and as console lines, from the command line: ``--html`` carries the
fleet's sections (states over time, the storm and its figures, the gates, fidelity), ``--cp-csv``
one row per charge point (merged from the workers under ``--processes``), ``--shape`` works with
``locustfiles/fleet.py`` alone, and the console says each thing once (``--loglevel`` respected)."""

from __future__ import annotations

import csv
import re
import socket
from pathlib import Path

from tests.test_fleet_cli import locust


def test_a_run_writes_the_fleet_into_its_reports(tmp_path: Path) -> None:
    run = ["--headless", "-u", "4", "-r", "4", "-t", "10s", "--shape", "boot-storm", "--storm-hold", "0.5"]
    reports = ["--html", "report.html", "--cp-csv", "out/cp.csv", "--max-p95", "5000", "--min-boot-acceptance", "1"]
    result = locust(
        [*run, *reports],
        tmp_path,
        env={"LOCUST_IDLE_DURATION": "1-2", "LOCUST_SESSION_DURATION": "2-3", "LOCUST_HEARTBEAT_INTERVAL": "2"},
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "Traceback" not in output
    assert "Boot storm: 4 of 4 charge points connected and held" in output  # --shape without shapes.py
    # the fleet's line: every 10 s while the test runs, once at its end, never again after it
    lines = [line for line in output.splitlines() if "charge points: 4 (" in line]
    assert lines and "fleet at the end of the test: " in lines[-1], lines
    assert sum("fleet at the end of the test" in line for line in output.splitlines()) == 1
    with open(tmp_path / "out" / "cp.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(r["id"] for r in rows) == [f"VOCPP-0-0000{n}" for n in range(1, 5)]
    assert all(r["state"] in ("booted", "charging") and int(r["calls_ok"]) >= 3 for r in rows), rows
    assert all(r["calls_failed"] == "0" and r["connected_since"].endswith("Z") for r in rows), rows
    report = (tmp_path / "report.html").read_text()
    section = report[report.index('<section id="vocpp-fleet">') :]
    assert section.index("</section>") > section.index("Charge points by state")
    points = [int(n) for n in re.findall(r'data-series="(?:booted|charging)" data-points="(\d+)"', section)]
    assert points and max(points) >= 5, section[:2000]
    assert "boot storm" in section and "time until all 4 booted" in section
    assert "PASSED" in section and "boot acceptance" in section and "p95 of all requests" in section
    assert "Load fidelity" in section and "None of the 4 charge points had a failure" in section


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_workers_say_a_thing_once_and_their_rows_reach_the_csv(tmp_path: Path) -> None:
    """Two worker processes that cannot connect: the warning once (not once per process), no INFO
    line under --loglevel WARNING, and every charge point of both workers in the CSV with its reason."""
    host = f"ws://127.0.0.1:{_closed_port()}/"
    run = ["--headless", "-u", "4", "-r", "4", "-t", "5s", "--processes", "2", "--loglevel", "WARNING"]
    result = locust([*run, "--host", host, "--cp-csv", "cp.csv", "--backoff-max", "1"], tmp_path)
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output[-3000:]
    refused = [line for line in output.splitlines() if "cannot connect to" in line]
    assert len(refused) == 1, refused
    assert "connection refused" in refused[0] and "(the charge points retry with backoff" in refused[0]
    assert not [line for line in output.splitlines() if "/INFO/" in line], output[-3000:]
    with open(tmp_path / "cp.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(r["id"][:8] for r in rows) == ["VOCPP-0-", "VOCPP-0-", "VOCPP-1-", "VOCPP-1-"], rows
    assert all(int(r["calls_failed"]) >= 1 and "connection refused" in r["last_failure"] for r in rows), rows
    assert all(r["state"] in ("connecting", "reconnecting") and r["calls_ok"] == "0" for r in rows), rows
