"""The wire tap: every frame both ways, timestamped, and the CSMS's calls as the cases wait for them.

The engine calls :meth:`WireTap.__call__` (its ``wire_log`` hook) for every frame. The tap appends
it to the current log (the running case's, or the set-up/clean-up log) and tracks each CALL
from the CSMS until our answer to it is on the wire, so a case can wait for "the CSMS sends a
Reset.req" even when the request is schema-invalid (the engine then answers a CALLERROR and
never reaches a handler).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gevent.event

from ocpp_users.ocppj.errors import FrameError
from ocpp_users.ocppj.frames import Call, CallError, CallResult, parse
from scenarios.results import WireEntry


@dataclass
class InboundCall:
    """A CALL the CSMS sent, and what we answered."""

    at: float
    message_id: str
    action: str
    payload: dict[str, Any]
    answer: dict[str, Any] | None = None
    """Our CALLRESULT payload; None while unanswered or when we answered a CALLERROR."""
    error: str | None = None
    """Our CALLERROR (code: description) when we refused the call."""
    answered: gevent.event.Event = field(default_factory=gevent.event.Event)
    consumed: bool = False


def _text(raw: str | bytes) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw


class WireTap:
    """``wire_log`` hook of the run's charge point."""

    def __init__(self) -> None:
        self.log: list[WireEntry] = []
        """Where frames go now; the runner swaps it per case."""
        self.calls: list[InboundCall] = []
        self._by_id: dict[str, InboundCall] = {}
        self._arrived = gevent.event.Event()

    def __call__(self, direction: str, raw: str | bytes) -> None:
        text = _text(raw)
        self.log.append(WireEntry(time.time(), direction, text))
        try:
            frame = parse(raw)
        except FrameError:
            return
        if direction == "in" and isinstance(frame, Call):
            call = InboundCall(time.time(), frame.message_id, frame.action, frame.payload)
            self.calls.append(call)
            self._by_id[frame.message_id] = call
            self._arrived.set()
        elif direction == "out" and isinstance(frame, (CallResult, CallError)):
            answered = self._by_id.pop(frame.message_id, None)
            if answered is None:
                return
            call = answered
            if isinstance(frame, CallResult):
                call.answer = frame.payload
            else:
                call.error = f"{frame.code}: {frame.description}" if frame.description else frame.code
            call.answered.set()
            self._arrived.set()

    def switch(self, log: list[WireEntry]) -> None:
        self.log = log

    def forget_calls(self) -> None:
        """Mark every call seen so far as consumed (a case only waits for calls made during it)."""
        for call in self.calls:
            call.consumed = True
        self.calls = []

    def pending(self, action: str, since: float = 0.0) -> InboundCall | None:
        for call in self.calls:
            if not call.consumed and call.action == action and call.at >= since:
                return call
        return None

    def wait_for(
        self,
        action: str,
        timeout: float,
        since: float = 0.0,
        answer_grace: float = 2.0,
        give_up: Callable[[], bool] | None = None,
    ) -> InboundCall | None:
        """The next unconsumed CALL of ``action`` (received at or after ``since``) once we answered
        it; None after ``timeout``, or as soon as ``give_up()`` is true (checked whenever the tap
        is poked: a frame arrived, or a driver finished)."""
        deadline = time.monotonic() + timeout
        while True:
            call = self.pending(action, since)
            if call is not None:
                call.consumed = True
                call.answered.wait(timeout=answer_grace)
                return call
            if give_up is not None and give_up():
                return None
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self._arrived.clear()
            if self.pending(action, since) is None and not (give_up is not None and give_up()):
                self._arrived.wait(timeout=remaining)

    def poke(self) -> None:
        """Wake whoever waits in :meth:`wait_for` (a driver finished)."""
        self._arrived.set()

    def arrived(self, action: str) -> bool:
        return self.pending(action) is not None

    def wait_any(self, timeout: float) -> bool:
        """Block until some CALL arrives or is answered (for the prompt driver)."""
        self._arrived.clear()
        return self._arrived.wait(timeout=timeout)
