"""size.field_1000x_vendor: BootNotification.chargePointVendor a thousand times its maxLength."""

from __future__ import annotations

from typing import Any

from scenarios.robustness.base import register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.schema import max_length
from scenarios.robustness.shapes import LENGTH, CallCase


@register
class Field1000xVendor(CallCase):
    case_id = "size.field_1000x_vendor"
    title = "chargePointVendor 1,000 times its maxLength (BootNotification)"
    clause = "OCPP-J 1.6 §4.2.3; BootNotification.json (maxLength 20)"
    requirement = (
        "TypeConstraintViolation / PropertyConstraintViolation for a field over its length. (A chargePointVendor of "
        "442 MB, maximum length 20, crashed a CSMS in the field.)"
    )
    sends = "BootNotification with chargePointVendor of 1,000 x maxLength characters (20,000)"
    action = "BootNotification"
    rule = "maxLength"
    passed = (LENGTH,)
    order = 1

    def payload(self, ctx: RobustContext) -> Any:
        return {
            "chargePointVendor": "V" * (1000 * max_length(self.action, "chargePointVendor")),
            "chargePointModel": "R",
        }
