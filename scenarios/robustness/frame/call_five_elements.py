"""frame.call_five_elements: a CALL with one element too many."""

from __future__ import annotations

from scenarios.robustness.base import RobustCase, register
from scenarios.robustness.expect import FORMAT_CODES, CallError


@register
class CallFiveElements(RobustCase):
    case_id = "frame.call_five_elements"
    title = "A CALL of five elements"
    clause = "OCPP-J 1.6 §4.2.1"
    requirement = (
        "A Call always consists of 4 elements: The standard elements MessageTypeId and UniqueId, a specific Action "
        "that is required on the other side and a payload, the arguments to the Action."
    )
    sends = '[2,"<id>","Heartbeat",{},{"extra":true}]'
    passed = (CallError(*FORMAT_CODES, minus_one=True),)
    order = 5

    def frame(self, message_id: str) -> str:
        return f'[2,"{message_id}","Heartbeat",{{}},{{"extra":true}}]'
