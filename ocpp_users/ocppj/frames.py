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

UNREADABLE_ID = "-1"
"""The message id of a CALLERROR answering a CALL whose id cannot be read. OCPP-J 1.6 has no rule
for it; OCPP 2.0.1 part 4 §4.2.3 has: "When also the MessageId cannot be read, the CALLERROR SHALL
contain "-1" as MessageId"."""


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
        raise FrameError(f"message id longer than {MAX_ID_LENGTH} characters").with_detail(
            f"{len(value)} characters: {value}"
        )
    return value


def _count(data: list[Any]) -> str:
    """An element count for a reason, bounded: a CSMS must not choose the text of a stats row."""
    return str(len(data)) if len(data) <= 9 else "more than 9"


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
            raise FrameError(f"message type must be 2, 3 or 4, got {type(kind).__name__}")
        if kind == CALL:
            if len(data) != 4:
                raise FrameError(f"CALL must have 4 elements, got {_count(data)}")
            if not isinstance(data[2], str) or not data[2]:
                raise FrameError("CALL action must be a non-empty string")
            return Call(_message_id(data[1]), data[2], _object(data[3], "CALL payload"))
        if kind == CALLRESULT:
            if len(data) != 3:
                raise FrameError(f"CALLRESULT must have 3 elements, got {_count(data)}")
            return CallResult(_message_id(data[1]), _object(data[2], "CALLRESULT payload"))
        if kind == CALLERROR:
            # Some implementations omit details; the specification requires all five elements.
            if len(data) != 5:
                raise FrameError(f"CALLERROR must have 5 elements, got {_count(data)}")
            if not isinstance(data[2], str):
                raise FrameError("CALLERROR code must be a string")
            if not isinstance(data[3], str):
                raise FrameError("CALLERROR description must be a string")
            return CallError(_message_id(data[1]), data[2], data[3], _object(data[4], "CALLERROR details"))
        raise FrameError("unknown message type (not 2, 3 or 4)").with_detail(f"message type {kind}")
    except FrameError as exc:
        exc.raw = raw
        raise


#: The start of a frame that is not valid JSON as a whole: ``[3, "id", {oops``.
_LEADING_ID = re.compile(r'\s*\[\s*[234]\s*,\s*"([^"\\]{1,36})"')


#: A frame that starts as a CALL: ``[2, "id"`` (the id may be longer than allowed: it is still read).
_LEADING_CALL = re.compile(r"\s*\[\s*2\s*(?:,|\])")
_LEADING_CALL_ID = re.compile(r'\s*\[\s*2\s*,\s*("(?:[^"\\]|\\.)*")')
_PEEK_LIMIT = 4096
"""Characters of a broken frame searched for a CALL's id."""


def peek_call_id(raw: str | bytes) -> str | None:
    """The message id to answer a CALL with that failed to parse, or None when the frame is not
    recognisably a CALL (message type 2).

    The id as sent when it can be read (also when it is longer than 36 characters: OCPP-J 1.6
    §4.2.3 says the CALLERROR's id "must be the exact same id that is in the call request so that
    the recipient can match request and result"); :data:`UNREADABLE_ID` when it cannot (OCPP 2.0.1
    part 4 §4.2.3).
    """
    try:
        data = orjson.loads(raw)
    except (orjson.JSONDecodeError, TypeError, ValueError):
        data = None
    else:
        if not isinstance(data, list) or not data or type(data[0]) is not int or data[0] != CALL:
            return None
        return data[1] if len(data) > 1 and isinstance(data[1], str) else UNREADABLE_ID
    text = raw[:_PEEK_LIMIT].decode("utf-8", "replace") if isinstance(raw, bytes) else raw[:_PEEK_LIMIT]
    if not _LEADING_CALL.match(text):
        return None
    match = _LEADING_CALL_ID.match(text)
    if match is None:
        return UNREADABLE_ID
    try:
        value = orjson.loads(match.group(1))
    except orjson.JSONDecodeError:
        return UNREADABLE_ID
    return value if isinstance(value, str) else UNREADABLE_ID


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
