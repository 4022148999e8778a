"""A station's link to its CSMS: one OCPP-J connection at a time, opened, closed or dropped.

The link knows the transport (URL, security profile) and the wire (:class:`OcppConnection`), not
the charger: what happens when a connection ends (reconnect, boot again) is the station's business,
told through ``on_close``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import gevent.event
import gevent.lock

from ocpp_users.ocppj.errors import ConnectionLost, TransportError
from ocpp_users.ocppj.rpc import CheckAnswer, Dispatcher, OcppConnection, Payload, WireLog
from ocpp_users.ocppj.sink import CP_TO_CSMS, WEBSOCKET, RequestSink, report
from ocpp_users.ocppj.transport import charge_point_url, connect
from ocpp_users.v16.protocol import VERSION
from ocpp_users.v16.settings import ChargePointSettings

CloseListener = Callable[[str, bool], object]
"""``on_close(reason, by_us)``: the connection ended (``by_us``: we closed or dropped it)."""


class Link:
    """The current connection of one charge point, and how to open a new one."""

    def __init__(
        self,
        settings: ChargePointSettings,
        dispatcher: Dispatcher,
        sink: RequestSink,
        wire_log: WireLog | None,
        on_close: CloseListener,
        on_open: Callable[[], object] | None = None,
        on_stopped: Callable[[str], object] | None = None,
    ) -> None:
        self.settings = settings
        self.dispatcher = dispatcher
        self.sink = sink
        self.wire_log = wire_log
        self.on_close = on_close
        self.on_open = on_open
        self.on_stopped = on_stopped
        """Told of each call the harness stopped (see :class:`~ocpp_users.ocppj.errors.CallCancelled`)."""
        self.connection: OcppConnection | None = None
        self.last_error: str | None = None
        self._late_answers = 0
        self._connected = gevent.event.Event()
        self._connecting = gevent.lock.Semaphore()

    @property
    def url(self) -> str:
        return charge_point_url(self.settings.url, self.settings.cp_id)

    @property
    def connected(self) -> bool:
        connection = self.connection
        return connection is not None and not connection.closed

    def connect(self, name: str = "connect") -> None:
        """Open the WebSocket (security profile from the settings), reported as ``name``
        (``connect`` or ``reconnect``); raise :class:`TransportError` on failure.

        One connection per charge point: connects are serialised, and a connection still open is
        closed (cleanly, by us) before the new one is opened."""
        with self._connecting:
            old = self.connection
            if old is not None and not old.closed:
                old.close()
            self._connect(name)

    def _connect(self, name: str) -> None:
        settings = self.settings
        started = time.perf_counter()
        try:
            ws = connect(
                self.url,
                settings.cp_id,
                settings.security,
                subprotocol=VERSION.subprotocol,
                timeout=settings.connect_timeout,
            )
        except TransportError as exc:
            self.last_error = exc.reason
            report(self.sink, WEBSOCKET, name, (time.perf_counter() - started) * 1000.0, 0, exc)
            raise
        self.connection = OcppConnection(
            ws,
            self.dispatcher,
            version=VERSION,
            sink=self.sink,
            call_timeout=settings.call_timeout,
            serialize_calls=settings.serialize_calls,
            validate=settings.validate,
            wire_log=self.wire_log,
            on_close=self._closed,
            on_stopped=self.on_stopped,
            max_message_size=settings.max_frame_size,
        ).start()
        self._connected.set()
        if self.on_open is not None:
            self.on_open()
        report(self.sink, WEBSOCKET, name, (time.perf_counter() - started) * 1000.0)

    def _closed(self, reason: str, by_us: bool) -> None:
        self._connected.clear()
        connection = self.connection
        if connection is not None:
            self._late_answers += connection.late_answers
            connection.late_answers = 0
        self.on_close(reason, by_us)

    @property
    def late_answers(self) -> int:
        """Answers that came for calls already accounted (timed out or stopped), on every connection."""
        connection = self.connection
        return self._late_answers + (connection.late_answers if connection is not None else 0)

    def wait_connected(self, timeout: float | None = None) -> bool:
        return self._connected.wait(timeout=timeout) and self.connected

    def call(
        self,
        action: str,
        payload: Payload,
        check: CheckAnswer | None = None,
        timeout: float | None = None,
    ) -> Payload:
        """One CALL on the current connection (a ConnectionLost failure when there is none)."""
        connection = self.connection
        if connection is None:
            exc = ConnectionLost("connection lost: not connected")
            report(self.sink, CP_TO_CSMS, action, exception=exc)
            raise exc
        return connection.call(action, payload, timeout=timeout, check=check)

    def close(self, wait: float = 2.0) -> None:
        """Close cleanly (close handshake, waiting up to ``wait`` s for the CSMS's close frame); the
        station does not reconnect after this."""
        connection = self.connection
        if connection is not None:
            connection.close(wait=wait)

    def abort(self, reason: str) -> None:
        """Drop the socket without a close handshake, as a network fault or power cut would."""
        connection = self.connection
        if connection is not None:
            connection.abort(reason)

    def backoff_delays(self, rng: random.Random) -> Callable[[], float]:
        """Exponential backoff with jitter, bounded by ``backoff_max``: each call gives the next delay."""
        settings = self.settings
        state = {"delay": settings.backoff_initial}

        def next_delay() -> float:
            delay = state["delay"]
            state["delay"] = min(delay * 2.0, settings.backoff_max)
            jitter = settings.backoff_jitter
            return max(0.0, delay * (1.0 - jitter * rng.random()))

        return next_delay
