"""Failures in the fleet's log: each kind once, with what the CSMS said, then rate-limited counts.

A kind is (request type, name, reason): the failure's stats row. Its first occurrence is logged
with the error's ``detail`` (the CSMS's CALLERROR description, close reason or handshake answer,
escaped and bounded by :func:`~ocpp_users.ocppj.text.sanitize`); later ones are counted and logged
again at most once a minute with their number, so a CSMS that fails 16,000 calls writes a line a
minute, not 16,000. The number of kinds is bounded as well (the reasons carry no CSMS text).

On a worker (``forwarding``) the lines are logged at DEBUG only and kept, with their kind, for the
master (:meth:`FailureLog.take_forwarded`), which logs each kind once for the whole fleet.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any

from ocpp_users.ocppj.logs import RateLimitedLog
from ocpp_users.ocppj.redact import redact_url
from ocpp_users.ocppj.sink import WEBSOCKET

WINDOW = 60.0
"""Seconds between two lines of the same kind."""
MAX_KINDS = 200
"""Distinct kinds remembered; beyond that, new ones share one counter."""
MAX_FORWARDED = 50
"""Lines a worker keeps for its next report to the master (the oldest go first)."""


class _Capture:
    """A logger for :class:`RateLimitedLog` that keeps the line for the master and logs it at DEBUG."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger
        self.last: tuple[int, str] | None = None

    def log(self, level: int, message: str, *args: object) -> None:
        text = message % args if args else message
        self.last = (level, text)
        self.logger.debug("%s", text)


class FailureLog:
    """Logs failures of the request event, one line per kind per :data:`WINDOW`."""

    def __init__(self, logger: logging.Logger, window: float = WINDOW) -> None:
        self.limited = RateLimitedLog(logger, window, max_kinds=MAX_KINDS)
        self.forwarded = RateLimitedLog(_Capture(logger), window, max_kinds=MAX_KINDS)  # type: ignore[arg-type]
        self.target = ""
        """The CSMS base URL (its password redacted when logged)."""
        self.forwarding = False
        """A worker: keep the lines for the master instead of logging them."""
        self._pending: deque[list[Any]] = deque(maxlen=MAX_FORWARDED)

    def take_forwarded(self) -> list[list[Any]]:
        """The lines kept for the master since the last call: [kind, level, text] each."""
        lines = list(self._pending)
        self._pending.clear()
        return lines

    def report(self, request_type: str, name: str, exception: BaseException) -> bool:
        """Log this failure unless its kind was logged less than a window ago; True when logged."""
        if not self.forwarding:
            return self._report(self.limited, request_type, name, exception)
        capture: _Capture = self.forwarded.logger  # type: ignore[assignment]
        capture.last = None
        logged = self._report(self.forwarded, request_type, name, exception)
        if logged and capture.last is not None:
            level, text = capture.last
            self._pending.append([f"{request_type}|{name}|{exception}", level, text])
        return logged

    def _report(self, limited: RateLimitedLog, request_type: str, name: str, exception: BaseException) -> bool:
        reason = str(exception)
        detail = getattr(exception, "detail", "") or ""
        said = f" [the CSMS said: {detail}]" if detail else ""
        kind = (request_type, name, reason)
        if request_type == WEBSOCKET and name in ("connect", "reconnect"):
            where = f" to {redact_url(self.target)}" if self.target else ""
            return limited.warning(
                kind,
                "cannot %s%s: %s%s (the charge points retry with backoff, every failure is counted)",
                name,
                where,
                reason,
                said,
            )
        if request_type == WEBSOCKET:
            return limited.warning(kind, "charge points disconnected: %s%s (they reconnect)", reason, said)
        return limited.warning(kind, "failure of %s %s: %s%s", request_type, name, reason, said)

    def reset(self) -> None:
        """A new test: every kind is logged again on its first occurrence."""
        self.limited.reset()
        self.forwarded.reset()
        self._pending.clear()

    def flush(self) -> None:
        """The counts not logged yet, one line per kind (at the end of a run)."""
        self.limited.flush()
