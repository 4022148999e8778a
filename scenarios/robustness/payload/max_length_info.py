"""payload.max_length_info: StatusNotification.info one character over its maxLength."""

from __future__ import annotations

from typing import Any

from scenarios.robustness.base import register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.schema import max_length
from scenarios.robustness.shapes import LENGTH, CallCase


@register
class MaxLengthInfo(CallCase):
    case_id = "payload.max_length_info"
    title = "An optional string one over its maxLength (StatusNotification.info)"
    clause = "OCPP-J 1.6 §4.2.3; StatusNotification.json (maxLength 50, CiString50Type)"
    requirement = (
        "TypeConstraintViolation: ... violates data type constraints; PropertyConstraintViolation: ... at least one "
        "field contains an invalid value. (info | CiString50Type | 0..1.)"
    )
    sends = "StatusNotification with info of maxLength + 1 characters"
    action = "StatusNotification"
    rule = "maxLength"
    passed = (LENGTH,)
    order = 15

    def payload(self, ctx: RobustContext) -> Any:
        info = "i" * (max_length(self.action, "info") + 1)
        return {"connectorId": 1, "errorCode": "NoError", "status": "Available", "info": info}
