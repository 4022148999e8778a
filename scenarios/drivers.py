"""Trigger drivers: how the runner makes the CSMS send a request (RemoteStartTransaction, Reset, ...).

* :class:`UrlDriver` POSTs the OCPP payload to an admin API (``--trigger-url``), e.g. the
  testbed's ``http://127.0.0.1:Q/cps/{cp_id}/{action}``;
* :class:`CommandDriver` runs a shell command (``--trigger-cmd``) with the same placeholders and
  ``{payload}`` as JSON, every value shell-quoted;
* :class:`PromptDriver` asks an operator at a terminal and waits for Enter (or for the request).

URL and command drivers run in a background greenlet: the verdict comes from what the charge
point receives over OCPP. A driver that cannot deliver (connection refused, HTTP 4xx/5xx, a
command that exits non-zero or cannot start) marks its :class:`Trigger` ``failed`` and wakes the
waiting case, which ends ERROR at once with the driver's own error (a command's stderr): a broken
driver is the harness's fault, never the CSMS's.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO
from urllib.parse import quote

import gevent
import gevent.select

from scenarios.options import redact_url
from scenarios.wire import WireTap

OUTCOME_LIMIT = 300


def describe(action: str, payload: dict[str, Any]) -> str:
    """``Reset (type Hard)``: the request as an operator reads it."""
    if action == "GetConfiguration" and not payload.get("key"):
        return "GetConfiguration (no key: all configuration keys)"
    parts = []
    for key, value in payload.items():
        shown = (
            ",".join(str(v) for v in value)
            if isinstance(value, list)
            else json.dumps(value)
            if isinstance(value, dict)
            else str(value)
        )
        parts.append(f"{key} {shown}")
    return f"{action} ({', '.join(parts)})" if parts else action


@dataclass
class Trigger:
    """One request to a driver; ``outcome`` is filled in when the driver is done, ``failed`` set
    when it could not deliver."""

    action: str
    payload: dict[str, Any]
    outcome: str | None = None
    failed: bool = False
    greenlet: gevent.Greenlet | None = field(default=None, repr=False)

    def summary(self) -> str:
        return self.outcome if self.outcome is not None else "still running"

    def finish(self, outcome: str, failed: bool, tap: WireTap) -> None:
        self.outcome = outcome
        self.failed = failed
        tap.poke()


class Driver(Protocol):
    name: str

    def request(self, cp_id: str, action: str, payload: dict[str, Any], tap: WireTap) -> Trigger: ...


def _redact_query(url: str) -> str:
    """The URL without credentials and query string (either may carry a token)."""
    return redact_url(url.split("?", 1)[0])


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= OUTCOME_LIMIT else text[:OUTCOME_LIMIT] + "..."


class UrlDriver:
    """POST the payload (JSON) to the template with ``{cp_id}`` and ``{action}`` filled in."""

    name = "trigger-url"

    def __init__(self, template: str, headers: tuple[str, ...] = (), timeout: float = 60.0) -> None:
        self.template = template
        self.headers = headers
        self.timeout = timeout

    def url(self, cp_id: str, action: str) -> str:
        return self.template.replace("{cp_id}", quote(cp_id, safe="")).replace("{action}", quote(action, safe=""))

    def request(self, cp_id: str, action: str, payload: dict[str, Any], tap: WireTap) -> Trigger:
        trigger = Trigger(action, payload)
        trigger.greenlet = gevent.spawn(self._post, trigger, self.url(cp_id, action), payload, tap)
        return trigger

    def _post(self, trigger: Trigger, url: str, payload: dict[str, Any], tap: WireTap) -> None:
        request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST")
        request.add_header("Content-Type", "application/json")
        for header in self.headers:
            name, _, value = header.partition(":")
            request.add_header(name.strip(), value.strip())
        shown = _redact_query(url)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read().decode("utf-8", "replace")
                trigger.finish(_clip(f"HTTP {response.status} {body}"), False, tap)
        except urllib.error.HTTPError as exc:
            body = exc.read().decode("utf-8", "replace")
            trigger.finish(_clip(f"POST {shown}: HTTP {exc.code} {body}"), True, tap)
        except (OSError, ValueError) as exc:
            trigger.finish(_clip(f"POST {shown} failed: {getattr(exc, 'reason', None) or exc}"), True, tap)


class CommandDriver:
    """Run ``/bin/sh -c`` with the template; ``{cp_id}``, ``{action}``, ``{payload}`` shell-quoted."""

    name = "trigger-cmd"

    def __init__(self, template: str, timeout: float = 60.0) -> None:
        self.template = template
        self.timeout = timeout

    def command(self, cp_id: str, action: str, payload: dict[str, Any]) -> str:
        return (
            self.template.replace("{cp_id}", shlex.quote(cp_id))
            .replace("{action}", shlex.quote(action))
            .replace("{payload}", shlex.quote(json.dumps(payload, separators=(",", ":"))))
        )

    def request(self, cp_id: str, action: str, payload: dict[str, Any], tap: WireTap) -> Trigger:
        trigger = Trigger(action, payload)
        trigger.greenlet = gevent.spawn(self._run, trigger, self.command(cp_id, action, payload), tap)
        return trigger

    def _run(self, trigger: Trigger, command: str, tap: WireTap) -> None:
        try:
            done = subprocess.run(
                ["/bin/sh", "-c", command],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=self.timeout,
            )
        except subprocess.TimeoutExpired:
            trigger.finish(f"command still running after {self.timeout:g} s (killed)", True, tap)
            return
        except OSError as exc:
            trigger.finish(_clip(f"command failed to start: {exc}"), True, tap)
            return
        if done.returncode != 0:
            # The command's own words: stderr first (where shells and tools put errors), else stdout.
            said = done.stderr.strip() or done.stdout.strip()
            trigger.finish(_clip(f"command exited {done.returncode}" + (f": {said}" if said else "")), True, tap)
            return
        output = done.stdout.strip().splitlines()
        trigger.finish(_clip("exit 0" + (f": {output[0]}" if output else "")), False, tap)


def _stdin_line(timeout: float) -> str | None:
    """One line from standard input within ``timeout`` seconds (cooperative), else None."""
    fd = 0
    readable, _, _ = gevent.select.select([fd], [], [], max(0.0, timeout))
    if not readable:
        return None
    data = os.read(fd, 4096)
    return data.decode("utf-8", "replace")


class PromptDriver:
    """Ask an operator; wait for Enter or for the request to arrive, at most ``timeout`` seconds."""

    name = "prompt"

    def __init__(
        self,
        timeout: float,
        out: TextIO,
        read_line: Callable[[float], str | None] = _stdin_line,
    ) -> None:
        self.timeout = timeout
        self.out = out
        self.read_line = read_line

    def request(self, cp_id: str, action: str, payload: dict[str, Any], tap: WireTap) -> Trigger:
        trigger = Trigger(action, payload)
        while self.read_line(0.0) is not None:  # drop stale key presses
            pass
        self.out.write(
            f"    >>> Make the CSMS send {describe(action, payload)} to charge point {cp_id}, "
            f"then press Enter (waiting up to {self.timeout:g} s)\n"
        )
        self.out.flush()
        deadline = time.monotonic() + self.timeout
        while True:
            if tap.arrived(action):
                trigger.outcome = f"{action}.req arrived"
                self.out.write(f"    <<< {action}.req received\n")
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                trigger.outcome = f"no Enter within {self.timeout:g} s"
                break
            if self.read_line(min(0.2, remaining)) is not None:
                trigger.outcome = "operator pressed Enter"
                break
        self.out.flush()
        return trigger
