"""payload.max_length_vendor: BootNotification.chargePointVendor one character over its maxLength."""

from __future__ import annotations

from typing import Any

from scenarios.robustness.base import register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.schema import max_length
from scenarios.robustness.shapes import LENGTH, CallCase


@register
class MaxLengthVendor(CallCase):
    case_id = "payload.max_length_vendor"
    title = "A string one over its maxLength (BootNotification.chargePointVendor)"
    clause = "OCPP-J 1.6 §4.2.3; BootNotification.json (maxLength 20, CiString20Type)"
    requirement = (
        "TypeConstraintViolation: ... violates data type constraints; PropertyConstraintViolation: ... at least one "
        "field contains an invalid value. (chargePointVendor | CiString20Type | 1..1.)"
    )
    sends = "BootNotification with chargePointVendor of maxLength + 1 characters (the schema's maxLength)"
    action = "BootNotification"
    rule = "maxLength"
    passed = (LENGTH,)
    order = 13

    def payload(self, ctx: RobustContext) -> Any:
        limit = max_length(self.action, "chargePointVendor")
        return {"chargePointVendor": "V" * (limit + 1), "chargePointModel": "Robustness"}
