"""frame.payload_not_object: an array where the payload object belongs."""

from __future__ import annotations

from scenarios.robustness.base import RobustCase, register
from scenarios.robustness.expect import FORMAT_CODES, CallError


@register
class PayloadNotObject(RobustCase):
    case_id = "frame.payload_not_object"
    title = "A payload that is an array"
    clause = "OCPP-J 1.6 §4.2.1"
    requirement = "Payload | Payload is a JSON object containing the arguments relevant to the Action."
    sends = '[2,"<id>","Heartbeat",[]]'
    passed = (CallError(*FORMAT_CODES, "TypeConstraintViolation", minus_one=True),)
    order = 11

    def frame(self, message_id: str) -> str:
        return f'[2,"{message_id}","Heartbeat",[]]'
