"""payload.enum_wrong_case: StatusNotification with status "available" (enumerations are case-sensitive)."""

from __future__ import annotations

from typing import Any

from scenarios.robustness.base import register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.shapes import PROPERTY, CallCase


@register
class EnumWrongCase(CallCase):
    case_id = "payload.enum_wrong_case"
    title = 'An enumeration value in the wrong case (StatusNotification.status "available")'
    clause = "OCPP-J 1.6 §4.2.3; StatusNotification.json (enum)"
    requirement = (
        "PropertyConstraintViolation: Payload is syntactically correct but at least one field contains an invalid "
        'value. (JSON-schema enum values compare exactly: "available" is not "Available".)'
    )
    sends = 'StatusNotification {"connectorId":1,"errorCode":"NoError","status":"available"}'
    action = "StatusNotification"
    rule = "enum"
    passed = (PROPERTY,)
    order = 11

    def payload(self, ctx: RobustContext) -> Any:
        return {"connectorId": 1, "errorCode": "NoError", "status": "available"}
