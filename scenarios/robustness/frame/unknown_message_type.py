"""frame.unknown_message_type: message type number 5, which OCPP-J 1.6 does not define."""

from __future__ import annotations

from scenarios.robustness.base import RobustCase, register
from scenarios.robustness.expect import CLOSED, CallError, Dropped


@register
class UnknownMessageType(RobustCase):
    case_id = "frame.unknown_message_type"
    title = "An unknown MessageTypeId (5)"
    clause = "OCPP-J 1.6 §4.1.3; OCPP 2.0.1 part 4 §4.4"
    requirement = (
        "When a server receives a message with a Message Type Number not in this list, it SHALL ignore the message "
        "payload. (2.0.1 §4.4: it SHALL respond with an CALLERROR with errorCode: MessageTypeNotSupported.)"
    )
    sends = '[5,"<id>","Heartbeat",{}] (a Heartbeat, had the type been 2)'
    passed = (
        Dropped(label="no answer (the message ignored, 1.6 §4.1.3)"),
        CallError("MessageTypeNotSupported", minus_one=True),
    )
    non_strict = (CallError(minus_one=True, why="a CALLERROR with another code"), CLOSED)
    order = 6

    def frame(self, message_id: str) -> str:
        return f'[5,"{message_id}","Heartbeat",{{}}]'
