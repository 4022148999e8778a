"""action.empty_action: an action that is the empty string."""

from __future__ import annotations

from typing import Any

from scenarios.robustness.base import register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.expect import CallError
from scenarios.robustness.shapes import CallCase


@register
class EmptyAction(CallCase):
    case_id = "action.empty_action"
    title = 'An empty action ("")'
    clause = "OCPP-J 1.6 §4.2.1, §4.2.3"
    requirement = (
        "Action | the name of the remote procedure or action. This will be a case-sensitive string ... "
        "NotImplemented: Requested Action is not known by receiver."
    )
    sends = '"" {}'
    action = ""
    passed = (CallError("NotImplemented", "FormationViolation", "ProtocolError", "RpcFrameworkError"),)
    order = 4

    def payload(self, ctx: RobustContext) -> Any:
        return {}
