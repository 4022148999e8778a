"""frame.invalid_json: a CALL cut short, so the frame is not valid JSON."""

from __future__ import annotations

from scenarios.robustness.base import RobustCase, register
from scenarios.robustness.expect import FORMAT_CODES, CallError


@register
class InvalidJson(RobustCase):
    case_id = "frame.invalid_json"
    title = "A frame that is not valid JSON"
    clause = "OCPP-J 1.6 §4.1.2; OCPP 2.0.1 part 4 §4.2.3"
    requirement = (
        "The whole message consisting of wrapper and payload MUST be valid JSON encoded with the UTF-8 "
        "character encoding. (2.0.1: When a server receives a corrupt message, the CALLERROR SHALL NOT directly "
        'include syntactically invalid JSON. When also the MessageId cannot be read, the CALLERROR SHALL contain "-1".)'
    )
    sends = 'a Heartbeat CALL cut off after its payload\'s "{": [2,"<id>","Heartbeat",{'
    passed = (CallError(*FORMAT_CODES, minus_one=True),)
    order = 1

    def frame(self, message_id: str) -> str:
        return f'[2,"{message_id}","Heartbeat",{{'
