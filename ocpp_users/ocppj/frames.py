"""OCPP-J framing: CALL ``[2, id, action, payload]``, CALLRESULT ``[3, id, payload]``,
CALLERROR ``[4, id, code, description, details]``.

:func:`parse` accepts any text or bytes and either returns a frame or raises :class:`FrameError`
(the only error type it raises), so the receive loop never dies on a peer's garbage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from ocpp_users.ocppj.errors import FrameError

CALL = 2
CALLRESULT = 3
CALLERROR = 4

#: From the specification: "Maximum of 36 characters, to allow for GUIDs".
MAX_ID_LENGTH = 36


@dataclass(slots=True)
class Call:
    message_id: str
    action: str
    payload: dict[str, Any]

    def to_json(self) -> bytes:
        return orjson.dumps([CALL, self.message_id, self.action, self.payload])


@dataclass(slots=True)
class CallResult:
    message_id: str
    payload: dict[str, Any]

    def to_json(self) -> bytes:
        return orjson.dumps([CALLRESULT, self.message_id, self.payload])


@dataclass(slots=True)
class CallError:
    message_id: str
    code: str
    description: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> bytes:
        return orjson.dumps([CALLERROR, self.message_id, self.code, self.description, self.details])


Frame = Call | CallResult | CallError


def _message_id(value: Any) -> str:
    if not isinstance(value, str):
        raise FrameError(f"message id must be a string, got {type(value).__name__}")
    if len(value) > MAX_ID_LENGTH:
        raise FrameError(f"message id longer than {MAX_ID_LENGTH} characters")
    return value


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FrameError(f"{what} must be a JSON object, got {type(value).__name__}")
    return value


def parse(raw: str | bytes) -> Frame:
    """Parse one inbound WebSocket text message into a frame, or raise :class:`FrameError`."""
    try:
        data = orjson.loads(raw)
    except (orjson.JSONDecodeError, TypeError, ValueError):
        raise FrameError("not valid JSON", raw) from None
    try:
        if not isinstance(data, list):
            raise FrameError(f"not a JSON array but {type(data).__name__}")
        if not data:
            raise FrameError("empty array")
        kind = data[0]
        if kind is True or kind is False or not isinstance(kind, int):
            raise FrameError(f"message type must be 2, 3 or 4, got {kind!r}"[:120])
        if kind == CALL:
            if len(data) != 4:
                raise FrameError(f"CALL must have 4 elements, got {len(data)}")
            if not isinstance(data[2], str) or not data[2]:
                raise FrameError("CALL action must be a non-empty string")
            return Call(_message_id(data[1]), data[2], _object(data[3], "CALL payload"))
        if kind == CALLRESULT:
            if len(data) != 3:
                raise FrameError(f"CALLRESULT must have 3 elements, got {len(data)}")
            return CallResult(_message_id(data[1]), _object(data[2], "CALLRESULT payload"))
        if kind == CALLERROR:
            # Some implementations omit details; the specification requires all five elements.
            if len(data) != 5:
                raise FrameError(f"CALLERROR must have 5 elements, got {len(data)}")
            if not isinstance(data[2], str):
                raise FrameError("CALLERROR code must be a string")
            if not isinstance(data[3], str):
                raise FrameError("CALLERROR description must be a string")
            return CallError(_message_id(data[1]), data[2], data[3], _object(data[4], "CALLERROR details"))
        raise FrameError(f"unknown message type {kind}")
    except FrameError as exc:
        exc.raw = raw
        raise


#: The start of a frame that is not valid JSON as a whole: ``[3, "id", {oops``.
_LEADING_ID = re.compile(r'\s*\[\s*[234]\s*,\s*"([^"\\]{1,36})"')


_LEADING_CALL_ID = re.compile(r'\s*\[\s*2\s*,\s*"([^"\\]{1,36})"')


def peek_call_id(raw: str | bytes) -> str | None:
    """The message id of a frame that starts as a CALL (``[2, "id", ...``) but failed to parse."""
    text = raw[:200].decode("utf-8", "replace") if isinstance(raw, bytes) else raw[:200]
    match = _LEADING_CALL_ID.match(text)
    return match.group(1) if match else None


def peek_message_id(raw: str | bytes) -> str | None:
    """Best-effort message id of a frame that failed to parse, so its pending call can be failed."""
    try:
        data = orjson.loads(raw)
    except (orjson.JSONDecodeError, TypeError, ValueError):
        text = raw[:200].decode("utf-8", "replace") if isinstance(raw, bytes) else raw[:200]
        match = _LEADING_ID.match(text) if isinstance(text, str) else None
        return match.group(1) if match else None
    if isinstance(data, list) and len(data) >= 2 and isinstance(data[1], str):
        return data[1]
    return None
