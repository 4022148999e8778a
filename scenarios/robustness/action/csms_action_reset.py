"""action.csms_action_reset: Reset, a Central System's call, sent by the charge point."""

from __future__ import annotations

from typing import Any

from scenarios.robustness.base import register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.shapes import NOT_IMPLEMENTED_INSTEAD, NOT_SUPPORTED, CallCase


@register
class CsmsActionReset(CallCase):
    case_id = "action.csms_action_reset"
    title = "A Central System's action sent by the charge point (Reset)"
    clause = "OCPP-J 1.6 §4.2.3; OCPP 1.6 §5.13"
    requirement = (
        "NotSupported: Requested Action is recognized but not supported by the receiver. (OCPP 1.6 §5: Reset is "
        "initiated by the Central System; a Central System has nothing to reset.)"
    )
    sends = 'Reset {"type":"Hard"}'
    action = "Reset"
    passed = (NOT_SUPPORTED,)
    non_strict = (NOT_IMPLEMENTED_INSTEAD, *CallCase.non_strict)
    order = 6

    def payload(self, ctx: RobustContext) -> Any:
        return {"type": "Hard"}
