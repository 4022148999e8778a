"""frame.empty_array: ``[]``, an array with no message type and no message id."""

from __future__ import annotations

from scenarios.robustness.base import RobustCase, register
from scenarios.robustness.expect import FORMAT_CODES, CallError


@register
class EmptyArray(RobustCase):
    case_id = "frame.empty_array"
    title = "An empty array"
    clause = "OCPP-J 1.6 §4.2.1; OCPP 2.0.1 part 4 §4.2.3"
    requirement = (
        "A Call always consists of 4 elements ... (2.0.1: When also the MessageId cannot be read, the CALLERROR "
        'SHALL contain "-1" as MessageId.)'
    )
    sends = "[]"
    passed = (CallError(*FORMAT_CODES, minus_one=True),)
    order = 3

    def frame(self, message_id: str) -> str:
        return "[]"
