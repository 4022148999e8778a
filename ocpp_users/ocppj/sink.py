"""Request-event sinks: where every outcome of the engine goes.

A sink is any callable with Locust's ``events.request.fire`` keyword signature. Under Locust it
is ``environment.events.request.fire``; under the compliance runner and pytest a
:class:`Recorder` keeps the events for inspection.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

#: ``request_type`` values: the protocol and the direction of the exchange.
CP_TO_CSMS = "OCPP CP->CSMS"
"""A call the charge point made; ``response_time`` is the round trip."""
CSMS_TO_CP = "OCPP CSMS->CP"
"""A call the CSMS made that the charge point answered; ``response_time`` is our handling time."""
WEBSOCKET = "WebSocket"
"""Connection events: ``connect`` (the handshake), ``disconnect`` (a drop), ``reconnect``."""
PROTOCOL = "OCPP protocol"
"""Inbound frames that are not valid OCPP-J, and unsolicited results."""
NOT_SENT = "OCPP not sent"
"""Calls never sent because the previous call was still unanswered (``response_time`` 0)."""


def is_round_trip(request_type: str, name: str) -> bool:
    """Whether an event's ``response_time`` is a round trip to the CSMS (a call we made, a WebSocket
    handshake): only these make up the overall (Aggregated) latency. Our handling time of the CSMS's
    calls, protocol errors and other 0 ms events are reported on their own rows only."""
    return request_type == CP_TO_CSMS or (request_type == WEBSOCKET and name in ("connect", "reconnect"))


class RequestSink(Protocol):
    def __call__(
        self,
        *,
        request_type: str,
        name: str,
        response_time: float,
        response_length: int,
        exception: BaseException | None = None,
        context: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any: ...


def null_sink(**kwargs: Any) -> None:
    """A sink that drops everything."""


def report(
    sink: RequestSink,
    request_type: str,
    name: str,
    response_time: float = 0.0,
    length: int = 0,
    exception: BaseException | None = None,
) -> None:
    """Fire one request event: the single way the engine (and the fleet) reports an outcome."""
    sink(
        request_type=request_type,
        name=name,
        response_time=response_time,
        response_length=length,
        exception=exception,
        context={},
    )


@dataclass(slots=True)
class RequestRecord:
    request_type: str
    name: str
    response_time: float
    response_length: int
    exception: BaseException | None
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.exception is None


class Recorder:
    """A thread-safe in-memory sink, for the compliance runner and tests."""

    def __init__(self) -> None:
        self.records: list[RequestRecord] = []
        self._lock = threading.Lock()

    def __call__(
        self,
        *,
        request_type: str,
        name: str,
        response_time: float,
        response_length: int = 0,
        exception: BaseException | None = None,
        context: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        record = RequestRecord(request_type, name, response_time, response_length, exception, context or {})
        with self._lock:
            self.records.append(record)

    def select(self, request_type: str | None = None, name: str | None = None) -> list[RequestRecord]:
        with self._lock:
            return [
                r
                for r in self.records
                if (request_type is None or r.request_type == request_type) and (name is None or r.name == name)
            ]

    def failures(self) -> list[RequestRecord]:
        with self._lock:
            return [r for r in self.records if r.exception is not None]

    def counts(self) -> Counter[tuple[str, str]]:
        with self._lock:
            return Counter((r.request_type, r.name) for r in self.records)

    def clear(self) -> None:
        with self._lock:
            self.records.clear()
