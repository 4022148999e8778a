"""frame.not_an_array: a JSON object where the RPC framework wants an array."""

from __future__ import annotations

import json

from scenarios.robustness.base import RobustCase, register
from scenarios.robustness.expect import FORMAT_CODES, CallError


@register
class NotAnArray(RobustCase):
    case_id = "frame.not_an_array"
    title = "A JSON object instead of an array"
    clause = "OCPP-J 1.6 §4.2.1"
    requirement = (
        "A Call always consists of 4 elements: The standard elements MessageTypeId and UniqueId, a specific Action "
        'that is required on the other side and a payload ... [<MessageTypeId>, "<UniqueId>", "<Action>", {<Payload>}]'
    )
    sends = 'the CALL\'s four elements as a JSON object: {"messageTypeId":2,"uniqueId":"<id>","action":"Heartbeat",...}'
    passed = (CallError(*FORMAT_CODES, minus_one=True),)
    order = 2

    def frame(self, message_id: str) -> str:
        return json.dumps({"messageTypeId": 2, "uniqueId": message_id, "action": "Heartbeat", "payload": {}})
