"""One-line logging (no tracebacks, ever) and redaction of secrets in logged frames."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
from typing import Any

MAX_LOGGED_FRAME = 2000
_SECRET_KEYS = {"authorizationkey"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class OneLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            message = f"{message} ({type(exc).__name__}: {exc})"
        message = message.replace("\r", "\\r").replace("\n", "\\n")
        stamp = self.formatTime(record, "%H:%M:%S")
        return f"{stamp} testbed {record.levelname.lower()}: {message}"


def setup(quiet: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLineFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING if quiet else logging.INFO)
    for noisy in ("websockets", "ocpp", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def loop_exception_handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    exc = context.get("exception")
    detail = f" ({type(exc).__name__}: {exc})" if exc is not None else ""
    logging.getLogger("testbed").warning("%s%s", context.get("message", "event loop error"), detail)


def _redact(value: Any) -> Any:
    if isinstance(value, dict):
        out = {k: _redact(v) for k, v in value.items()}
        key = out.get("key")
        if isinstance(key, str) and key.casefold() in _SECRET_KEYS and "value" in out:
            out["value"] = "***"
        return out
    if isinstance(value, list):
        return [_redact(v) for v in value]
    return value


def loggable_frame(raw: str) -> str:
    """The frame as it may appear in a log line: secrets masked, length capped."""
    if "uthorizationKey" in raw or "uthorizationkey" in raw:
        try:
            raw = json.dumps(_redact(json.loads(raw)), separators=(",", ":"), ensure_ascii=False)
        except ValueError:
            raw = "<frame mentioning AuthorizationKey, not logged>"
    raw = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", raw)
    if len(raw) > MAX_LOGGED_FRAME:
        raw = raw[:MAX_LOGGED_FRAME] + f"...(+{len(raw) - MAX_LOGGED_FRAME} chars)"
    return raw
