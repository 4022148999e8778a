"""payload.enum_stop_reason: StopTransaction with reason "Stolen"."""

from __future__ import annotations

from typing import Any

from scenarios.robustness.base import register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.shapes import PROPERTY, CallCase, now


@register
class EnumStopReason(CallCase):
    case_id = "payload.enum_stop_reason"
    title = 'A transaction-related message with a value outside its enumeration (StopTransaction.reason "Stolen")'
    clause = "OCPP-J 1.6 §4.2.3; StopTransaction.json (enum); OCPP 1.6 §7.34"
    requirement = (
        "PropertyConstraintViolation: Payload is syntactically correct but at least one field contains an invalid "
        "value. (Reason: EmergencyStop, EVDisconnected, HardReset, Local, Other, PowerLoss, Reboot, Remote, "
        "SoftReset, UnlockCommand, DeAuthorized.)"
    )
    sends = 'StopTransaction {"transactionId":<unknown>,"meterStop":0,"timestamp":<now>,"reason":"Stolen"}'
    action = "StopTransaction"
    rule = "enum"
    passed = (PROPERTY,)
    order = 12

    def payload(self, ctx: RobustContext) -> Any:
        tx = ctx.options.unknown_transaction_id
        return {"transactionId": tx, "meterStop": 0, "timestamp": now(), "reason": "Stolen"}
