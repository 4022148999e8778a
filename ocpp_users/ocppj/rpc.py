"""OCPP-J RPC over one websocket-client connection, on gevent.

One receive greenlet per connection reads every frame; pending calls are keyed by message id;
each CSMS-initiated CALL is handled in its own greenlet. Every call sent ends in exactly one
event on the sink: succeeded, failed (with its reason) or timed out.
"""

from __future__ import annotations

import itertools
import logging
import os
import struct
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import gevent
import gevent.lock
import orjson
import websocket
from gevent.event import AsyncResult

from ocpp_users.ocppj import schemas
from ocpp_users.ocppj.errors import (
    CallCancelled,
    CallNotSent,
    CallTimeout,
    ConnectionLost,
    FormationViolationError,
    FrameError,
    InternalError,
    OcppCallError,
    RejectedError,
    SchemaViolation,
    UnknownMessageId,
    VolatileOcppError,
    call_error_for,
)
from ocpp_users.ocppj.frames import Call, CallError, CallResult, parse, peek_call_id, peek_message_id
from ocpp_users.ocppj.sink import CP_TO_CSMS, CSMS_TO_CP, NOT_SENT, PROTOCOL, RequestSink, null_sink, report
from ocpp_users.ocppj.transport import FrameReader, send_text
from ocpp_users.ocppj.version import OcppVersion

log = logging.getLogger(__name__)

#: ``wire_log(direction, raw)``: direction ``"out"`` (we sent) or ``"in"`` (we received).
WireLog = Callable[[str, "str | bytes"], None]

Payload = dict[str, Any]
"""A message's payload as it travels: a JSON object with camelCase keys."""

CheckAnswer = Callable[[Payload], "str | None"]
"""``check(result)`` names a rejection in a valid answer (e.g. "Authorize Blocked"), or None."""


@dataclass(slots=True)
class Reply:
    """A handler's answer with work to do once the answer is on the wire.

    From the specification (RemoteStartTransaction and the like): the charge point first
    confirms, then acts; ``after`` runs in the handling greenlet after the CALLRESULT was sent.
    """

    payload: Payload
    after: Callable[[], object] | None = None


Handler = Callable[[Payload], "Payload | Reply"]


class Dispatcher(Protocol):
    def lookup(self, action: str) -> Handler:
        """The handler for ``action``, or raise NotImplementedCallError / NotSupportedError."""
        ...


@dataclass(slots=True)
class ProtocolErrorRecord:
    at: float
    reason: str
    raw: str


@dataclass(slots=True)
class _Pending:
    action: str
    result: AsyncResult


_text = websocket.ABNF.OPCODE_TEXT


class _CallTimerExpired(Exception):
    """Raised by our own per-call timer only, so a caller's gevent.Timeout is never mistaken for it."""


_EXPIRED = _CallTimerExpired()
_dumps = orjson.dumps

GIVEN_UP_MEMORY = 256
"""Message ids of calls we stopped waiting for, remembered per connection, so that their answers,
should they come, are recognised (never an "unknown message id")."""


def _raw_text(raw: str | bytes, limit: int = 500) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return text if len(text) <= limit else text[:limit] + "..."


class OcppConnection:
    """An open OCPP-J connection: calls out, handlers in, one event per outcome."""

    def __init__(
        self,
        ws: websocket.WebSocket,
        dispatcher: Dispatcher,
        *,
        version: OcppVersion,
        sink: RequestSink = null_sink,
        call_timeout: float = 30.0,
        serialize_calls: bool = True,
        validate: bool = True,
        wire_log: WireLog | None = None,
        on_close: Callable[[str, bool], Any] | None = None,
        on_stopped: Callable[[str], object] | None = None,
    ) -> None:
        self.ws = ws
        self.dispatcher = dispatcher
        self.version = version
        """The OCPP version spoken: its schemas and action names."""
        self.schemas = version.schemas
        self.sink = sink
        self.call_timeout = call_timeout
        """Seconds a call waits for its CALLRESULT or CALLERROR (default 30)."""
        self.validate = validate
        """Validate what we send and what the CSMS sends against the version's official schemas."""
        self.wire_log = wire_log
        self.on_close = on_close
        """Called once as ``on_close(reason, by_us)`` when the connection has ended."""
        self.on_stopped = on_stopped
        """Called with the action of every call the harness stopped (see :class:`CallCancelled`): such
        a call is accounted here, once, and never as a request event."""
        self.late_answers = 0
        """Answers that arrived for calls already accounted (timed out or stopped): never counted twice."""
        self.closed = False
        self.close_reason = ""
        self._protocol_errors: deque[ProtocolErrorRecord] | None = None
        self._pending: dict[str, _Pending] = {}
        self._given_up: dict[str, None] = {}
        self._call_lock = gevent.lock.Semaphore(1) if serialize_calls else None
        self._ids = itertools.count(1)
        self._id_prefix = os.urandom(4).hex() + "-"
        self._closing_by_us = False
        self._receiver: gevent.Greenlet | None = None
        self._call_timer: gevent.Timeout | None = None
        # websocket-client's own objects expose the socket and send lock that the fast frame path needs.
        self._fast = getattr(ws, "sock", None) is not None and hasattr(ws, "lock")

    @property
    def protocol_errors(self) -> deque[ProtocolErrorRecord]:
        """The last 100 inbound frames that were not valid OCPP-J (made on first use: most
        connections never need it)."""
        if self._protocol_errors is None:
            self._protocol_errors = deque(maxlen=100)
        return self._protocol_errors

    # ------------------------------------------------------------ lifecycle

    def start(self) -> OcppConnection:
        self._receiver = gevent.spawn(self._receive_loop)
        return self

    def close(self, status: int = 1000, reason: str = "", wait: float = 2.0) -> None:
        """Close cleanly: send a close frame, wait for the peer's, then drop the socket."""
        if self.closed:
            return
        self._closing_by_us = True
        try:
            self.ws.send_close(status, reason.encode()[:120])
        except Exception:
            pass
        receiver = self._receiver
        if receiver is not None and not receiver.dead:
            receiver.join(timeout=wait)
        if not self.closed:
            self._shutdown_socket()
            if receiver is not None and not receiver.dead:
                receiver.join(timeout=1.0)
            if receiver is not None and not receiver.dead:
                receiver.kill(block=False)
            self._finish("closed by the charge point", by_us=True)

    def abort(self, reason: str = "connection aborted by the charge point") -> None:
        """Drop the socket without a close handshake (as a power cut would)."""
        self._closing_by_us = True
        self._shutdown_socket()
        receiver = self._receiver
        if receiver is not None and not receiver.dead:
            receiver.join(timeout=1.0)
        self._finish(reason, by_us=True)

    def _shutdown_socket(self) -> None:
        """Close the socket at once (websocket-client's ``shutdown``: no close handshake)."""
        shutdown: Callable[[], object] = self.ws.shutdown
        try:
            shutdown()
        except Exception:
            pass

    # ------------------------------------------------------------ outgoing calls

    def next_id(self) -> str:
        return f"{self._id_prefix}{next(self._ids)}"

    def call(
        self,
        action: str,
        payload: dict[str, Any],
        *,
        timeout: float | None = None,
        check: CheckAnswer | None = None,
    ) -> Payload:
        """Send a CALL and return the CALLRESULT payload; raise on anything else.

        Raises :class:`OcppCallError` (a CALLERROR came back), :class:`CallTimeout`,
        :class:`ConnectionLost`, :class:`SchemaViolation` (ours before sending, or the CSMS's
        answer) or :class:`FrameError` (the answer was not valid OCPP-J). Fires exactly one
        event on the sink either way. ``check(result)`` may name a rejection (e.g. "Authorize
        Blocked"): the call then counts as failed and raises :class:`RejectedError`.
        """
        timeout = self.call_timeout if timeout is None else timeout
        if self.validate:
            try:
                self.schemas.validate_request(action, payload)
            except SchemaViolation as exc:
                self._fire(CP_TO_CSMS, action, 0.0, 0, exc)
                raise
        lock = self._call_lock
        if lock is not None and not lock.acquire(timeout=timeout):
            if self.closed and self._closing_by_us:
                raise self._stopped(action, "the charge point closed the connection")
            not_sent = CallNotSent(f"not sent: the previous call was still unanswered after {timeout:g} s")
            self._fire(NOT_SENT, action, 0.0, 0, not_sent)
            raise not_sent
        try:
            return self._call_unlocked(action, payload, timeout, check)
        finally:
            if lock is not None:
                lock.release()

    def _call_unlocked(
        self,
        action: str,
        payload: dict[str, Any],
        timeout: float,
        check: CheckAnswer | None,
    ) -> Payload:
        start = time.perf_counter()
        if self.closed:
            if self._closing_by_us:
                raise self._stopped(action, "the charge point closed the connection")
            exc: VolatileOcppError = ConnectionLost(f"connection lost: {self.close_reason or 'not connected'}")
            self._fire(CP_TO_CSMS, action, 0.0, 0, exc)
            raise exc
        message_id = self.next_id()
        pending = _Pending(action, AsyncResult())
        self._pending[message_id] = pending
        raw = _dumps([2, message_id, action, payload])  # Call(...).to_json(), without the object
        try:
            self._send(raw)
            if self._call_lock is None:
                with gevent.Timeout(timeout, _EXPIRED):
                    outcome = pending.result.get()
            else:
                # Serialized calls: one call at a time on this connection, so one timer, reused
                # (AsyncResult.get(timeout=...) would make and destroy one per call).
                timer = self._call_timer
                if timer is None or timer.seconds != timeout:
                    timer = self._call_timer = gevent.Timeout(timeout, _EXPIRED)
                timer.start()
                try:
                    outcome = pending.result.get()
                finally:
                    timer.cancel()
        except _CallTimerExpired:
            # A gevent Timeout that has fired cannot be restarted reliably: the next call makes a new one.
            self._call_timer = None
            self._give_up(message_id)
            exc = CallTimeout(f"no answer within {timeout:g} s")
            self._fire(CP_TO_CSMS, action, (time.perf_counter() - start) * 1000.0, 0, exc)
            raise exc from None
        except CallCancelled as stopped:  # we closed the connection while the call was pending
            self._give_up(message_id)
            self._note_stopped(action)
            raise stopped from None
        except VolatileOcppError as failure:
            self._pending.pop(message_id, None)
            self._fire(CP_TO_CSMS, action, (time.perf_counter() - start) * 1000.0, 0, failure)
            raise
        except BaseException:
            # The caller was killed (GreenletExit) or its own gevent.Timeout fired: the harness gave
            # up on the call. It is accounted for, once, as stopped (never as a CSMS failure), and its
            # answer, should it come, is recognised.
            self._give_up(message_id)
            self._note_stopped(action)
            raise
        elapsed = (time.perf_counter() - start) * 1000.0
        frame, length = outcome
        if isinstance(frame, CallError):
            err = call_error_for(frame.code, frame.description, frame.details)
            self._fire(CP_TO_CSMS, action, elapsed, length, err)
            raise err
        result: dict[str, Any] = frame.payload
        if self.validate:
            try:
                self.schemas.validate_response(action, result)
            except SchemaViolation as violation:
                self._fire(CP_TO_CSMS, action, elapsed, length, violation)
                raise
        if check is not None:
            rejection = check(result)
            if rejection:
                rejected = RejectedError(rejection, result)
                self._fire(CP_TO_CSMS, action, elapsed, length, rejected)
                raise rejected
        self._fire(CP_TO_CSMS, action, elapsed, length, None)
        return result

    def _give_up(self, message_id: str) -> None:
        self._pending.pop(message_id, None)
        given_up = self._given_up
        if len(given_up) >= GIVEN_UP_MEMORY:
            del given_up[next(iter(given_up))]
        given_up[message_id] = None

    def _note_stopped(self, action: str) -> None:
        listener = self.on_stopped
        if listener is not None:
            try:
                listener(action)
            except Exception as exc:
                log.error("on_stopped listener failed: %r", exc)

    def _stopped(self, action: str, why: str) -> CallCancelled:
        """A call the harness itself prevents (it closed the connection): accounted as stopped."""
        self._note_stopped(action)
        return CallCancelled(f"call stopped by the charge point: {why}")

    def _send(self, raw: bytes) -> None:
        if self.wire_log is not None:
            self.wire_log("out", raw)
        try:
            if self._fast:
                send_text(self.ws, raw)
            else:
                self.ws.send(raw, _text)
        except (OSError, websocket.WebSocketException) as exc:
            raise ConnectionLost(f"connection lost: send failed ({type(exc).__name__})") from None

    # ------------------------------------------------------------ receiving

    def _receive_loop(self) -> None:
        reason = "connection closed"
        receive = FrameReader(self.ws).next if self._fast else self.ws.recv_data
        try:
            while True:
                try:
                    opcode, data = receive()
                except websocket.WebSocketConnectionClosedException:
                    reason = "connection closed by peer"
                    break
                except (OSError, websocket.WebSocketException, ValueError) as exc:
                    reason = f"connection error: {type(exc).__name__}"
                    break
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    reason = _close_reason(data)
                    break
                if opcode == websocket.ABNF.OPCODE_BINARY:
                    self._protocol_error("binary frame (OCPP-J uses text frames)", data)
                    continue
                self._on_message(data)
        except gevent.GreenletExit:
            reason = "receive loop stopped"
        except BaseException as exc:  # a bug must not leave calls pending forever
            log.error("receive loop failed: %r", exc)
            reason = f"receive loop failed: {type(exc).__name__}"
        finally:
            if self._closing_by_us:
                reason = "closed by the charge point"
            self._shutdown_socket()
            self._finish(reason, by_us=self._closing_by_us)

    def _finish(self, reason: str, *, by_us: bool) -> None:
        if self.closed:
            return
        self.closed = True
        self.close_reason = reason
        pending, self._pending = self._pending, {}
        for item in pending.values():
            if by_us:  # the harness closed its own connection: its pending calls are stopped, not failed
                item.result.set_exception(CallCancelled("call stopped: the charge point closed the connection"))
            else:
                item.result.set_exception(ConnectionLost(f"connection lost: {reason}"))
        if self.on_close is not None:
            try:
                self.on_close(reason, by_us)
            except Exception as exc:
                log.error("on_close callback failed: %r", exc)

    def _on_message(self, raw: str | bytes) -> None:
        if self.wire_log is not None:
            self.wire_log("in", raw)
        try:
            frame = parse(raw)
        except FrameError as exc:
            call_id = peek_call_id(raw)
            if call_id is not None:
                gevent.spawn(self._refuse_call, call_id, exc.reason, raw)
                return
            message_id = peek_message_id(raw)
            pending = self._pending.pop(message_id, None) if message_id is not None else None
            if pending is not None:
                pending.result.set_exception(FrameError(f"invalid answer frame: {exc.reason}", raw))
            else:
                self._protocol_error(f"invalid frame: {exc.reason}", raw)
            return
        if isinstance(frame, Call):
            gevent.spawn(self._handle_call, frame)
            return
        pending = self._pending.pop(frame.message_id, None)
        if pending is None:
            if frame.message_id in self._given_up:
                # The answer to a call that timed out (already a failure) or that the harness stopped
                # waiting for: the call is accounted once, this answer is only counted.
                del self._given_up[frame.message_id]
                self.late_answers += 1
                return
            kind = "CALLRESULT" if isinstance(frame, CallResult) else "CALLERROR"
            self._protocol_error(f"{kind} with unknown message id", raw, UnknownMessageId)
            return
        pending.result.set((frame, len(raw)))

    def _refuse_call(self, message_id: str, reason: str, raw: str | bytes) -> None:
        """Answer a CALL that is not valid OCPP-J but whose id is readable, so the CSMS is not left
        waiting: FormationViolation, "not conform the PDU structure" (OCPP-J 1.6 §4.2.3)."""
        error = FormationViolationError(f"invalid CALL frame: {reason}")
        answered = "answered FormationViolation"
        try:
            self._send(CallError(message_id, error.code, error.description, {}).to_json())
        except ConnectionLost:
            answered = "answer not sent: connection lost"
        self._protocol_error(f"invalid CALL frame ({answered}): {reason}", raw)

    def _protocol_error(self, reason: str, raw: str | bytes, cls: type[FrameError] = FrameError) -> None:
        self.protocol_errors.append(ProtocolErrorRecord(time.time(), reason, _raw_text(raw)))
        self._fire(PROTOCOL, "inbound frame", 0.0, len(raw), cls(reason, raw))

    # ------------------------------------------------------------ CSMS-initiated calls

    def _handle_call(self, call: Call) -> None:
        start = time.perf_counter()
        after: Callable[[], Any] | None = None
        failure: BaseException | None = None
        try:
            handler = self.dispatcher.lookup(call.action)
            if self.validate:
                try:
                    self.schemas.validate_request(call.action, call.payload)
                except SchemaViolation as violation:
                    raise schemas.call_error_for_violation(violation) from None
            answer = handler(call.payload)
            if isinstance(answer, Reply):
                payload, after = answer.payload, answer.after
            else:
                payload = answer
            if self.validate:
                self.schemas.validate_response(call.action, payload)
            out: CallResult | CallError = CallResult(call.message_id, payload)
        except OcppCallError as exc:
            failure = exc
            out = CallError(call.message_id, exc.code, exc.description[:255], exc.details)
        except gevent.GreenletExit:
            raise
        except BaseException as exc:
            log.warning("handler for %s failed: %r", call.action, exc)
            failure = InternalError(f"handler for {call.action} failed: {type(exc).__name__}: {exc}"[:200])
            out = CallError(call.message_id, failure.code, str(failure)[:255], {})
        # A CSMS can make up any action name: unknown ones share one stats row.
        name = call.action if call.action in self.version.actions else "(unknown action)"
        try:
            raw = out.to_json()
            self._send(raw)
        except ConnectionLost as exc:
            self._fire(CSMS_TO_CP, name, (time.perf_counter() - start) * 1000.0, 0, exc)
            return
        self._fire(CSMS_TO_CP, name, (time.perf_counter() - start) * 1000.0, len(raw), failure)
        if after is not None:
            try:
                after()
            except gevent.GreenletExit:
                raise
            except BaseException as exc:
                log.warning("follow-up of %s failed: %r", call.action, exc)

    # ------------------------------------------------------------ events

    def _fire(
        self, request_type: str, name: str, response_time: float, length: int, exception: BaseException | None
    ) -> None:
        report(self.sink, request_type, name, response_time, length, exception)


def _close_reason(frame: Any) -> str:
    # websocket-client's recv_data() hands over the close frame's payload (bytes), not the frame.
    data = frame if isinstance(frame, bytes | bytearray) else getattr(frame, "data", b"") or b""
    if len(data) >= 2:
        (code,) = struct.unpack("!H", data[:2])
        text = data[2:].decode("utf-8", "replace")[:80]
        return f"closed by peer (code {code}{': ' + text if text else ''})"
    return "closed by peer"
