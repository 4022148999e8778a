"""action.other_version: an OCPP 2.0.1 action on an ocpp1.6 connection."""

from __future__ import annotations

from typing import Any

from scenarios.robustness.base import register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.shapes import NOT_IMPLEMENTED, NOT_SUPPORTED_INSTEAD, CallCase, now


@register
class OtherVersion(CallCase):
    case_id = "action.other_version"
    title = "An OCPP 2.0.1 action on an ocpp1.6 connection (TransactionEvent)"
    clause = "OCPP-J 1.6 §3.1.2, §4.2.3"
    requirement = (
        "NotImplemented: Requested Action is not known by receiver. (The subprotocol agreed at the handshake, "
        "ocpp1.6, fixes the actions: TransactionEvent is not one of them.)"
    )
    sends = 'TransactionEvent {"eventType":"Started","timestamp":<now>,...}'
    action = "TransactionEvent"
    passed = (NOT_IMPLEMENTED,)
    non_strict = (NOT_SUPPORTED_INSTEAD, *CallCase.non_strict)
    order = 5

    def payload(self, ctx: RobustContext) -> Any:
        return {
            "eventType": "Started",
            "timestamp": now(),
            "triggerReason": "Authorized",
            "seqNo": 0,
            "transactionInfo": {"transactionId": "rb-1"},
        }
