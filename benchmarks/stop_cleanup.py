"""Stopping a large fleet cleans up after itself: ``python -m benchmarks.stop_cleanup [--users 4000]``.

Runs ``locust -f locustfiles/fleet.py --headless`` against the reference CSMS (``python -m testbed``,
which keeps every transaction), with sessions long enough that most charge points are charging
when ``-t`` ends, then asks the CSMS how many transactions are still open. A charge point that is
stopped ends its session (StopTransaction, reason Local) and closes its socket with a close
handshake within ``--stop-timeout``; so the figure to read is ``open_after_run`` (0 expected),
next to how long the stop took and what the fleet counted (failures, calls stopped by the run).
Prints one JSON object. Loopback only; bounded by ``--run-time`` and ``--stop-timeout``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.child import ROOT
from benchmarks.common import Parser
from benchmarks.procutil import raise_nofile
from ocpp_users.embedded import TestbedProcess


def run(users: int, rate: float, run_time: int, stop_timeout: float) -> dict[str, Any]:
    raise_nofile()
    with TestbedProcess(["-q", "--heartbeat-interval", "60"]) as csms, tempfile.TemporaryDirectory() as tmp:
        summary_path = Path(tmp) / "summary.json"
        command = [
            sys.executable,
            "-m",
            "locust",
            "-f",
            "locustfiles/fleet.py",
            "--headless",
            "--host",
            csms.ws_url,
            "-u",
            str(users),
            "-r",
            str(rate),
            "-t",
            f"{run_time}s",
            "--stop-timeout",
            f"{stop_timeout:g}s",
            "--idle-duration",
            "0-2",
            "--session-duration",
            "600-900",
            "--loglevel",
            "WARNING",
            "--json-summary",
            str(summary_path),
        ]
        started = time.monotonic()
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env={**os.environ})
        wall = time.monotonic() - started
        status, body = csms.api("GET", "/transactions")
        transactions = body.get("transactions", []) if status == 200 else []
        summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    stops = sum(1 for t in transactions if not t["active"])
    return {
        "users": users,
        "run_time_s": run_time,
        "stop_timeout_s": stop_timeout,
        "exit_code": done.returncode,
        "wall_s": round(wall, 1),
        "stop_s": round(wall - run_time, 1),
        "transactions_started": len(transactions),
        "transactions_stopped": stops,
        "open_after_run": len(transactions) - stops,
        "failures": (summary.get("totals") or {}).get("failures"),
        "errors": [f"{e['type']} {e['name']}: {e['error']} x{e['occurrences']}" for e in summary.get("errors", [])],
        "calls_stopped_by_the_run": (summary.get("fleet") or {}).get("calls_stopped"),
        "stderr_tail": done.stderr.strip().splitlines()[-3:] if done.returncode else [],
    }


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m benchmarks.stop_cleanup", description=__doc__)
    parser.add_argument("--users", type=int, default=4000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--run-time", type=int, default=60, help="seconds (-t); the ramp must fit in it")
    parser.add_argument("--stop-timeout", type=int, default=30, help="seconds (Locust's --stop-timeout)")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.users, args.rate, args.run_time, args.stop_timeout), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
