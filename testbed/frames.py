"""OCPP-J frame parsing and encoding (RPC framework of OCPP-J 1.6, section 4)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

CALL = 2
CALLRESULT = 3
CALLERROR = 4

#: OCPP-J 1.6 §4.1.4: a message id is a string of "Maximum of 36 characters, to allow for GUIDs".
MAX_ID_LENGTH = 36


@dataclass(frozen=True)
class CallErrorInfo:
    """The three variable fields of a CALLERROR."""

    code: str
    description: str = ""
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Reply:
    """What the CSMS wants to answer to one CALL: a result payload or an error."""

    payload: Any = None
    error: CallErrorInfo | None = None


@dataclass(frozen=True)
class Frame:
    """A parsed text frame.  ``problem`` is set when it is not a well-formed OCPP-J message."""

    type: int | None = None
    unique_id: str | None = None
    action: str | None = None
    payload: Any = None
    error: CallErrorInfo | None = None
    problem: str | None = None


def dumps(value: Any) -> str:
    """Compact JSON, UTF-8 friendly, as used on the wire."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def parse(raw: str) -> Frame:
    """Parse one text frame; never raises."""
    try:
        msg = json.loads(raw)
    except (ValueError, RecursionError):
        return Frame(problem="not valid JSON")
    if not isinstance(msg, list) or not msg:
        return Frame(problem="not a non-empty JSON array")
    type_id = msg[0] if type(msg[0]) is int else None
    uid = msg[1] if len(msg) > 1 and isinstance(msg[1], str) else None
    if type_id not in (CALL, CALLRESULT, CALLERROR):
        return Frame(unique_id=uid, problem=f"unknown MessageTypeId {msg[0]!r}")
    if uid is None:
        return Frame(type=type_id, problem="UniqueId missing or not a string")
    if type_id == CALL:
        action = msg[2] if len(msg) > 2 and isinstance(msg[2], str) else None
        if len(uid) > MAX_ID_LENGTH:
            # OCPP-J 1.6 §4.2.3 names "unique identifier too long" among the CALLERROR situations.
            too_long = f"UniqueId longer than {MAX_ID_LENGTH} characters"
            return Frame(type=CALL, unique_id=uid, action=action, problem=too_long)
        if len(msg) != 4 or action is None or not isinstance(msg[3], dict):
            return Frame(
                type=CALL,
                unique_id=uid,
                action=action,
                problem="CALL must be [2, UniqueId, Action, {payload object}]",
            )
        return Frame(type=CALL, unique_id=uid, action=action, payload=msg[3])
    if type_id == CALLRESULT:
        if len(msg) != 3:
            return Frame(
                type=CALLRESULT,
                unique_id=uid,
                payload=msg[2] if len(msg) > 2 else None,
                problem="CALLRESULT must have 3 elements",
            )
        return Frame(type=CALLRESULT, unique_id=uid, payload=msg[2])
    code = msg[2] if len(msg) > 2 and isinstance(msg[2], str) else ""
    description = msg[3] if len(msg) > 3 and isinstance(msg[3], str) else ""
    details = msg[4] if len(msg) > 4 and isinstance(msg[4], dict) else {}
    error = CallErrorInfo(code, description, details)
    problem = None if len(msg) == 5 and code else "CALLERROR must be [4, UniqueId, code, description, {details}]"
    return Frame(type=CALLERROR, unique_id=uid, error=error, payload=error_payload(error), problem=problem)


def error_payload(error: CallErrorInfo) -> dict[str, Any]:
    """How a CALLERROR is shown in the message log (``payload`` field)."""
    return {"errorCode": error.code, "errorDescription": error.description, "errorDetails": error.details}


def call_frame(unique_id: str | int, action: str, payload: Any) -> str:
    return dumps([CALL, unique_id, action, payload])


def result_frame(unique_id: str, payload: Any) -> str:
    return dumps([CALLRESULT, unique_id, payload])


def error_frame(unique_id: str, error: CallErrorInfo) -> str:
    return dumps([CALLERROR, unique_id, error.code, error.description, error.details])


def reply_frame(unique_id: str, reply: Reply) -> str:
    if reply.error is not None:
        return error_frame(unique_id, reply.error)
    return result_frame(unique_id, reply.payload)
