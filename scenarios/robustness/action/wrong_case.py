"""action.wrong_case: "heartbeat", an action name in the wrong case."""

from __future__ import annotations

from typing import Any

from scenarios.robustness.base import register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.shapes import NOT_IMPLEMENTED, CallCase


@register
class WrongCase(CallCase):
    case_id = "action.wrong_case"
    title = 'An action name in the wrong case ("heartbeat")'
    clause = "OCPP-J 1.6 §4.2.1, §4.2.3"
    requirement = (
        "Action | the name of the remote procedure or action. This will be a case-sensitive string ... "
        "NotImplemented: Requested Action is not known by receiver."
    )
    sends = "heartbeat {}"
    action = "heartbeat"
    passed = (NOT_IMPLEMENTED,)
    order = 2

    def payload(self, ctx: RobustContext) -> Any:
        return {}
