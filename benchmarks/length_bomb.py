"""``python -m benchmarks.length_bomb [--users N] [--seconds S] [--limit BYTES]``: a fleet under a
length bomb, measured on the path users run (``locust -f locustfiles/fleet.py``).

The testbed answers every Heartbeat with a text frame header announcing 2^40 bytes, then streams
up to ``--limit`` filler bytes. Printed: the Locust process's RSS 1.5 s in and at its peak (sampled
every 0.1 s), and per charge point the connections it opened, the close codes it sent and the
filler bytes it took. A figure, not a test (tests/test_hostile_wire.py has the tests).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from benchmarks.common import Parser
from ocpp_users.embedded import REPO_ROOT, TestbedProcess


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m benchmarks.length_bomb")
    parser.add_argument("--users", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--limit", type=int, default=1 << 28, help="filler bytes per bomb (default 256 MiB)")
    args = parser.parse_args(argv)
    fault = json.dumps({"action": "Heartbeat", "limit": args.limit})
    locust = Path(sys.executable).with_name("locust")
    with TestbedProcess(["--port", "0", "-q", "--fault", "length_bomb", "--fault-args", fault]) as csms:
        with tempfile.TemporaryDirectory() as out:
            env = {**os.environ, "LOCUST_HEARTBEAT_INTERVAL": "2", "LOCUST_IDLE_DURATION": "60"}
            cmd = [str(locust), "-f", str(REPO_ROOT / "locustfiles" / "fleet.py"), "--headless"]
            cmd += ["-u", str(args.users), "-r", str(args.users), "-t", f"{args.seconds}s", "--host", csms.ws_url]
            cmd += ["--call-timeout", "5", "--csv", f"{out}/run"]
            started = time.monotonic()
            proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            watched = psutil.Process(proc.pid)
            early = peak = 0
            while proc.poll() is None:
                try:
                    rss = watched.memory_info().rss
                except psutil.Error:
                    break
                if not early and time.monotonic() - started > 1.5:
                    early = rss
                peak = max(peak, rss)
                time.sleep(0.1)
            proc.wait()
            failures = Path(f"{out}/run_failures.csv").read_text(encoding="utf-8")
        _, body = csms.api("GET", "/cps")
    print(f"RSS of the locust process: {early / 2**20:.1f} MiB at 1.5 s, peak {peak / 2**20:.1f} MiB")
    for cp_id, record in sorted(body["cps"].items()):
        codes = [close["code"] for close in record["closes"]]
        print(f"{cp_id}: {record['connections']} connections, close codes {codes}, {record['bomb_bytes']} filler bytes")
    print(failures.strip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
