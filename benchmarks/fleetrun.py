"""The fleet as users run it, watched from outside: ``locust -f locustfiles/fleet.py --headless ...``.

:class:`FleetProcess` starts Locust on the fleet's locustfile in its own process (a local runner:
one process, the Locust User class ``ChargePointUser`` spawned by Locust's own spawner), reads its
console output and samples it with psutil. Nothing is injected into the process: what it reports
(the periodic ``charge points: ...`` line of ``ocpp_users/fleet_ui.py``, the ``--json-summary``
file) and what the OS says about it (RSS, CPU seconds, open files) are the figures.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import IO, Any

import orjson

from benchmarks.child import ROOT

LOCUSTFILE = "locustfiles/fleet.py"
NO_SESSIONS_IDLE = "86400"
"""``--idle-duration`` that keeps every connector idle for a day: the fleet has no switch that turns
sessions off, so an idle run pushes the first session out of the run (each connector's session
plan still exists: one event-loop timer, no greenlet)."""

_COUNTS = re.compile(r"charge points: (\d+) \(([^)]*)\)")
_PAIR = re.compile(r"([a-z_ ]+?) (\d+)")
_ON_TIME = re.compile(r"(\w+) (\d+(?:\.\d+)?)% of (\d+)")
_LAG = re.compile(r"loop lag p99 (\d+(?:\.\d+)?) ms")
_CPU = re.compile(r"; CPU (\d+(?:\.\d+)?)%")


@dataclass
class FleetLine:
    """One ``charge points: ...`` line of the fleet's console output (``FleetMonitor.summary``)."""

    at: float
    """``time.monotonic()`` when the line was read."""
    total: int
    states: dict[str, int]
    on_time: dict[str, tuple[float, int]] = field(default_factory=dict)
    """Periodic message kind -> (on-time ratio since the start, messages due)."""
    loop_lag_p99_ms: float | None = None
    """Over the fleet tracker's last 30 s, rounded to whole milliseconds by the fleet."""
    cpu_percent: float | None = None
    falling_behind: bool = False
    text: str = ""

    def state(self, name: str) -> int:
        return self.states.get(name, 0)


def parse_fleet_line(text: str, at: float = 0.0) -> FleetLine | None:
    """The fleet's counts and fidelity from one console line, or None if it is not such a line.

    >>> line = parse_fleet_line("charge points: 3 (connecting 0, booted 3) | on time: Heartbeat 99.5% of 200; "
    ...                         "loop lag p99 4 ms; CPU 2%")
    >>> line.total, line.state("booted"), line.on_time["Heartbeat"], line.loop_lag_p99_ms, line.cpu_percent
    (3, 3, (0.995, 200), 4.0, 2.0)
    """
    match = _COUNTS.search(text)
    if match is None:
        return None
    states = {name.strip(): int(value) for name, value in _PAIR.findall(match.group(2))}
    line = FleetLine(at=at, total=int(match.group(1)), states=states, text=text.strip())
    rest = text[match.end() :]
    _, sep, fidelity = rest.partition("on time:")
    if sep:
        kinds, _, _ = fidelity.partition("; loop lag")
        for kind, percent, due in _ON_TIME.findall(kinds):
            line.on_time[kind] = (float(percent) / 100.0, int(due))
    lag = _LAG.search(rest)
    if lag is not None:
        line.loop_lag_p99_ms = float(lag.group(1))
    cpu = _CPU.search(rest)
    if cpu is not None:
        line.cpu_percent = float(cpu.group(1))
    line.falling_behind = "FALLING BEHIND" in rest
    return line


def fleet_command(
    host: str,
    users: int,
    spawn_rate: float,
    *,
    run_time_s: int,
    heartbeat_interval: int,
    sessions: bool,
    json_summary: str,
    extra: list[str] | None = None,
) -> list[str]:
    """The Locust command line, as a user would type it (``locust`` = ``python -m locust``)."""
    args = ["locust", "-f", LOCUSTFILE, "--headless", "--host", host]
    args += ["-u", str(users), "-r", f"{spawn_rate:g}", "-t", f"{run_time_s}s"]
    args += ["--heartbeat-interval", str(heartbeat_interval)]
    if not sessions:
        args += ["--idle-duration", NO_SESSIONS_IDLE]
    args += ["--json-summary", json_summary]
    return args + list(extra or [])


def summary_fidelity(summary: dict[str, Any] | None) -> dict[str, Any] | None:
    """The ``fidelity`` object of a ``--json-summary`` file, when the fleet writes one."""
    if not isinstance(summary, dict):
        return None
    fidelity = summary.get("fidelity")
    return fidelity if isinstance(fidelity, dict) else None


@dataclass
class ProcSample:
    t: float
    cpu_s: float
    rss_kib: int
    fds: int


class FleetProcess:
    """One ``locust -f locustfiles/fleet.py --headless`` process (a local runner)."""

    def __init__(self, args: list[str], label: str, json_summary: str) -> None:
        self.args = args
        self.label = label
        self.json_summary = json_summary
        self.lines: list[FleetLine] = []
        self.output: deque[str] = deque(maxlen=400)
        self.warnings: deque[str] = deque(maxlen=50)
        self._lock = threading.Lock()
        self.proc: subprocess.Popen[str] | None = None
        self._ps: Any = None
        self.started_at = 0.0

    @property
    def command(self) -> str:
        return " ".join(self.args)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> None:
        import psutil

        env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONPATH=str(ROOT))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", *self.args],
            cwd=str(ROOT),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.started_at = time.monotonic()
        self._ps = psutil.Process(self.proc.pid)
        assert self.proc.stdout is not None and self.proc.stderr is not None
        for stream in (self.proc.stdout, self.proc.stderr):
            threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for raw in stream:
            text = raw.rstrip()
            now = time.monotonic()
            line = parse_fleet_line(text, now)
            with self._lock:
                self.output.append(text)
                if line is not None:
                    self.lines.append(line)
                elif "WARNING" in text or "ERROR" in text:
                    self.warnings.append(text[-300:])

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def last_line(self) -> FleetLine | None:
        with self._lock:
            return self.lines[-1] if self.lines else None

    def wait_line(self, after: float, timeout: float) -> FleetLine | None:
        """The first fleet line read after ``after`` (monotonic), waiting up to ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                found = next((line for line in self.lines if line.at >= after), None)
            if found is not None or time.monotonic() >= deadline or not self.alive():
                return found
            time.sleep(0.2)

    def sample(self) -> ProcSample:
        ps = self._ps
        try:
            times = ps.cpu_times()
            return ProcSample(time.monotonic(), times.user + times.system, ps.memory_info().rss // 1024, ps.num_fds())
        except Exception:  # gone
            return ProcSample(time.monotonic(), 0.0, 0, -1)

    def tail(self, n: int = 15) -> list[str]:
        with self._lock:
            return list(self.output)[-n:]

    def stop(self, timeout: float) -> dict[str, Any]:
        """SIGTERM (Locust stops its users, writes the summary, exits), SIGKILL after ``timeout``."""
        if self.proc is None:
            return {"exit_code": None}
        started = time.monotonic()
        killed = False
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                killed = True
                self.proc.kill()
                self.proc.wait(30)
        return {
            "exit_code": self.proc.returncode,
            "stop_s": round(time.monotonic() - started, 1),
            "killed_after_timeout": killed,
        }

    def summary(self) -> dict[str, Any] | None:
        try:
            with open(self.json_summary, "rb") as fh:
                data: dict[str, Any] = orjson.loads(fh.read())
                return data
        except (OSError, orjson.JSONDecodeError):
            return None
