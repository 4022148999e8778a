"""frame.payload_null: a Heartbeat with a null payload, which OCPP-J 1.6 allows for an empty one."""

from __future__ import annotations

from scenarios.robustness.base import RobustCase, register
from scenarios.robustness.expect import CLOSED, CallError, Result


@register
class PayloadNull(RobustCase):
    case_id = "frame.payload_null"
    title = "A null payload for an action without fields"
    clause = "OCPP-J 1.6 §4.2.1"
    requirement = (
        "If there is no payload JSON allows for two different notations: null or and empty object {}. Although it "
        "seems trivial we consider it good practice to only use the empty object statement."
    )
    sends = '[2,"<id>","Heartbeat",null]'
    passed = (Result("Heartbeat.conf (null stands for the empty payload)"),)
    non_strict = (
        CallError(
            "FormationViolation",
            "ProtocolError",
            "TypeConstraintViolation",
            why="good practice is {}, and OCPP 2.0.1 part 4 §4.1.5 no longer allows null",
        ),
        CLOSED,
    )
    bad_input = False
    order = 12

    def frame(self, message_id: str) -> str:
        return f'[2,"{message_id}","Heartbeat",null]'
