"""A station's link to its CSMS: one OCPP-J connection at a time, opened, closed or dropped.

The link knows the transport (URL, security profile, credentials) and the wire
(:class:`OcppConnection`), not the charger: what happens when a connection ends (reconnect, boot
again) is the station's business, told through ``on_close``. Its credentials start as the
settings' and change with the security extension (a new AuthorizationKey, a new client
certificate, a higher security profile): the station swaps them with :meth:`Link.use` and opens
a new connection.
"""

from __future__ import annotations

import random
import ssl
import time
from collections.abc import Callable
from typing import Any

import gevent.event
import gevent.lock
import orjson

from ocpp_users.ocppj.errors import ConnectionLost, TransportError
from ocpp_users.ocppj.rpc import CheckAnswer, Dispatcher, OcppConnection, Payload, WireLog
from ocpp_users.ocppj.sink import CP_TO_CSMS, WEBSOCKET, RequestSink, report
from ocpp_users.ocppj.transport import SecurityConfig, charge_point_url, client_context, connect
from ocpp_users.v16.protocol import VERSION
from ocpp_users.v16.settings import ChargePointSettings

CloseListener = Callable[[str, bool], object]
"""``on_close(reason, by_us)``: the connection ended (``by_us``: we closed or dropped it)."""


def _mask(value: Any) -> Any:
    if isinstance(value, dict):
        out = {k: _mask(v) for k, v in value.items()}
        key = out.get("key")
        if isinstance(key, str) and key.casefold() == "authorizationkey" and "value" in out:
            out["value"] = "***"
        return out
    if isinstance(value, list):
        return [_mask(v) for v in value]
    return value


def mask_secrets(raw: str | bytes) -> str | bytes:
    """A frame as a wire log may keep it: the value of a ChangeConfiguration.req's AuthorizationKey
    masked (the security whitepaper, A01.FR.12: the key is never disclosed in logging)."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    if "uthorizationkey" not in text.lower():
        return raw
    try:
        return orjson.dumps(_mask(orjson.loads(text))).decode("utf-8")
    except orjson.JSONDecodeError:
        return "<frame mentioning AuthorizationKey, not logged>"


def _masked(wire_log: WireLog | None) -> WireLog | None:
    if wire_log is None:
        return None
    log = wire_log

    def masked(direction: str, raw: str | bytes) -> None:
        log(direction, mask_secrets(raw))

    return masked


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
        self.wire_log = _masked(wire_log)
        self.on_close = on_close
        self.on_open = on_open
        self.on_stopped = on_stopped
        """Told of each call the harness stopped (see :class:`~ocpp_users.ocppj.errors.CallCancelled`)."""
        self.connection: OcppConnection | None = None
        self.last_error: str | None = None
        self._late_answers = 0
        self.security: SecurityConfig = settings.security
        """The credentials and trust of the next connection (the settings' until the CSMS changes them)."""
        self.base_url = settings.url
        """The CSMS URL the charge point id is appended to (the TLS one after an upgrade to profile 2/3)."""
        self.in_flight = 0
        """Calls of ours waiting for their answer on the current connection."""
        self._connected = gevent.event.Event()
        self._connecting = gevent.lock.Semaphore()
        self._context: tuple[SecurityConfig, ssl.SSLContext] | None = None

    @property
    def url(self) -> str:
        return charge_point_url(self.base_url, self.settings.cp_id)

    @property
    def peer_certificate(self) -> bytes | None:
        """DER of the CSMS's TLS certificate on the current connection (None on ws:// or offline)."""
        connection = self.connection
        sock = connection.ws.sock if connection is not None and not connection.closed else None
        if not isinstance(sock, ssl.SSLSocket):
            return None
        try:
            return sock.getpeercert(binary_form=True)
        except (OSError, ValueError):
            return None

    def quiet(self, timeout: float) -> None:
        """Wait (at most ``timeout``) until no call of ours waits for its answer, so that closing
        the connection on purpose cuts no call short."""
        deadline = time.monotonic() + timeout
        while self.in_flight and self.connected and time.monotonic() < deadline:
            gevent.sleep(0.02)

    def use(self, security: SecurityConfig, base_url: str | None = None) -> None:
        """Connect with ``security`` (and ``base_url``) from the next connection on."""
        self.security = security
        if base_url is not None:
            self.base_url = base_url

    def tls_url(self) -> str:
        """Where to connect with security profile 2 or 3: the settings' ``tls_url``, else the URL
        with ws:// made wss://."""
        if self.settings.tls_url:
            return self.settings.tls_url
        base = self.base_url
        return "wss://" + base[len("ws://") :] if base.startswith("ws://") else base

    def _tls_context(self, security: SecurityConfig) -> ssl.SSLContext | None:
        """A client certificate held in memory gets a context of its own, kept while it is in use."""
        if security.identity is None:
            return None
        cached = self._context
        if cached is not None and cached[0] is security:
            return cached[1]
        context = client_context(security)
        self._context = (security, context)
        return context

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
        security = self.security
        url = self.url
        started = time.perf_counter()
        try:
            context = self._tls_context(security) if url.startswith("wss:") else None
        except (OSError, ssl.SSLError, ValueError) as exc:
            context = None
            detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
            error: TransportError | None = TransportError(f"TLS configuration error: {detail}")
        else:
            error = None
        try:
            if error is not None:
                raise error
            ws = connect(
                url,
                settings.cp_id,
                security,
                subprotocol=VERSION.subprotocol,
                timeout=settings.connect_timeout,
                context=context,
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
        self.in_flight += 1
        try:
            return connection.call(action, payload, timeout=timeout, check=check)
        finally:
            self.in_flight -= 1

    def close(self, wait: float = 2.0) -> None:
        """Close cleanly (close handshake, waiting up to ``wait`` s for the CSMS's close frame); the
        station does not reconnect after this."""
        connection = self.connection
        if connection is not None:
            connection.close(wait=wait)

    def abort(self, reason: str, *, by_us: bool = True) -> None:
        """Drop the socket without a close handshake, as a network fault or power cut would
        (``by_us=False``: because of the CSMS, see :meth:`OcppConnection.abort`)."""
        connection = self.connection
        if connection is not None:
            connection.abort(reason, by_us=by_us)

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
