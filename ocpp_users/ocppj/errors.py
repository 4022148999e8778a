"""Errors of the engine: one class per OCPP-J error code, plus transport and protocol failures.

Every class renders as ``ClassName('reason')`` with a reason that names no charge point and no
message id, so Locust groups failures by reason rather than one row per charge point. A reason
carries no text the CSMS chose either (a CALLERROR's description, a close reason, a handshake
answer, a property name): a CSMS would decide how many rows the stats get and how long their
names are. What the CSMS said goes into ``detail`` (escaped and bounded by
:func:`~ocpp_users.ocppj.text.sanitize`), for the logs and the compliance report.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Self

from ocpp_users.ocppj.text import sanitize


class ErrorCode(StrEnum):
    """OCPP-J 1.6 §4.2.3 CallError codes, with the 1.6 spellings on the wire."""

    not_implemented = "NotImplemented"
    not_supported = "NotSupported"
    internal_error = "InternalError"
    protocol_error = "ProtocolError"
    security_error = "SecurityError"
    formation_violation = "FormationViolation"
    property_constraint_violation = "PropertyConstraintViolation"
    occurence_constraint_violation = "OccurenceConstraintViolation"
    type_constraint_violation = "TypeConstraintViolation"
    generic_error = "GenericError"


class VolatileOcppError(Exception):
    """Base of every error the engine raises on purpose."""

    detail: str = ""
    """What the peer said that the reason leaves out (escaped, bounded); empty when nothing."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def with_detail(self, text: object) -> Self:
        """Attach the peer's own words (sanitised); returns ``self``."""
        self.detail = sanitize(text) if text not in (None, "", b"") else ""
        return self

    def __str__(self) -> str:
        return self.reason


# ---------------------------------------------------------------- CALLERROR codes


#: Every error code OCPP-J defines: 1.6 (§4.2.3, Table 7) and 2.0.1 (part 4 §4.3, Table 8).
KNOWN_CODES: frozenset[str] = frozenset(
    {
        *(code.value for code in ErrorCode),
        "FormatViolation",
        "OccurrenceConstraintViolation",
        "MessageTypeNotSupported",
        "RpcFrameworkError",
    }
)

UNKNOWN_CODE_NAME = "(not an OCPP-J error code)"
"""How a failure names a CALLERROR whose code OCPP-J does not define (the code is in ``detail``)."""


class OcppCallError(VolatileOcppError):
    """A CALLERROR: raised by a handler to answer one, or raised to a caller that received one.

    ``code`` is what was (or will be) on the wire: a CSMS that sends a 2.0.1 spelling
    (``FormatViolation``, ``OccurrenceConstraintViolation``) is reported as it sent it.
    ``description`` is the errorDescription on the wire. The failure's name (``str()``) is
    ``CALLERROR <code>`` plus ``reason``, a bounded text of our own when the raiser gives one:
    never the description, which the sender chooses (a received one is in ``detail``).
    """

    code: str = ErrorCode.generic_error

    def __init__(
        self,
        description: str = "",
        details: dict[str, Any] | None = None,
        code: str | None = None,
        *,
        reason: str = "",
    ):
        if code is not None:
            self.code = code
        self.description = description
        self.details: dict[str, Any] = details or {}
        shown = self.code if self.code in KNOWN_CODES else UNKNOWN_CODE_NAME
        text = f"CALLERROR {shown}"
        if reason:
            text += f": {reason}"
        super().__init__(text)
        said = f"code {sanitize(self.code, 60)}; " if shown != self.code else ""
        if description or said:
            self.detail = f"{said}{sanitize(description)}" if description else said.rstrip("; ")


class NotImplementedCallError(OcppCallError):
    """From the specification: "Requested Action is not known by receiver"."""

    code = ErrorCode.not_implemented


class NotSupportedError(OcppCallError):
    """From the specification: "Requested Action is recognized but not supported by the receiver"."""

    code = ErrorCode.not_supported


class InternalError(OcppCallError):
    """From the specification: "An internal error occurred and the receiver was not able to process
    the requested Action successfully"."""

    code = ErrorCode.internal_error


class ProtocolCallError(OcppCallError):
    """From the specification: "Payload for Action is incomplete"."""

    code = ErrorCode.protocol_error


class SecurityCallError(OcppCallError):
    """From the specification: "During the processing of Action a security issue occurred preventing
    receiver from completing the Action successfully"."""

    code = ErrorCode.security_error


class FormationViolationError(OcppCallError):
    """From the specification: "Payload for Action is syntactically incorrect or not conform the PDU
    structure for Action"."""

    code = ErrorCode.formation_violation


class PropertyConstraintViolationError(OcppCallError):
    """From the specification: "Payload is syntactically correct but at least one field contains an
    invalid value"."""

    code = ErrorCode.property_constraint_violation


class OccurenceConstraintViolationError(OcppCallError):
    """From the specification: "Payload for Action is syntactically correct but at least one of the
    fields violates occurence constraints"."""

    code = ErrorCode.occurence_constraint_violation


class TypeConstraintViolationError(OcppCallError):
    """From the specification: "Payload for Action is syntactically correct but at least one of the
    fields violates data type constraints (e.g. "somestring": 12)"."""

    code = ErrorCode.type_constraint_violation


class GenericError(OcppCallError):
    """From the specification: "Any other error not covered by the previous ones"."""

    code = ErrorCode.generic_error


class UnknownCallErrorCode(OcppCallError):
    """A CALLERROR whose code is not one OCPP-J defines; ``code`` keeps what was sent."""


_BY_CODE: dict[str, type[OcppCallError]] = {
    ErrorCode.not_implemented: NotImplementedCallError,
    ErrorCode.not_supported: NotSupportedError,
    ErrorCode.internal_error: InternalError,
    ErrorCode.protocol_error: ProtocolCallError,
    ErrorCode.security_error: SecurityCallError,
    ErrorCode.formation_violation: FormationViolationError,
    "FormatViolation": FormationViolationError,  # OCPP 2.0.1 spelling
    ErrorCode.property_constraint_violation: PropertyConstraintViolationError,
    ErrorCode.occurence_constraint_violation: OccurenceConstraintViolationError,
    "OccurrenceConstraintViolation": OccurenceConstraintViolationError,  # OCPP 2.0.1 spelling
    ErrorCode.type_constraint_violation: TypeConstraintViolationError,
    ErrorCode.generic_error: GenericError,
}


def call_error_for(code: str, description: str = "", details: dict[str, Any] | None = None) -> OcppCallError:
    """The error class for a received code (1.6 and 2.0.1 spellings alike), keeping the code as sent."""
    cls = _BY_CODE.get(code, UnknownCallErrorCode)
    return cls(description, details, code=code)


# ---------------------------------------------------------------- engine failures


class CallTimeout(VolatileOcppError):
    """No CALLRESULT or CALLERROR arrived within the call timeout."""


class CallCancelled(VolatileOcppError):
    """The harness stopped waiting for a call: its caller was killed, the caller's own timeout fired,
    or the charge point closed the connection itself (a run ending, users stopping, a reboot).
    What the harness does to itself is never a CSMS failure: such a call fires no request event; it
    is reported to the connection's ``on_stopped`` listener instead."""


class CallNotSent(VolatileOcppError):
    """A call the charge point never sent because its previous call was still unanswered (OCPP-J
    1.6 §4.1.1: one outstanding CALL at a time). Reported apart from round trips, with 0 ms."""


class ConnectionLost(VolatileOcppError):
    """The connection closed (or was never open) while a call was pending."""


class SchemaViolation(VolatileOcppError):
    """A payload breaks its official OCPP 1.6 JSON schema; the reason names the field and the rule."""

    def __init__(self, reason: str, *, field: str = "", rule: str = "", payload: Any = None, precise: str = "") -> None:
        super().__init__(reason)
        self.field = field
        """The field's exact path (``meterValue.0.timestamp``); the reason names it without indices."""
        self.rule = rule
        self.payload = payload
        self.precise = precise or reason
        """The violation with the exact path and property names (for a CALLERROR's description)."""


class FrameError(VolatileOcppError):
    """An inbound frame that is not valid OCPP-J: not JSON, not an array, wrong type or arity."""

    def __init__(self, reason: str, raw: str | bytes = "") -> None:
        super().__init__(reason)
        self.raw = raw


class UnknownMessageId(FrameError):
    """A CALLRESULT or CALLERROR whose message id matches no pending call."""


class IllegalStatusChange(VolatileOcppError):
    """A StatusNotification the 1.6 state table forbids; the engine refuses to send it."""


class RejectedError(VolatileOcppError):
    """The CSMS answered correctly but refused: Boot Rejected, Authorize Blocked, and the like."""

    def __init__(self, reason: str, payload: Any = None) -> None:
        super().__init__(reason)
        self.payload = payload


class TransportError(VolatileOcppError):
    """The WebSocket connection could not be made: refused, unreachable, TLS, DNS."""


class HandshakeRefused(TransportError):
    """The server answered the WebSocket upgrade with an HTTP error status."""

    def __init__(self, reason: str, status: int = 0) -> None:
        super().__init__(reason)
        self.status = status


class AuthenticationFailed(HandshakeRefused):
    """HTTP 401/403 on the upgrade: Basic auth credentials or client certificate refused."""


class SubprotocolMismatch(TransportError):
    """The server did not agree to ``ocpp1.6``; the reason names what it answered."""
