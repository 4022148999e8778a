"""frame.action_not_string: the action as a number."""

from __future__ import annotations

from scenarios.robustness.base import RobustCase, register
from scenarios.robustness.expect import FORMAT_CODES, CallError


@register
class ActionNotString(RobustCase):
    case_id = "frame.action_not_string"
    title = "An action that is not a string"
    clause = "OCPP-J 1.6 §4.2.1"
    requirement = (
        "Action | the name of the remote procedure or action. This will be a case-sensitive string containing the "
        "same value as the Action-field in SOAP-based messages, without the preceding slash."
    )
    sends = '[2,"<id>",42,{}]'
    passed = (CallError(*FORMAT_CODES, "TypeConstraintViolation", "NotImplemented", minus_one=True),)
    order = 10

    def frame(self, message_id: str) -> str:
        return f'[2,"{message_id}",42,{{}}]'
