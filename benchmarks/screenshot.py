"""The README's picture of the Charge points view, made from a real run.

    python -m benchmarks.screenshot                     # writes docs/charge-points.png
    python -m benchmarks.screenshot --out /tmp/cp.png --users 500

Starts ``locust -f locustfiles/fleet.py`` with its web UI against the embedded testbed CSMS: a
reconnect storm (``--shape reconnect-storm``, two rounds: backoff jitter 0 and 0.5) over
``--users`` charge points with short charging sessions and two CI gates, opens the web UI in
headless Chromium (:mod:`benchmarks.browser`) on the Charge points tab once both storms are over,
and saves the whole page as PNG. Needs Chromium (``apt-get install chromium``).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from benchmarks.browser import Browser, BrowserError, BrowserUnavailable
from benchmarks.common import Parser

ROOT = Path(__file__).resolve().parent.parent
FRAME_DOC = "document.getElementById('vocpp-charge-points').contentDocument"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m benchmarks.screenshot", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "charge-points.png"), help="PNG file to write")
    parser.add_argument("--users", type=int, default=300, help="charge points (default 300)")
    parser.add_argument("--rate", type=float, default=100.0, help="connected per second (default 100)")
    parser.add_argument("--settle", type=float, default=12.0, help="seconds to run on after the storms (default 12)")
    args = parser.parse_args(argv)

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    command = [
        sys.executable, "-m", "locust", "-f", "locustfiles/fleet.py",
        "--web-host", "127.0.0.1", "--web-port", str(port), "--autostart",
        "-u", str(args.users), "-r", str(args.rate), "-t", "5m",
        "--shape", "reconnect-storm", "--storm-jitter", "0,0.5", "--storm-hold", "6",
        "--idle-duration", "2-6", "--session-duration", "8-15", "--connectors", "2",
        "--max-p95", "2000", "--min-boot-acceptance", "1", "--max-time-to-all-back", "30",
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOCUST_")}
    log = tempfile.NamedTemporaryFile("w+", prefix="vocpp-screenshot-", suffix=".log", delete=False)
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_http(base + "/")
        with Browser(width=1400, height=1000) as browser:
            browser.goto(base + "/?tab=charge-points")
            browser.wait_for(
                "(function () { var tabs = Array.from(document.querySelectorAll('[role=tab]'));"
                " var tab = tabs.find(t => t.textContent.trim() === 'Charge points');"
                " if (tab && tab.getAttribute('aria-selected') !== 'true') tab.click();"
                " return !!document.getElementById('vocpp-charge-points'); })()",
                what="the Charge points tab",
            )
            browser.wait_for(
                f"{FRAME_DOC}.querySelectorAll('#storm-lines pre').length > 0",
                timeout=120,
                what="both reconnect storms to end",
            )
            time.sleep(args.settle)
            browser.wait_for(f"{FRAME_DOC}.querySelectorAll('#cp-table tbody tr').length > 0", what="the table")
            browser.eval("window.scrollTo(0, 0)")
            time.sleep(2.5)  # one more refresh of the page's charts and the frame's height
            path = browser.screenshot(args.out, full_page=True)
        print(f"screenshot: {path} ({path.stat().st_size // 1024} KiB) from a run of {args.users} charge points")
        return 0
    except (BrowserUnavailable, BrowserError, OSError) as exc:
        log.seek(0)
        sys.stderr.write(f"screenshot: {exc}\n{log.read()[-3000:]}\n")
        return 1
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
        os.unlink(log.name)


if __name__ == "__main__":
    sys.exit(main())
