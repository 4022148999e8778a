"""Shapes most cases share: one CALL with a hostile payload, checked against the official schema
before it goes out; and the error codes OCPP-J 1.6 §4.2.3 names for each schema rule."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from ocpp_users.ocppj.errors import TransportError
from ocpp_users.ocppj.transport import SecurityConfig
from scenarios.results import NotApplicable
from scenarios.robustness.base import RobustCase
from scenarios.robustness.connection import HostileConnection, SendFailed
from scenarios.robustness.context import BOOT, RobustContext, SetupFailed, dumps
from scenarios.robustness.expect import CallError, Closed, Custom, Dropped, Refused, Result
from scenarios.robustness.outcome import Outcome, Waits, observe
from scenarios.robustness.schema import must_conform, must_violate

# OCPP-J 1.6 §4.2.3, Table 7, per JSON-schema rule (the OCPP 2.0.1 spellings match as well).
OCCURRENCE = CallError("OccurenceConstraintViolation", "ProtocolError")
"""required / minItems: "violates occurence constraints"; ProtocolError: "Payload for Action is incomplete"."""
TYPE = CallError("TypeConstraintViolation")
"""type: "violates data type constraints (e.g. "somestring": 12)"."""
PROPERTY = CallError("PropertyConstraintViolation")
"""enum, and constraints of the field tables: "at least one field contains an invalid value"."""
LENGTH = CallError("TypeConstraintViolation", "PropertyConstraintViolation")
"""maxLength: CiString20Type is a data type (TypeConstraint), its length a constraint on the value
(PropertyConstraint); implementations answer either."""
FORMAT_TIME = CallError("TypeConstraintViolation", "PropertyConstraintViolation", "FormationViolation")
"""format date-time: the dateTime type (TypeConstraint), an invalid value (PropertyConstraint), or
"syntactically incorrect" (FormationViolation)."""
STRUCTURE = CallError("FormationViolation", "ProtocolError")
"""additionalProperties: "not conform the PDU structure" (1.6 FormationViolation, 2.0.1 ProtocolError)."""
NOT_IMPLEMENTED = CallError("NotImplemented")
"""NotImplemented: "Requested Action is not known by receiver"."""
NOT_SUPPORTED = CallError("NotSupported")
"""NotSupported: "Requested Action is recognized but not supported by the receiver"."""
NOT_SUPPORTED_INSTEAD = CallError("NotSupported", why="NotSupported is for an action the receiver knows")
NOT_IMPLEMENTED_INSTEAD = CallError(
    "NotImplemented", why="NotImplemented says the action is unknown; the CSMS knows it, it just does not take it"
)


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def fresh_connection(ctx: RobustContext) -> HostileConnection:
    """A connection as a charge point that never booted (``--fresh-cp-id``, else a new random id); a CSMS
    that lets no unknown charge point in makes the case NOT APPLICABLE."""
    cp_id = ctx.options.fresh_cp_id or f"{ctx.options.cp_id}-FRESH-{ctx.token}"
    try:
        conn = ctx.target = ctx.open(cp_id)
    except TransportError as exc:
        raise NotApplicable(
            f"the CSMS refused the handshake of {cp_id} ({exc}); give --fresh-cp-id, a charge point it knows that "
            "has not booted"
        ) from None
    return conn


class CallCase(RobustCase):
    """One CALL of ``action`` with :meth:`payload`; ``rule`` names the schema rule the payload breaks
    (checked before sending), ``"valid"`` a payload the schema accepts, None no check."""

    action: ClassVar[str] = ""
    rule: ClassVar[str | None] = None

    def payload(self, ctx: RobustContext) -> Any:
        raise NotImplementedError

    def run(self, ctx: RobustContext) -> Outcome:
        payload = self.payload(ctx)
        if self.rule == "valid":
            must_conform(self.action, payload)
        elif self.rule is not None:
            must_violate(self.action, payload, self.rule)
        message_id = ctx.new_id()
        ctx.send(ctx.conn, dumps([2, message_id, self.action, payload]), message_id)
        return ctx.observe(ctx.conn, {message_id}, sentinel=self.bad_input)


class TransactionCase(CallCase):
    """A case that starts transactions first; its clean-up stops every one it started."""

    def __init__(self) -> None:
        self.started: list[int] = []

    def start(self, ctx: RobustContext, connector_id: int = 1, meter_start: int = 0) -> int:
        """A valid StartTransaction; its transactionId, or SetupFailed (the CSMS must give one, §4.8)."""
        payload = {
            "connectorId": connector_id,
            "idTag": ctx.options.id_tag,
            "meterStart": meter_start,
            "timestamp": now(),
        }
        outcome = ctx.call(ctx.conn, "StartTransaction", payload)
        answer = outcome.first
        tx = answer.payload.get("transactionId") if answer is not None and answer.kind == "result" else None
        if not isinstance(tx, int) or isinstance(tx, bool):
            raise SetupFailed(f"StartTransaction (a valid one) not answered with a transactionId: {outcome.describe()}")
        self.started.append(tx)
        return tx

    def stop_payload(self, tx: int, meter_stop: int = 0) -> dict[str, Any]:
        return {"transactionId": tx, "meterStop": meter_stop, "timestamp": now(), "reason": "Local"}

    def cleanup(self, ctx: RobustContext) -> None:
        if not self.started:
            return
        conn = ctx.open(label="clean-up")
        ctx.call(conn, "BootNotification", BOOT)
        for tx in self.started:
            ctx.call(conn, "StopTransaction", self.stop_payload(tx))
        conn.close()


def _closed_without_header(outcome: Outcome) -> bool:
    return bool(outcome.handshake) and not outcome.extra.get("agreed") and outcome.kind == "closed"


SUBPROTOCOL_PASSED = (
    Custom("the handshake completed without a Sec-WebSocket-Protocol header, then closed", _closed_without_header),
)
SUBPROTOCOL_NON_STRICT = (
    Refused(
        why="refusing the upgrade (HTTP 4xx) is what most WebSocket libraries do; OCPP-J asks for a completed "
        "handshake and a close"
    ),
)


def subprotocol_outcome(ctx: RobustContext, protocols: list[str] | None) -> Outcome:
    """Offer ``protocols``; if the CSMS completes the handshake, wait for it to close, and if it does not,
    see whether it serves OCPP (a BootNotification) on a connection without an agreed subprotocol."""
    conn, what, status = ctx.open_offering(protocols)
    if conn is None:
        return Outcome(refused=what, http_status=status)
    ctx.target = conn
    outcome = Outcome(handshake=what)
    outcome.extra["agreed"] = conn.subprotocol
    received = conn.receive(min(ctx.options.answer_timeout, 1.0))  # "immediately close"
    if received is not None and received.kind in ("close", "eof", "oversized"):
        outcome.closed = received
        return outcome
    boot = ctx.call(conn, "BootNotification", BOOT)
    outcome.answers, outcome.garbage, outcome.stray = boot.answers, boot.garbage, boot.stray
    outcome.closed, outcome.send_error = boot.closed, boot.send_error
    if not boot.answers and boot.closed is None:
        outcome.silence = f"the connection stayed open {ctx.options.answer_timeout:g} s and more"
    return outcome


CREDENTIALS_PASSED = (Refused(401),)
CREDENTIALS_NON_STRICT = (
    Refused(why="refused, with another status than the 401 of HTTP Basic"),
    Closed(why="let in, but closed before answering"),
    CallError(why="let in, but its calls refused"),
)


def credentials_outcome(
    ctx: RobustContext, security: SecurityConfig, extra_headers: list[str] | None = None
) -> Outcome:
    """Connect with these credentials; if let in, send a BootNotification."""
    try:
        conn = ctx.open(security=security, extra_headers=extra_headers)
    except TransportError as exc:
        return ctx.refused(exc)
    ctx.target = conn
    outcome = ctx.call(conn, "BootNotification", BOOT)
    outcome.handshake = "the handshake completed (the credentials let in)"
    return outcome


class LargeFrameCase(RobustCase):
    """A schema-valid DataTransfer whose ``data`` makes the frame exactly ``size`` bytes, streamed in chunks."""

    size: ClassVar[int] = 0
    bad_input = False

    def run(self, ctx: RobustContext) -> Outcome:
        message_id = ctx.new_id()
        prefix = f'[2,"{message_id}","DataTransfer",{{"vendorId":"org.volatileocpp.robustness","data":"'.encode()
        suffix = b'"}]'
        count = self.size - len(prefix) - len(suffix)
        ctx.conn.send_call_id(message_id)
        try:
            ctx.conn.send_large_text(prefix, b"x", count, suffix, ctx.options.size_timeout)
        except SendFailed:
            pass
        waits = Waits(max(ctx.options.answer_timeout, ctx.options.size_timeout), ctx.options.quick, ctx.options.grace)
        return observe(ctx.conn, {message_id}, waits, ctx.sentinels, sentinel=False)


LARGE_PASSED = (
    Result("DataTransfer.conf (the data length is a matter between the parties, OCPP 1.6 §4.3)"),
    CallError(label="CALLERROR (any code)"),
    Closed(why="", label="the connection closed (RFC 6455 §7.4.1: 1009, message too big to process)"),
)
LARGE_NON_STRICT = (Dropped(why="the message dropped without a word"),)
