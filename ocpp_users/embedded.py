"""Run the reference CSMS (``python -m testbed``) as a child process.

Standard library only and no gevent import: works in plain threads and under gevent
monkey-patching alike (subprocess, threading and urllib are then cooperative).

    with TestbedProcess(["-q"]) as csms:
        status, body = csms.api("GET", "/cps")
        ... connect charge points to csms.ws_url + "CP001" ...
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

REPO_ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0
_WS_PREFIX = "testbed: OCPP 1.6J CSMS listening on "
_API_PREFIX = "testbed: control API on "


class TestbedStartError(RuntimeError):
    """The testbed did not print its start-up lines in time (message includes its output)."""

    __test__ = False  # not a pytest test class


def _strip_port_args(args: Sequence[str]) -> list[str]:
    """``args`` without ``--port``/``--api-port`` options (both ``--opt V`` and ``--opt=V``)."""
    out: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in ("--port", "--api-port"):
            skip = True
        elif not arg.startswith(("--port=", "--api-port=")):
            out.append(arg)
    return out


class TestbedProcess:
    """A ``python -m testbed`` child process with a tiny JSON client for its control API."""

    __test__ = False  # not a pytest test class

    def __init__(
        self, args: Sequence[str] = (), *, startup_timeout: float = STARTUP_TIMEOUT, env: dict[str, str] | None = None
    ) -> None:
        self.args = list(args)
        self.startup_timeout = startup_timeout
        self.env = env
        self.process: subprocess.Popen[str] | None = None
        self.ws_url = ""
        self.api_url = ""
        self.port = 0
        self.api_port = 0
        self._lines: deque[str] = deque(maxlen=2000)
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._started = False
        self._reader: threading.Thread | None = None

    # --- lifecycle --------------------------------------------------------------

    def start(self) -> TestbedProcess:
        """Start the child and wait for both start-up lines; raises TestbedStartError."""
        self._launch(self.args)
        return self

    def restart(self) -> TestbedProcess:
        """Stop (if running) and start again on the same OCPP and API ports."""
        if not self.port or not self.api_port:
            raise RuntimeError("restart() needs a previous successful start()")
        self.stop()
        args = [*_strip_port_args(self.args), "--port", str(self.port), "--api-port", str(self.api_port)]
        self._launch(args)
        return self

    def stop(self) -> int | None:
        """SIGTERM, wait up to 5 s, then kill.  Returns the exit status (None if never started)."""
        proc = self.process
        if proc is None:
            return None
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._reader is not None:
            self._reader.join(2.0)
        return proc.returncode

    def __enter__(self) -> TestbedProcess:
        if self.process is None or self.process.poll() is not None:
            self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def output(self) -> list[str]:
        """The last ~2000 lines the process printed (stdout and stderr merged)."""
        with self._lock:
            return list(self._lines)

    # --- control API ------------------------------------------------------------

    def api(self, method: str, path: str, body: Any = None, timeout: float = 35.0) -> tuple[int, Any]:
        """One control API request.  ``body`` is JSON-encoded unless it is bytes/str (sent as is).

        Returns (HTTP status, decoded JSON body — or the raw text if it is not JSON).
        """
        data: bytes | None
        if body is None:
            data = None
        elif isinstance(body, bytes):
            data = body
        elif isinstance(body, str):
            data = body.encode("utf-8")
        else:
            data = json.dumps(body).encode("utf-8")
        request = urllib.request.Request(self.api_url + path, data=data, method=method.upper())
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        text = raw.decode("utf-8", "replace")
        try:
            return status, json.loads(text) if text else None
        except ValueError:
            return status, text

    # --- internals --------------------------------------------------------------

    def _launch(self, args: list[str]) -> None:
        if self.running:
            raise RuntimeError("testbed is already running")
        env = dict(os.environ if self.env is None else self.env)
        env["PYTHONUNBUFFERED"] = "1"
        self._ready = threading.Event()
        self._started = False
        shown = ["***" if i and args[i - 1] == "--basic-auth-password" else a for i, a in enumerate(args)]
        self._lines.append(f"$ {sys.executable} -m testbed {' '.join(shown)}")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "testbed", *args],
            cwd=str(REPO_ROOT),
            env=env,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl+C in the terminal reaches Locust only; we stop the testbed ourselves
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
            bufsize=1,
        )
        assert self.process.stdout is not None
        self._reader = threading.Thread(
            target=self._drain, args=(self.process.stdout,), name="testbed-output", daemon=True
        )
        self._reader.start()
        if not self._ready.wait(self.startup_timeout) or not self._started:
            self.stop()
            output = "\n".join(self.output[-60:])
            raise TestbedStartError(f"testbed did not start within {self.startup_timeout:g} s; output:\n{output}")

    def _drain(self, stream: IO[str]) -> None:
        ws_url = api_url = ""
        for line in stream:
            line = line.rstrip("\r\n")
            with self._lock:
                self._lines.append(line)
            if line.startswith(_WS_PREFIX):
                ws_url = line[len(_WS_PREFIX) :].strip()
            elif line.startswith(_API_PREFIX):
                api_url = line[len(_API_PREFIX) :].strip()
            if ws_url and api_url and not self._ready.is_set():
                self.ws_url, self.api_url = ws_url, api_url
                self.port = int(ws_url.rstrip("/").rsplit(":", 1)[1])
                self.api_port = int(api_url.rsplit(":", 1)[1])
                self._started = True
                self._ready.set()
        stream.close()
        self._ready.set()  # EOF: wake start() so it can report the failure
