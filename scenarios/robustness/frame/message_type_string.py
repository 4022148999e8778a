"""frame.message_type_string: the message type as the string "2", not the number 2."""

from __future__ import annotations

from scenarios.robustness.base import RobustCase, register
from scenarios.robustness.expect import CLOSED, FORMAT_CODES, CallError, Dropped


@register
class MessageTypeString(RobustCase):
    case_id = "frame.message_type_string"
    title = 'MessageTypeId "2" (a string)'
    clause = "OCPP-J 1.6 §4.1.3"
    requirement = (
        "To identify the type of message one of the following Message Type Numbers MUST be used. ... When a server "
        "receives a message with a Message Type Number not in this list, it SHALL ignore the message payload."
    )
    sends = '["2","<id>","Heartbeat",{}]'
    passed = (
        Dropped(label="no answer (not a Message Type Number: ignored, §4.1.3)"),
        CallError(*FORMAT_CODES, "MessageTypeNotSupported", minus_one=True),
    )
    non_strict = (CallError(minus_one=True, why="a CALLERROR with another code"), CLOSED)
    order = 7

    def frame(self, message_id: str) -> str:
        return f'["2","{message_id}","Heartbeat",{{}}]'
