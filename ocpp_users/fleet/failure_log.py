"""Failures in the fleet's log: each kind once, with what the CSMS said, then rate-limited counts.

A kind is (request type, name, reason): the failure's stats row. Its first occurrence is logged
with the error's ``detail`` (the CSMS's CALLERROR description, close reason or handshake answer,
escaped and bounded by :func:`~ocpp_users.ocppj.text.sanitize`); later ones are counted and logged
again at most once a minute with their number, so a CSMS that fails 16,000 calls writes a line a
minute, not 16,000. The number of kinds is bounded as well (the reasons carry no CSMS text).
"""

from __future__ import annotations

import logging

from ocpp_users.ocppj.logs import RateLimitedLog
from ocpp_users.ocppj.redact import redact_url
from ocpp_users.ocppj.sink import WEBSOCKET

WINDOW = 60.0
"""Seconds between two lines of the same kind."""
MAX_KINDS = 200
"""Distinct kinds remembered; beyond that, new ones share one counter."""


class FailureLog:
    """Logs failures of the request event, one line per kind per :data:`WINDOW`."""

    def __init__(self, logger: logging.Logger, window: float = WINDOW) -> None:
        self.limited = RateLimitedLog(logger, window, max_kinds=MAX_KINDS)
        self.target = ""
        """The CSMS base URL (its password redacted when logged)."""

    def report(self, request_type: str, name: str, exception: BaseException) -> bool:
        """Log this failure unless its kind was logged less than a window ago; True when logged."""
        reason = str(exception)
        detail = getattr(exception, "detail", "") or ""
        said = f" [the CSMS said: {detail}]" if detail else ""
        kind = (request_type, name, reason)
        if request_type == WEBSOCKET and name in ("connect", "reconnect"):
            where = f" to {redact_url(self.target)}" if self.target else ""
            return self.limited.warning(
                kind,
                "cannot %s%s: %s%s (the charge points retry with backoff, every failure is counted)",
                name,
                where,
                reason,
                said,
            )
        if request_type == WEBSOCKET:
            return self.limited.warning(kind, "charge points disconnected: %s%s (they reconnect)", reason, said)
        return self.limited.warning(kind, "failure of %s %s: %s%s", request_type, name, reason, said)

    def reset(self) -> None:
        """A new test: every kind is logged again on its first occurrence."""
        self.limited.reset()

    def flush(self) -> None:
        """The counts not logged yet, one line per kind (at the end of a run)."""
        self.limited.flush()
