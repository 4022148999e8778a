"""action.csms_action_get_configuration: GetConfiguration sent by the charge point."""

from __future__ import annotations

from typing import Any

from scenarios.robustness.base import register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.shapes import NOT_IMPLEMENTED_INSTEAD, NOT_SUPPORTED, CallCase


@register
class CsmsActionGetConfiguration(CallCase):
    case_id = "action.csms_action_get_configuration"
    title = "A Central System's action sent by the charge point (GetConfiguration)"
    clause = "OCPP-J 1.6 §4.2.3; OCPP 1.6 §5.8"
    requirement = (
        "NotSupported: Requested Action is recognized but not supported by the receiver. (GetConfiguration reads a "
        "charge point's keys; a Central System answering it would disclose its own.)"
    )
    sends = 'GetConfiguration {"key":["AuthorizationKey"]}'
    action = "GetConfiguration"
    passed = (NOT_SUPPORTED,)
    non_strict = (NOT_IMPLEMENTED_INSTEAD, *CallCase.non_strict)
    order = 8

    def payload(self, ctx: RobustContext) -> Any:
        return {"key": ["AuthorizationKey"]}
