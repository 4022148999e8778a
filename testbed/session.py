"""One live charge point connection: frame I/O, recording, fault interception, outbound calls.

This is the single place where frames enter and leave the CSMS, and therefore the
single place where the fault switch is consulted for OCPP traffic.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, Literal

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from testbed import rawframes, robust_faults, sanity
from testbed.ca import CaError
from testbed.dispatch import dispatch, implemented
from testbed.faults import CLOSE_CODE, Bomb, FaultSwitch, Out, Raw
from testbed.frames import CALL, CALLERROR, CALLRESULT, CallErrorInfo, Frame, Reply, call_frame, parse, result_frame
from testbed.handlers import CsmsHandlers
from testbed.logsetup import loggable_frame
from testbed.state import Message, Store
from testbed.validation import error, validate_request

LOG = logging.getLogger("testbed.session")
FRAME_LOG = logging.getLogger("testbed.frames")
_MAX_REMEMBERED_IDS = 1000
_MAX_SEEN_CALL_IDS = 10000


@dataclass(frozen=True)
class CallOutcome:
    """Result of a CSMS-initiated call made through the control API."""

    kind: Literal["result", "error", "timeout", "closed", "ignored", "garbage", "sent"]
    payload: Any = None
    error: CallErrorInfo | None = None
    unique_id: str | None = None


def _remember(ids: dict[str, str | None], unique_id: str, action: str | None) -> None:
    ids[unique_id] = action
    while len(ids) > _MAX_REMEMBERED_IDS:
        del ids[next(iter(ids))]


class Session(CsmsHandlers):
    def __init__(self, cp_id: str, ws: ServerConnection, store: Store, faults: FaultSwitch, log_frames: bool) -> None:
        super().__init__(cp_id, ws, store)
        self.ws = ws
        self.faults = faults
        self.log_frames = log_frames
        self.record = store.cp(cp_id)
        self.closing = False
        # (CALL, its message id was used before, a robustness fault accepts it as valid)
        self._calls: asyncio.Queue[tuple[Frame, bool, bool]] = asyncio.Queue()
        self._pending: dict[str, asyncio.Future[Frame | None]] = {}
        self._in_calls: dict[str, str | None] = {}  # CALLs received: id -> action
        self._out_calls: dict[str, str | None] = {}  # CALLs sent: id -> action
        self._out_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._seen_call_ids: dict[str, None] = {}  # every CALL id received on this connection (bounded)
        self.hung = False  # a robustness fault hung this connection: nothing more is answered
        self._flood = robust_faults.FloodMeter()

    # --- lifecycle --------------------------------------------------------------

    async def run(self) -> None:
        worker = asyncio.create_task(self._call_worker())
        try:
            async for message in self.ws:
                try:
                    self._on_frame(message)
                except Exception as exc:  # never let one frame kill the connection
                    LOG.error("%s: error handling frame: %s: %s", self.id, type(exc).__name__, exc)
        except ConnectionClosed:
            pass
        finally:
            worker.cancel()
            for future in self._pending.values():
                if not future.done():
                    future.set_result(None)

    def close(self, code: int, reason: str) -> None:
        """Start closing the connection (non-blocking); stop processing frames."""
        if self.closing:
            return
        self.closing = True
        LOG.info("%s: closing connection (%d %s)", self.id, code, reason)
        self._spawn(self.ws.close(code, reason))

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # --- inbound ----------------------------------------------------------------

    def _on_frame(self, message: str | bytes) -> None:
        if isinstance(message, bytes):
            raw = message.decode("utf-8", "replace")
            self._record("in", raw, Frame(problem="binary frame"))
            if robust_faults.dropping(self):
                return
            if self._robust_frame(message, Frame(problem="binary frame")) == "accept":
                self._spawn(self._send_raw(result_frame("-1", {})))
                return
            LOG.warning("%s: ignoring binary frame (%d bytes); OCPP-J uses text frames", self.id, len(message))
            return
        frame = parse(message)
        self._record("in", message, frame)
        if self.closing or robust_faults.dropping(self):
            return
        effect = self._robust_frame(message, frame)
        if effect == "hang":
            return
        accepted = effect == "accept"
        if accepted and not (frame.type == CALL and frame.unique_id is not None):
            # a robustness fault: an invalid frame answered as if it were a valid CALL
            self._spawn(self._send_raw(result_frame(frame.unique_id or "-1", {})))
            return
        if frame.type == CALL and frame.action is not None:
            self.record.counts[frame.action] = self.record.counts.get(frame.action, 0) + 1
        if self.faults.close_on_frame(self.id):
            self.close(CLOSE_CODE, "fault close_after")
            return
        if frame.type == CALL and frame.unique_id is not None:
            # OCPP-J 1.6 §4.1.4: a CALL's message id "MUST be different from all message IDs previously
            # used by the same sender for CALL messages on the same WebSocket connection".
            reused = frame.unique_id in self._seen_call_ids
            self._seen_call_ids[frame.unique_id] = None
            while len(self._seen_call_ids) > _MAX_SEEN_CALL_IDS:
                del self._seen_call_ids[next(iter(self._seen_call_ids))]
            self._calls.put_nowait((frame, reused, accepted))
        elif frame.type in (CALLRESULT, CALLERROR) and frame.unique_id is not None:
            future = self._pending.pop(frame.unique_id, None)
            if future is None or future.done():
                effect = robust_faults.fire(self.faults.active, {"semantic"}, self)
                if effect == "accept":
                    self._spawn(self._send_raw(result_frame(frame.unique_id, {})))
                    return
                LOG.warning("%s: ignoring response with unknown message id %r", self.id, frame.unique_id)
            else:
                future.set_result(frame)
        else:
            LOG.warning("%s: ignoring malformed frame (%s)", self.id, frame.problem)

    def _robust_frame(self, message: str | bytes, frame: Frame) -> robust_faults.Effect:
        """Offer a received frame to an armed robustness fault (see :func:`robust_faults.fire`)."""
        on = robust_faults.armed(self.faults.active)
        if on is None:
            return None
        kinds: set[str] = set()
        if frame.problem is not None and not (frame.type == CALL and frame.unique_id is not None):
            kinds.add("invalid_frame")  # (a malformed CALL with a readable id is answered in _answer)
        if on == "large" and robust_faults.is_large(message):
            kinds.add("large")
        if on == "abuse" and self._flood.tick():
            kinds.add("abuse")
        if on == "session" and frame.type == CALL and frame.action != "BootNotification" and not self.record.booted:
            kinds.add("session")
        return robust_faults.fire(self.faults.active, kinds, self)

    def _robust_call(self, frame: Frame, reused: bool) -> robust_faults.Effect:
        """Offer a CALL about to be answered to an armed robustness fault."""
        if robust_faults.armed(self.faults.active) is None:
            return None
        kinds: set[str] = set()
        if frame.problem is not None or frame.action is None:
            kinds.add("invalid_frame")
        elif not implemented(self, frame.action):
            kinds.add("unknown_action")
        elif validate_request(frame.action, frame.payload) is not None:
            kinds.add("schema_invalid")
        elif sanity.oddities(self.store, self.id, frame.action, frame.payload):
            kinds.add("semantic")
        if reused:
            kinds.add("semantic")
        return robust_faults.fire(self.faults.active, kinds, self)

    async def _call_worker(self) -> None:
        """Answer CALLs one at a time, in arrival order."""
        while True:
            frame, reused, accepted = await self._calls.get()
            try:
                await self._answer(frame, reused, accepted)
            except ConnectionClosed:
                return
            except Exception as exc:
                LOG.error("%s: error answering %s: %s: %s", self.id, frame.action, type(exc).__name__, exc)

    async def _answer(self, frame: Frame, reused: bool = False, accepted: bool = False) -> None:
        assert frame.unique_id is not None
        if self.closing or robust_faults.dropping(self):
            return
        effect = self._robust_call(frame, reused)
        if effect == "hang":
            return
        accept = accepted or effect == "accept"
        if (frame.problem is not None or frame.action is None) and not accept:
            LOG.warning("%s: malformed CALL: %s", self.id, frame.problem)
            reply = Reply(error=error("FormationViolation", frame.problem))
        elif reused and not accept:
            LOG.warning("%s: CALL %s reuses message id %r", self.id, frame.action, frame.unique_id)
            reply = Reply(error=error("GenericError", "message id already used on this connection (OCPP-J §4.1.4)"))
        elif frame.action is None or frame.problem is not None:
            reply = Reply(payload={})  # a robustness fault: a malformed CALL answered as if valid
        else:
            if self.faults.close_on_call(frame.action):
                self.close(CLOSE_CODE, "fault drop_on_boot")
                return
            reply = await dispatch(self, frame.action, frame.payload, check=not accept)
            if accept and reply.error is not None:
                reply = Reply(payload={})  # a robustness fault: answered as if valid whatever happened
            if reply.error is not None:
                LOG.info("%s: %s answered with CALLERROR %s", self.id, frame.action, reply.error.code)
        _remember(self._in_calls, frame.unique_id, frame.action)
        plan = self.faults.plan_reply(frame.action, frame.unique_id, reply)
        slow = robust_faults.delay()
        if plan.delay > 0 or slow > 0:
            await asyncio.sleep(plan.delay + slow)
        for out in plan.frames:
            if self.closing:
                return
            await self._send_out(out)
            sent = parse(out) if isinstance(out, str) else None
            if (
                sent is not None
                and frame.action == "SignCertificate"
                and sent.type == CALLRESULT
                and sent.unique_id == frame.unique_id
                and isinstance(sent.payload, dict)
                and sent.payload.get("status") == "Accepted"
                and self.store.ca is not None
                and self.store.config.auto_sign
            ):
                # The CA signs at once and the certificate follows (A02 steps 6-9).
                self._spawn(self.send_certificate(self.faults.bad_certificate()))

    async def send_certificate(self, bad: str | None = None, timeout: float = 30.0) -> CallOutcome:
        """Sign the last CSR with the testbed's CA and send it in a CertificateSigned.req."""
        ca, record = self.store.ca, self.record
        if ca is None or record.csr is None:
            return CallOutcome("closed")
        try:
            issued = ca.issue(record.csr, bad)
        except CaError as exc:
            LOG.warning("%s: cannot sign the CSR: %s", self.id, exc)
            return CallOutcome("closed")
        entry: dict[str, Any] = {"note": issued.note, "certificateChain": issued.chain}
        record.certificates_signed.append(entry)
        outcome = await self.send_call("CertificateSigned", {"certificateChain": issued.chain}, timeout, True)
        entry["outcome"] = outcome.kind
        if outcome.kind == "result" and isinstance(outcome.payload, dict):
            entry["status"] = outcome.payload.get("status")
        LOG.info("%s: CertificateSigned (%s): %s", self.id, issued.note, entry.get("status", outcome.kind))
        return outcome

    # --- outbound ---------------------------------------------------------------

    async def _send_out(self, out: Out) -> None:
        if isinstance(out, str):
            await self._send_raw(out)
        elif isinstance(out, bytes):
            self._record("out", f"(binary frame, {len(out)} bytes)", Frame(problem="binary frame"))
            await self.ws.send(out)
        elif isinstance(out, Raw):
            self._record("out", f"(raw frame bytes: {out.data[:200]!r})", Frame(problem="raw frame"))
            self.ws.transport.write(out.data)
        else:
            await self._bomb(out)

    async def _bomb(self, bomb: Bomb) -> None:
        """A text frame header announcing ``bomb.size`` bytes, then filler as fast as the peer reads
        it, until ``bomb.limit`` bytes went out or the connection closed."""
        transport = self.ws.transport
        self._record("out", f"(frame header announcing {bomb.size} bytes)", Frame(problem="length bomb"))
        transport.write(rawframes.header(rawframes.TEXT, bomb.size))
        filler = b"[" * 65536
        sent = 0
        while sent < bomb.limit and not transport.is_closing():
            if transport.get_write_buffer_size() > 1 << 20:
                await asyncio.sleep(0.002)
                continue
            piece = filler[: min(len(filler), bomb.limit - sent)]
            transport.write(piece)
            sent += len(piece)
            self.record.bomb_bytes += len(piece)
            await asyncio.sleep(0)
        LOG.info("%s: length bomb: %d of %d announced bytes sent", self.id, sent, bomb.size)

    async def _send_raw(self, raw: str) -> None:
        frame = parse(raw)
        message = self._record("out", raw, frame)
        if frame.type == CALLRESULT and message.action == "BootNotification" and isinstance(frame.payload, dict):
            self.record.booted = frame.payload.get("status") == "Accepted"
        await self.ws.send(raw)

    async def send_call(self, action: str, payload: Any, timeout: float, wait: bool) -> CallOutcome:
        """Send a CSMS-initiated CALL (payload not validated).  One outstanding call at a time."""
        mode = self.faults.outbound_mode(action)
        if mode == "ignore":
            return CallOutcome("ignored")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            await asyncio.wait_for(self._out_lock.acquire(), timeout)
        except TimeoutError:
            return CallOutcome("timeout")
        handed_off = False
        try:
            unique_id = str(uuid.uuid4())
            if mode == "garbage":
                await self._send_raw(self.faults.garbage_call(unique_id, action))
                return CallOutcome("garbage", unique_id=unique_id)
            future: asyncio.Future[Frame | None] = loop.create_future()
            spoiled = self.faults.outbound_id(action, unique_id)
            unique_id = spoiled if isinstance(spoiled, str) else "-1"  # a number: the answer can only say "-1"
            self._pending[unique_id] = future
            _remember(self._out_calls, unique_id, action)
            payload = self.faults.outbound_payload(action, payload)
            await self._send_raw(call_frame(spoiled, action, payload))
            for _ in range(self.faults.repeats(action) - 1):
                again = str(uuid.uuid4())  # answers to these are recorded, not awaited
                _remember(self._out_calls, again, action)
                await self._send_raw(call_frame(again, action, payload))
            if not wait:
                self._spawn(self._await_response(unique_id, future, deadline, release=True, sent=(action, payload)))
                handed_off = True
                return CallOutcome("sent", unique_id=unique_id)
            return await self._await_response(unique_id, future, deadline, release=False, sent=(action, payload))
        except ConnectionClosed:
            return CallOutcome("closed")
        finally:
            if not handed_off:
                self._out_lock.release()

    async def _await_response(
        self,
        unique_id: str,
        future: asyncio.Future[Frame | None],
        deadline: float,
        release: bool,
        sent: tuple[str, Any] | None = None,
    ) -> CallOutcome:
        try:
            remaining = max(0.0, deadline - asyncio.get_running_loop().time())
            frame = await asyncio.wait_for(future, remaining)
        except TimeoutError:
            LOG.warning("%s: no answer to message %s within the timeout", self.id, unique_id)
            return CallOutcome("timeout", unique_id=unique_id)
        finally:
            self._pending.pop(unique_id, None)
            if release:
                self._out_lock.release()
        if frame is None:
            return CallOutcome("closed", unique_id=unique_id)
        if frame.type == CALLERROR:
            return CallOutcome("error", error=frame.error, unique_id=unique_id)
        if sent is not None:
            self._answered(sent[0], sent[1], frame.payload)
        return CallOutcome("result", payload=frame.payload, unique_id=unique_id)

    def _answered(self, action: str, payload: Any, result: Any) -> None:
        """What the CSMS learns from a charge point's answer: a new AuthorizationKey it Accepted is
        that charge point's password from now on (the security whitepaper, A01.FR.03); a
        SecurityProfile it Accepted is the lowest profile it may use once connected with it (A05.FR.09)."""
        if (
            action == "ChangeConfiguration"
            and isinstance(payload, dict)
            and str(payload.get("key", "")).casefold() == "securityprofile"
            and isinstance(result, dict)
            and result.get("status") == "Accepted"
            and str(payload.get("value", "")).strip() in ("1", "2", "3")
        ):
            profile = int(str(payload["value"]).strip())
            self.record.upgraded_profile = max(self.record.upgraded_profile or 0, profile)
            LOG.info("%s: security profile %d accepted; no lower one once connected with it", self.id, profile)
        if (
            action == "ChangeConfiguration"
            and isinstance(payload, dict)
            and str(payload.get("key", "")).casefold() == "authorizationkey"
            and isinstance(result, dict)
            and result.get("status") == "Accepted"
            and not self.faults.keep_old_password()
            and self.store.passwords.authorization_key_accepted(self.id, payload.get("value"))
        ):
            LOG.info("%s: new AuthorizationKey accepted; the old password is refused from now on", self.id)

    # --- recording --------------------------------------------------------------

    def _record(self, direction: str, raw: str, frame: Frame) -> Message:
        action = frame.action
        if frame.type in (CALLRESULT, CALLERROR) and frame.unique_id is not None:
            ids = self._out_calls if direction == "in" else self._in_calls
            action = ids.pop(frame.unique_id, None)
        payload = frame.payload if frame.type is not None else None
        message = Message(time.time(), direction, frame.type, frame.unique_id, action, payload, raw)
        self.record.messages.append(message)
        if self.log_frames:
            FRAME_LOG.info("%s %s %s", self.id, "<-" if direction == "in" else "->", loggable_frame(raw))
        return message
