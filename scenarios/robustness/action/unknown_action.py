"""action.unknown_action: an action no OCPP version defines."""

from __future__ import annotations

from typing import Any

from scenarios.robustness.base import register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.shapes import NOT_IMPLEMENTED, CallCase


@register
class UnknownAction(CallCase):
    case_id = "action.unknown_action"
    title = "An action nobody defines (MakeCoffee)"
    clause = "OCPP-J 1.6 §4.2.3"
    requirement = (
        "NotImplemented: Requested Action is not known by receiver. (OCPP 2.0.1 part 4 §4.1.7: An message is only "
        "valid when: Action is a known Action ... When a message is not valid, the server SHALL respond with a "
        "CALLERROR.)"
    )
    sends = "MakeCoffee {}"
    action = "MakeCoffee"
    passed = (NOT_IMPLEMENTED,)
    order = 1

    def payload(self, ctx: RobustContext) -> Any:
        return {}
