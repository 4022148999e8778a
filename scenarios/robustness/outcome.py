"""What the CSMS did after a hostile input: its answers, a close, a refusal, or silence.

:func:`observe` reads one connection until the answer to the awaited message ids arrives, the
connection closes, or silence is established: after ``quick`` seconds without an answer it sends a
Heartbeat (the sentinel); once that is answered and as long again as it took (at least ``grace``
seconds) passes without an answer to the input, the CSMS has passed over the input (it answers in
order, as OCPP-J connections do, or about as fast as the sentinel). Without an answered sentinel,
silence is the full ``timeout``. Cases use the sentinel only for invalid input (whose answer may be
a permitted drop); a valid call that must be answered gets the whole ``timeout``.

Every text frame back is checked: one that is not valid JSON or not an OCPP-J frame is
``garbage``; a CALLRESULT or CALLERROR with a message id never sent on the connection (other than
a CALLERROR with ``"-1"``, OCPP 2.0.1 part 4 §4.2.3) is a ``stray``; a CALL from the CSMS is
answered NotSupported (the hostile charge point is no charger) and listed.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from scenarios.robustness.connection import HostileConnection, Received, SendFailed

MINUS_ONE = "-1"
CALL, CALLRESULT, CALLERROR = 2, 3, 4


@dataclass
class Answer:
    """A CALLRESULT or CALLERROR for one of the awaited ids (or a CALLERROR with ``"-1"``)."""

    kind: Literal["result", "error"]
    message_id: str
    payload: Any = None
    code: str = ""
    description: str = ""
    after: float = 0.0
    """Seconds after the input was sent."""

    def describe(self) -> str:
        ident = f' (message id "{self.message_id}")' if self.message_id == MINUS_ONE else ""
        if self.kind == "result":
            return f"CALLRESULT {_compact(self.payload)}{ident}"
        text = f' "{self.description[:120]}"' if self.description else ""
        return f"CALLERROR {self.code}{text}{ident}"


def _compact(value: Any, limit: int = 200) -> str:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + "..."


@dataclass
class Outcome:
    """Everything the CSMS did in answer to one input."""

    answers: list[Answer] = field(default_factory=list)
    stray: list[str] = field(default_factory=list)
    """Answers with a message id never sent on the connection."""
    garbage: list[str] = field(default_factory=list)
    """Text frames that are not valid JSON, or not an OCPP-J frame."""
    csms_calls: list[str] = field(default_factory=list)
    closed: Received | None = None
    send_error: str | None = None
    refused: str | None = None
    """The handshake was refused (the reason, e.g. ``HTTP 401``)."""
    http_status: int | None = None
    handshake: str | None = None
    """A completed handshake, described (session cases)."""
    waited: float = 0.0
    silence: str = ""
    """How silence was established, when nothing answered."""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def first(self) -> Answer | None:
        return self.answers[0] if self.answers else None

    @property
    def kind(self) -> str:
        """``result``, ``error``, ``refused``, ``closed`` or ``silence``: the first thing that happened."""
        if self.refused is not None:
            return "refused"
        if self.answers:
            return self.answers[0].kind
        if self.closed is not None or self.send_error is not None:
            return "closed"
        return "silence"

    def describe(self) -> str:
        parts: list[str] = []
        if self.refused is not None:
            parts.append(f"handshake refused: {self.refused}")
        if self.handshake:
            parts.append(self.handshake)
        parts.extend(a.describe() for a in self.answers)
        if self.send_error is not None:
            parts.append(f"the connection failed while we were sending ({self.send_error})")
        if self.closed is not None:
            parts.append(self.closed.describe())
        if not parts and not (self.garbage or self.stray):
            parts.append(self.silence or f"no answer within {self.waited:.1f} s")
        if self.garbage:
            parts.append(f"{len(self.garbage)} frame(s) not OCPP-J: {self.garbage[0][:200]}")
        if self.stray:
            parts.append(f"{len(self.stray)} answer(s) with a message id never sent: {self.stray[0][:200]}")
        return "; ".join(parts)


@dataclass
class Waits:
    """How long :func:`observe` waits (from the run's options)."""

    timeout: float = 5.0
    quick: float = 0.25
    grace: float = 0.1


class SentinelIds:
    """Message ids for the sentinel Heartbeats (never confused with a case's own ids)."""

    def __init__(self) -> None:
        self.count = 0

    def next(self) -> str:
        self.count += 1
        return f"rb-sentinel-{self.count}"


def read_frame(raw: bytes) -> list[Any] | str:
    """An OCPP-J frame as a list (OCPP-J 1.6 §4.2: CALL of 4 elements, CALLRESULT of 3 with an object
    or null payload, CALLERROR of 5), or why it is not one."""
    try:
        frame = json.loads(raw)
    except (ValueError, RecursionError):
        return "invalid JSON"
    if not isinstance(frame, list) or not frame or type(frame[0]) is not int:
        return "not an OCPP-J frame (an array starting with a message type number)"
    kind = frame[0]
    if kind not in (CALL, CALLRESULT, CALLERROR):
        return f"unknown message type {kind}"
    if len(frame) < 2 or not isinstance(frame[1], str):
        return "message id missing or not a string"
    if kind == CALL and (len(frame) != 4 or not isinstance(frame[2], str) or not isinstance(frame[3], dict)):
        return "a CALL must be [2, id, action, {payload}]"
    if kind == CALLRESULT and (len(frame) != 3 or not (frame[2] is None or isinstance(frame[2], dict))):
        return "a CALLRESULT must be [3, id, {payload}]"
    if kind == CALLERROR and (
        len(frame) != 5
        or not isinstance(frame[2], str)
        or not isinstance(frame[3], str)
        or not isinstance(frame[4], dict)
    ):
        return "a CALLERROR must be [4, id, errorCode, errorDescription, {errorDetails}]"
    return frame


def classify(
    conn: HostileConnection,
    received: Received,
    outcome: Outcome,
    awaited: set[str],
    started: float,
    sentinel_id: str | None = None,
) -> str:
    """File one received message into the outcome; returns ``answer``, ``sentinel`` (the answer to
    ``sentinel_id``; a late answer to an earlier sentinel is ``other``), ``call`` or ``other``."""
    if received.kind == "binary":
        outcome.garbage.append(f"a binary frame of {len(received.data)} bytes")
        return "other"
    frame = read_frame(received.data)
    if isinstance(frame, str):
        outcome.garbage.append(f"{frame}: {received.text[:200]}")
        return "other"
    kind, ident = frame[0], frame[1]
    if kind == CALL:
        outcome.csms_calls.append(f"{frame[2]} {_compact(frame[3], 100)}")
        reply = [4, ident, "NotSupported", "robustness tester: not a charger", {}]
        try:
            conn.send_text(json.dumps(reply, separators=(",", ":")))
        except SendFailed:
            pass
        return "call"
    after = time.monotonic() - started
    if ident in awaited or (kind == CALLERROR and ident == MINUS_ONE):
        if kind == CALLRESULT:
            outcome.answers.append(Answer("result", ident, frame[2], after=after))
        else:
            outcome.answers.append(Answer("error", ident, frame[4], frame[2], frame[3], after=after))
        return "answer"
    if sentinel_id is not None and ident == sentinel_id:
        return "sentinel"
    if ident not in conn.sent_ids:
        outcome.stray.append(received.text)
    return "other"


def observe(
    conn: HostileConnection,
    awaited: set[str],
    waits: Waits,
    sentinels: SentinelIds,
    *,
    want: int = 1,
    linger: float = 0.0,
    sentinel: bool = True,
    outcome: Outcome | None = None,
) -> Outcome:
    """Read ``conn`` until ``want`` answers to ``awaited`` arrived (then ``linger`` seconds more for
    anything else), the connection closed, or silence was established (see the module docstring)."""
    outcome = outcome if outcome is not None else Outcome()
    if conn.send_error is not None:
        outcome.send_error = conn.send_error
    started = time.monotonic()
    deadline = started + waits.timeout
    quick_at = started + waits.quick
    sentinel_id: str | None = None
    sentinel_sent: float | None = None
    silent_at: float | None = None
    settle_at: float | None = None
    while True:
        now = time.monotonic()
        if len(outcome.answers) >= want and settle_at is None:
            settle_at = now + linger
        elif (outcome.garbage or outcome.stray) and settle_at is None:
            settle_at = now + waits.grace  # (a garbled answer is likely the answer: a grace for a real one)
        if settle_at is not None and now >= settle_at:
            break
        if silent_at is not None and now >= silent_at:
            outcome.silence = (
                f"no answer: a Heartbeat sent {waits.quick:g} s later was answered, and as long again "
                f"(at least {waits.grace:g} s) passed without one"
            )
            break
        if now >= deadline:
            outcome.silence = f"no answer within {waits.timeout:g} s"
            break
        if sentinel and sentinel_id is None and now >= quick_at and conn.usable and len(outcome.answers) < want:
            sentinel_id = sentinels.next()
            sentinel_sent = time.monotonic()
            conn.send_call_id(sentinel_id)
            try:
                conn.send_text(f'[2,"{sentinel_id}","Heartbeat",{{}}]')
            except SendFailed:
                pass
        wake = min(deadline, settle_at or deadline, silent_at or deadline)
        if sentinel and sentinel_id is None and len(outcome.answers) < want:
            wake = min(wake, quick_at)
        received = conn.receive(max(0.0, wake - time.monotonic()))
        if received is None:
            if conn.closed is not None:
                break
            continue
        if received.kind in ("close", "eof", "oversized"):
            outcome.closed = received
            break
        if classify(conn, received, outcome, awaited, started, sentinel_id) == "sentinel" and silent_at is None:
            # A CSMS that answers out of order answers the input about as fast as the sentinel: wait
            # as long again as the sentinel took, and at least --silence-grace.
            now = time.monotonic()
            silent_at = now + max(waits.grace, now - (sentinel_sent or now))
    if conn.send_error is not None and outcome.send_error is None:
        outcome.send_error = conn.send_error
    outcome.waited = time.monotonic() - started
    return outcome
