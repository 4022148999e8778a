"""OCPP-J RPC over one websocket-client connection, on gevent.

One receive greenlet per connection reads every frame; pending calls are keyed by message id;
each CSMS-initiated CALL is handled in its own greenlet. Every call sent ends in exactly one
event on the sink: succeeded, failed (with its reason) or timed out.
"""

from __future__ import annotations

import logging
import os
import socket
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
from gevent import get_hub, getcurrent
from gevent.exceptions import InvalidSwitchError

from ocpp_users.ocppj import schemas
from ocpp_users.ocppj.arrival import round_trip_ms
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
from ocpp_users.ocppj.frames import (
    CALLRESULT,
    MAX_ID_LENGTH,
    Call,
    CallError,
    CallResult,
    parse,
    peek_call_id,
    peek_message_id,
)
from ocpp_users.ocppj.logs import RateLimitedLog
from ocpp_users.ocppj.sink import CP_TO_CSMS, CSMS_TO_CP, NOT_SENT, PROTOCOL, RequestSink, null_sink, report
from ocpp_users.ocppj.text import sanitize, size_class, size_text
from ocpp_users.ocppj.transport import (
    CLOSE_MESSAGE_TOO_BIG,
    CLOSE_PROTOCOL_ERROR,
    DEFAULT_MAX_MESSAGE_SIZE,
    FrameReader,
    MessageTooBig,
    ProtocolViolation,
    send_text,
)
from ocpp_users.ocppj.version import OcppVersion

log = logging.getLogger(__name__)
limited = RateLimitedLog(log)
"""Lines a CSMS can make the engine repeat (a handler failing on its input): once per kind, counted."""

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


_text = websocket.ABNF.OPCODE_TEXT
_close = websocket.ABNF.OPCODE_CLOSE
_binary = websocket.ABNF.OPCODE_BINARY


class _CallTimerExpired(Exception):
    """A call's own timer ran out (never a caller's gevent.Timeout, which is not this)."""


_EXPIRED = _CallTimerExpired()
_dumps = orjson.dumps
_loads = orjson.loads
_perf_counter = time.perf_counter
_time_ns = time.time_ns
_round_trip_ms = round_trip_ms


class _Pending:
    """One call waiting for its outcome, set once: the answer (a CALLRESULT's payload or a
    :class:`CallError`), a failure, or the expiry of the call's timer. The calling greenlet is woken
    only while it waits in :meth:`OcppConnection.call` (a one-shot waiter, lighter than an
    ``AsyncResult``: no links, no notifier); whatever comes after the first outcome is ignored."""

    __slots__ = ("action", "arrived_ns", "caller", "done", "error", "frame", "length", "loop", "waiting")

    def __init__(self, action: str, caller: Any, loop: Any) -> None:
        self.action = action
        self.caller = caller
        """The calling greenlet."""
        self.loop = loop
        self.done = False
        self.waiting = False
        """True only while the caller is parked in the hub for this call."""
        self.frame: Payload | CallError | None = None
        self.length = 0
        self.arrived_ns = 0
        """When the answer's bytes arrived (wall-clock ns; 0: unknown), see :mod:`.arrival`."""
        self.error: BaseException | None = None

    def answer(self, frame: Payload | CallError, length: int, arrived_ns: int = 0) -> None:
        """The CSMS answered (called in the receive greenlet)."""
        if not self.done:
            self.done = True
            self.frame = frame
            self.length = length
            self.arrived_ns = arrived_ns
            if self.waiting:
                self.loop.run_callback(self._wake)

    def fail(self, error: BaseException) -> None:
        """The call ended without an answer (called in any greenlet)."""
        if not self.done:
            self.done = True
            self.error = error
            if self.waiting:
                self.loop.run_callback(self._wake)

    def _wake(self) -> None:
        # In the hub: the caller may have left already (killed, or its own gevent.Timeout).
        if self.waiting:
            self.caller.switch(self)

    def expire(self) -> None:
        """The call's timer ran out (in the hub): fail the call, unless it has its outcome."""
        if not self.done:
            self.done = True
            self.error = _EXPIRED
            if self.waiting:
                self.caller.switch(self)


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
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
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
        self.max_message_size = max_message_size
        """The largest inbound message accepted (bytes); a larger one fails the connection (1009)."""
        self.closed = False
        self.close_reason = ""
        self.close_detail = ""
        """What the CSMS said when it closed (its close reason), or what it sent that made us close."""
        self._protocol_errors: deque[ProtocolErrorRecord] | None = None
        self._pending: dict[str, _Pending] = {}
        self._given_up: dict[str, None] = {}
        self._call_lock = gevent.lock.Semaphore(1) if serialize_calls else None
        self._seq = 0
        self._id_prefix = os.urandom(4).hex() + "-"
        self._closing_by_us = False
        self._peer_ending = False
        """The peer's doing has begun to end the connection (a missing pong, a frame we cannot take):
        a close or abort of ours arriving meanwhile does not make it ours."""
        self._abort_reason: str | None = None
        """Why the charge point dropped the connection for the peer's fault (see :meth:`abort`)."""
        self._receiver: gevent.Greenlet | None = None
        self._reader: FrameReader | None = None
        self._pongs_at_ping: int | None = None
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
        """Close cleanly: send a close frame, wait for the peer's, then drop the socket. When the
        peer's doing is already ending the connection, it ends as that (and at once)."""
        if self.closed:
            return
        if self._peer_ending:
            self._end_for_the_peer()
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

    def abort(self, reason: str = "connection aborted by the charge point", *, by_us: bool = True) -> None:
        """Drop the socket without a close handshake (as a power cut would). ``by_us``: the harness's
        own choice (its calls in flight are stopped, not failed); False when the peer caused it (e.g. it
        stopped answering pings): the calls in flight are lost connections and ``on_close`` says so."""
        if self.closed:
            return
        if self._closing_by_us or self._peer_ending:
            # An end already under way (ours, or the peer's doing) decides what it was, not this one.
            self._shutdown_socket()
            return
        if by_us:
            self._closing_by_us = True
        else:
            self._peer_ending = True
            self._abort_reason = reason  # the receive loop ends with this reason, not the socket error
        self._shutdown_socket()
        receiver = self._receiver
        if receiver is not None and not receiver.dead:
            receiver.join(timeout=1.0)
        self._finish(reason, by_us=by_us)

    def _end_for_the_peer(self) -> None:
        """Drop the socket of a connection the peer's doing is ending; it ends as that."""
        self._shutdown_socket()
        receiver = self._receiver
        if receiver is not None and not receiver.dead:
            receiver.join(timeout=1.0)
        self._finish(self._abort_reason or "connection closed", by_us=False)

    @property
    def closing_by_us(self) -> bool:
        """A close or abort of ours has begun (the connection may not be closed yet)."""
        return self._closing_by_us

    @property
    def ending(self) -> bool:
        """The connection is on its way to closed (by our choice or the peer's doing): nothing new
        should be started on it."""
        return self._closing_by_us or self._peer_ending

    def ping(self) -> bool:
        """Send a WebSocket ping (RFC 6455 §5.5.2); False, and nothing sent, when the previous ping
        has had no pong since ("Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in
        response"): the peer or the path to it is gone. A send that fails is the connection's end,
        which the receive loop reports itself (True here: it is not a missing pong)."""
        if self._closing_by_us or self.closed:
            return True
        reader = self._reader
        if reader is not None:
            if self._pongs_at_ping is not None and reader.pongs <= self._pongs_at_ping:
                return False
            self._pongs_at_ping = reader.pongs
        try:
            self.ws.ping()
        except (OSError, websocket.WebSocketException):
            return True
        return True

    def _shutdown_socket(self) -> None:
        """Close the socket at once (websocket-client's ``shutdown``: no close handshake)."""
        shutdown: Callable[[], object] = self.ws.shutdown
        try:
            shutdown()
        except Exception:
            pass

    # ------------------------------------------------------------ outgoing calls

    def next_id(self) -> str:
        self._seq += 1
        return f"{self._id_prefix}{self._seq}"

    def _issued(self, message_id: str) -> bool:
        """Whether we made this id (ours are a per-connection prefix and a sequence number): an
        answer to it that matches no pending call is a duplicate, not an unknown id. No memory of
        answered ids is needed for that."""
        prefix = self._id_prefix
        if not message_id.startswith(prefix):
            return False
        tail = message_id[len(prefix) :]
        return tail.isdigit() and 0 < int(tail) <= self._seq

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
        if timeout is None:
            timeout = self.call_timeout
        validate = self.validate
        if validate:
            try:
                self.schemas.validate_request(action, payload)
            except SchemaViolation as ours:
                self._fire(CP_TO_CSMS, action, 0.0, 0, ours)
                raise
        lock = self._call_lock
        try:
            acquired = lock is None or lock.acquire(timeout=timeout)
        except BaseException:  # killed (GreenletExit) or its own gevent.Timeout while waiting its turn
            self._note_stopped(action)
            raise
        if not acquired:
            if self._closing_by_us:
                raise self._stopped(action, "the charge point closed the connection")
            not_sent = CallNotSent(f"not sent: the previous call was still unanswered after {timeout:g} s")
            self._fire(NOT_SENT, action, 0.0, 0, not_sent)
            raise not_sent
        try:
            # The exchange, inline (it runs once per call: each function call costs).
            if self._closing_by_us:  # closing, or closed, by our own choice: nothing goes out
                raise self._stopped(action, "the charge point closed the connection")
            if self.closed:
                lost = ConnectionLost(f"connection lost: {self.close_reason or 'not connected'}")
                self._fire(CP_TO_CSMS, action, 0.0, 0, lost)
                raise lost
            self._seq += 1
            message_id = f"{self._id_prefix}{self._seq}"  # next_id()
            hub = get_hub()
            pending = _Pending(action, getcurrent(), hub.loop)
            self._pending[message_id] = pending
            raw = _dumps([2, message_id, action, payload])  # Call(...).to_json(), without the object
            # The round trip starts as the CALL is handed to the socket and ends when its answer
            # arrived (the kernel's receive time where it has one: see arrival.py), not when this
            # greenlet is back: the harness's own scheduling is not the CSMS's latency.
            start = _perf_counter()
            try:
                sent_ns = self._send(raw)
                if not pending.done:
                    # A fresh event-loop timer per call that fails the pending call when it expires (no
                    # exception is thrown into the caller). Never restart a stopped one: gevent 26's libev
                    # timer, started again after a stop, fires as if it had run all along (a 2 s timer
                    # reused for 0.5 s calls expired on the fourth: a false "no answer within 2 s").
                    timer = hub.loop.timer(timeout)
                    timer.start(pending.expire)
                    pending.waiting = True
                    try:
                        woken = hub.switch()
                    finally:
                        pending.waiting = False
                        timer.close()
                    if woken is not pending:
                        raise InvalidSwitchError(f"invalid switch into a call waiting for its answer: {woken!r}")
            except VolatileOcppError as failure:  # the send failed
                self._pending.pop(message_id, None)
                if self._closing_by_us:  # because we are closing the connection ourselves: stopped
                    raise self._stopped(action, "the charge point closed the connection") from None
                self._fire(CP_TO_CSMS, action, (_perf_counter() - start) * 1000.0, 0, failure)
                raise
            except BaseException:
                # The caller was killed (GreenletExit) or its own gevent.Timeout fired: the harness gave
                # up on the call. It is accounted for, once, as stopped (never as a CSMS failure), and
                # its answer, should it come, is recognised.
                self._give_up(message_id)
                self._note_stopped(action)
                raise
            elapsed = (_perf_counter() - start) * 1000.0
            error = pending.error
            if error is not None:
                if error is _EXPIRED:
                    self._give_up(message_id)
                    timed_out = CallTimeout(f"no answer within {timeout:g} s")
                    self._fire(CP_TO_CSMS, action, elapsed, 0, timed_out)
                    raise timed_out
                if isinstance(error, CallCancelled):  # we closed the connection while the call was pending
                    self._give_up(message_id)
                    self._note_stopped(action)
                    raise error
                self._pending.pop(message_id, None)  # the connection was lost, or the answer was no OCPP-J
                self._fire(CP_TO_CSMS, action, elapsed, 0, error)
                raise error
            frame = pending.frame
            length = pending.length
            elapsed = _round_trip_ms(sent_ns, pending.arrived_ns, elapsed, _time_ns())
            if isinstance(frame, CallError):
                err = call_error_for(frame.code, frame.description, frame.details)
                self._fire(CP_TO_CSMS, action, elapsed, length, err)
                raise err
            result: dict[str, Any] = frame  # type: ignore[assignment]
            if validate:
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
            report(self.sink, CP_TO_CSMS, action, elapsed, length, None)
            return result
        finally:
            if lock is not None:
                lock.release()

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

    def _send(self, raw: bytes) -> int:
        """Send one text frame; return the wall-clock time (ns) it was handed to the socket."""
        if self.wire_log is not None:
            self.wire_log("out", raw)
        try:
            if self._fast:
                return send_text(self.ws, raw)
            handed_ns = _time_ns()
            self.ws.send(raw, _text)
            return handed_ns
        except (OSError, websocket.WebSocketException) as exc:
            raise ConnectionLost(f"connection lost: send failed ({type(exc).__name__})") from None

    # ------------------------------------------------------------ receiving

    def _receive_loop(self) -> None:
        reason = "connection closed"
        if self._fast:
            self._reader = FrameReader(self.ws, self.max_message_size)
            receive = self._reader.next
        else:
            receive = self.ws.recv_data
        try:
            while True:
                try:
                    opcode, data = receive()
                except websocket.WebSocketConnectionClosedException:
                    reason = "connection closed by peer"
                    break
                except MessageTooBig as exc:
                    # Nothing of it was read: the header announced the size. RFC 6455 §7.4.1: 1009.
                    limit = size_text(exc.limit)
                    reason = f"inbound message too big ({size_class(exc.size)} announced, limit {limit})"
                    self._fail_connection(CLOSE_MESSAGE_TOO_BIG, "message too big", reason, f"{exc.size} bytes")
                    reason += ": closed with 1009"
                    break
                except websocket.WebSocketProtocolException as exc:
                    # RFC 6455 §7.1.7: fail the connection; §7.4.1: 1002 for a protocol error.
                    rule = str(exc) if isinstance(exc, ProtocolViolation) else "malformed frame"
                    reason = f"WebSocket protocol error: {rule}"
                    self._fail_connection(CLOSE_PROTOCOL_ERROR, "protocol error", reason, str(exc))
                    reason += ": closed with 1002"
                    break
                except (OSError, websocket.WebSocketException, ValueError) as exc:
                    reason = f"connection error: {type(exc).__name__}"
                    break
                if opcode == _text:  # the common case first
                    self._on_message(data)
                    continue
                if opcode == _close:
                    reason = _close_reason(data)
                    self.close_detail = _close_text(data)
                    break
                if opcode == _binary:
                    self._protocol_error("binary frame (OCPP-J uses text frames)", data)
                    continue
                self._on_message(data)
        except gevent.GreenletExit:
            reason = "receive loop stopped"
        except BaseException as exc:  # a bug must not leave calls pending forever
            limited.error(("receive loop", type(exc).__name__), "receive loop failed: %s", sanitize(repr(exc)))
            reason = f"receive loop failed: {type(exc).__name__}"
        finally:
            if self._closing_by_us:
                reason = "closed by the charge point"
            elif self._abort_reason is not None:
                reason = self._abort_reason
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
                item.fail(CallCancelled("call stopped: the charge point closed the connection"))
            else:
                item.fail(ConnectionLost(f"connection lost: {reason}"))
        if self.on_close is not None:
            try:
                self.on_close(reason, by_us)
            except Exception as exc:
                log.error("on_close callback failed: %r", exc)

    def _fail_connection(self, code: int, text: str, reason: str, detail: str) -> None:
        """A frame we cannot take: a counted failure, then a close frame with ``code`` before the
        socket is dropped (the charge point reconnects: the CSMS caused it)."""
        if not self._closing_by_us:
            self._peer_ending = True
        self.close_detail = sanitize(detail)
        self.protocol_errors.append(ProtocolErrorRecord(time.time(), reason, sanitize(detail)))
        self._fire(PROTOCOL, "inbound frame", 0.0, 0, FrameError(reason).with_detail(detail))
        try:
            self.ws.send_close(code, text.encode())
        except Exception:
            return  # the socket is gone already; it is dropped either way
        _linger(self.ws.sock)

    def _on_message(self, raw: str | bytes) -> None:
        if self.wire_log is not None:
            self.wire_log("in", raw)
        # The common case first, read once: a CALLRESULT to a pending call (what parse() accepts as
        # one: message type the integer 3, an id of at most 36 characters, an object as payload).
        try:
            data = _loads(raw)
        except (ValueError, TypeError):
            data = None
        if type(data) is list and len(data) == 3:
            kind, message_id, payload = data
            if (
                type(kind) is int
                and kind == CALLRESULT
                and type(message_id) is str
                and type(payload) is dict
                and len(message_id) <= MAX_ID_LENGTH
            ):
                pending = self._pending.pop(message_id, None)
                if pending is not None:
                    reader = self._reader
                    pending.answer(payload, len(raw), reader.arrived_ns if reader is not None else 0)
                    return
        self._on_frame(raw)

    def _on_frame(self, raw: str | bytes) -> None:
        """Any inbound message but an answer to a pending call (and that, when it is no plain
        CALLRESULT), parsed in full."""
        try:
            frame = parse(raw)
        except FrameError as exc:
            # A CALL that is not valid OCPP-J is answered all the same (OCPP-J 1.6 §4.2.3), with its
            # id when it can be read, also when it is longer than 36 characters (§4.2.3: the id
            # "must be the exact same id that is in the call request"), else "-1" (OCPP 2.0.1
            # part 4 §4.2.3: "When also the MessageId cannot be read").
            call_id = peek_call_id(raw)
            if call_id is not None:
                gevent.spawn(self._refuse_call, call_id, exc, raw)
                return
            message_id = peek_message_id(raw)
            pending = self._pending.pop(message_id, None) if message_id is not None else None
            if pending is not None:
                failure = FrameError(f"invalid answer frame: {exc.reason}", raw).with_detail(exc.detail)
                pending.fail(failure)
            else:
                self._protocol_error(f"invalid frame: {exc.reason}", raw, detail=exc.detail)
            return
        if isinstance(frame, Call):
            gevent.spawn(self._handle_call, frame)
            return
        message_id = frame.message_id
        pending = self._pending.pop(message_id, None)
        if pending is None:
            if frame.message_id in self._given_up:
                # The answer to a call that timed out (already a failure) or that the harness stopped
                # waiting for: the call is accounted once, this answer is only counted.
                del self._given_up[frame.message_id]
                self.late_answers += 1
                return
            kind = "CALLRESULT" if isinstance(frame, CallResult) else "CALLERROR"
            if self._issued(message_id):
                # One of our ids, answered already (or given up on so long ago it is forgotten).
                self._protocol_error(f"duplicate {kind}: that call was answered already", raw, UnknownMessageId)
            else:
                self._protocol_error(f"{kind} with unknown message id", raw, UnknownMessageId)
            return
        reader = self._reader
        arrived_ns = reader.arrived_ns if reader is not None else 0
        pending.answer(frame.payload if isinstance(frame, CallResult) else frame, len(raw), arrived_ns)

    def _refuse_call(self, message_id: str, problem: FrameError, raw: str | bytes) -> None:
        """Answer a CALL that is not valid OCPP-J, so the CSMS is not left waiting: FormationViolation,
        "not conform the PDU structure" (OCPP-J 1.6 §4.2.3; 1.6 has no RpcFrameworkError, 2.0.1's
        code for an unreadable or too long id). ``message_id`` is the CALL's own id when it can be
        read, whatever its length, else "-1" (see :func:`~ocpp_users.ocppj.frames.peek_call_id`)."""
        reason = problem.reason
        error = FormationViolationError(f"invalid CALL frame: {reason}")
        answered = "answered FormationViolation"
        if len(message_id) > MAX_ID_LENGTH:
            answered += " with its over-long id"
        elif message_id == "-1":
            answered += ' with id "-1"'
        try:
            self._send(CallError(message_id, error.code, error.description, {}).to_json())
        except ConnectionLost:
            answered = "answer not sent: connection lost"
        self._protocol_error(f"invalid CALL frame ({answered}): {reason}", raw, detail=problem.detail)

    def _protocol_error(
        self, reason: str, raw: str | bytes, cls: type[FrameError] = FrameError, detail: str = ""
    ) -> None:
        self.protocol_errors.append(ProtocolErrorRecord(time.time(), reason, _raw_text(raw)))
        self._fire(PROTOCOL, "inbound frame", 0.0, len(raw), cls(reason, raw).with_detail(detail or raw))

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
            # The exception's text may repeat what the CSMS sent: it goes into our answer's
            # description and the log (sanitised, once per kind), not into the failure's name.
            kind = type(exc).__name__
            said = sanitize(f"{kind}: {exc}", 200)
            action = call.action if call.action in self.version.actions else "(unknown action)"
            limited.warning(("handler", action, kind), "handler for %s failed: %s", action, said)
            failure = InternalError(f"handler for {action} failed: {said}"[:255], reason=f"handler failed: {kind}")
            out = CallError(call.message_id, failure.code, failure.description, {})
        # A CSMS can make up any action name: unknown ones share one stats row.
        name = call.action if call.action in self.version.actions else "(unknown action)"
        try:
            raw = out.to_json()
            if self._closing_by_us:  # we are closing: the answer cannot go out, and that is ours
                if failure is None:
                    self._note_stopped(name)
                else:  # what the CSMS sent was wrong (or our handler failed) all the same
                    self._fire(CSMS_TO_CP, name, (time.perf_counter() - start) * 1000.0, 0, failure)
                return
            self._send(raw)
        except ConnectionLost as exc:
            if self._closing_by_us:  # cut off by our own close, after it began
                if failure is None:
                    self._note_stopped(name)
                else:
                    self._fire(CSMS_TO_CP, name, (time.perf_counter() - start) * 1000.0, 0, failure)
                return
            self._fire(CSMS_TO_CP, name, (time.perf_counter() - start) * 1000.0, 0, exc)
            return
        self._fire(CSMS_TO_CP, name, (time.perf_counter() - start) * 1000.0, len(raw), failure)
        if after is not None:
            try:
                after()
            except gevent.GreenletExit:
                raise
            except BaseException as exc:
                kind = type(exc).__name__
                limited.warning(("follow-up", name, kind), "follow-up of %s failed: %s", name, sanitize(repr(exc)))

    # ------------------------------------------------------------ events

    def _fire(
        self, request_type: str, name: str, response_time: float, length: int, exception: BaseException | None
    ) -> None:
        report(self.sink, request_type, name, response_time, length, exception)


_LINGER_SECONDS = 1.0
_LINGER_BYTES = 4 << 20


def _linger(sock: Any) -> None:
    """After our close frame: half-close, then read and discard what the peer still sends (at most
    1 s and 4 MiB, nothing kept) until it closes too. Closing a socket with unread data in it
    resets the connection, and a reset can destroy our close frame before the peer reads it."""
    if sock is None:
        return
    try:
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        return
    deadline = time.monotonic() + _LINGER_SECONDS
    drained = 0
    try:
        while drained < _LINGER_BYTES:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            sock.settimeout(remaining)
            chunk = sock.recv(65536)
            if not chunk:
                return
            drained += len(chunk)
    except (OSError, ValueError):
        return


def _close_data(frame: Any) -> bytes:
    # websocket-client's recv_data() hands over the close frame's payload (bytes), not the frame.
    data = frame if isinstance(frame, bytes | bytearray) else getattr(frame, "data", b"") or b""
    return bytes(data)


def _close_code_name(code: int) -> str:
    """A close code as a failure may name it: the codes RFC 6455 §7.4 and the IANA registry
    define (1000-1015) as they are; the 3000-4999 ranges by range (a CSMS could otherwise make
    2000 rows); anything else as invalid."""
    if 1000 <= code <= 1015:
        return f"code {code}"
    if 3000 <= code <= 3999:
        return "a code of the 3000-3999 range"
    if 4000 <= code <= 4999:
        return "a private code (4000-4999)"
    return "an invalid code"


def _close_reason(frame: Any) -> str:
    """Why the peer closed, for a failure's name: the close code, never the peer's text."""
    data = _close_data(frame)
    if len(data) >= 2:
        (code,) = struct.unpack("!H", data[:2])
        return f"closed by peer ({_close_code_name(code)})"
    return "closed by peer"


def _close_text(frame: Any) -> str:
    """The close frame as the peer sent it (code and its own text), sanitised, for the detail."""
    data = _close_data(frame)
    if len(data) >= 2:
        (code,) = struct.unpack("!H", data[:2])
        text = sanitize(data[2:], 123)
        return f"close code {code}{': ' + text if text else ''}"
    return ""
