"""size.field_1000x_vendor_error: StatusNotification.vendorErrorCode a thousand times its maxLength."""

from __future__ import annotations

from typing import Any

from scenarios.robustness.base import register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.schema import max_length
from scenarios.robustness.shapes import LENGTH, CallCase


@register
class Field1000xVendorError(CallCase):
    case_id = "size.field_1000x_vendor_error"
    title = "vendorErrorCode 1,000 times its maxLength (StatusNotification)"
    clause = "OCPP-J 1.6 §4.2.3; StatusNotification.json (maxLength 50)"
    requirement = (
        "TypeConstraintViolation / PropertyConstraintViolation for a field over its length. (vendorErrorCode is "
        "free text a CSMS typically stores and shows to an operator.)"
    )
    sends = "StatusNotification Faulted/OtherError with vendorErrorCode of 1,000 x maxLength characters (50,000)"
    action = "StatusNotification"
    rule = "maxLength"
    passed = (LENGTH,)
    order = 3

    def payload(self, ctx: RobustContext) -> Any:
        code = "E" * (1000 * max_length(self.action, "vendorErrorCode"))
        return {"connectorId": 1, "errorCode": "OtherError", "status": "Faulted", "vendorErrorCode": code}
