"""frame.call_three_elements: a CALL without its payload element."""

from __future__ import annotations

from scenarios.robustness.base import RobustCase, register
from scenarios.robustness.expect import FORMAT_CODES, CallError


@register
class CallThreeElements(RobustCase):
    case_id = "frame.call_three_elements"
    title = "A CALL of three elements"
    clause = "OCPP-J 1.6 §4.2.1"
    requirement = (
        "A Call always consists of 4 elements: The standard elements MessageTypeId and UniqueId, a specific Action "
        "that is required on the other side and a payload, the arguments to the Action."
    )
    sends = '[2,"<id>","Heartbeat"]'
    passed = (CallError(*FORMAT_CODES, minus_one=True),)
    order = 4

    def frame(self, message_id: str) -> str:
        return f'[2,"{message_id}","Heartbeat"]'
