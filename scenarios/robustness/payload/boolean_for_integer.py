"""payload.boolean_for_integer: StatusNotification with connectorId true."""

from __future__ import annotations

from typing import Any

from scenarios.robustness.base import register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.shapes import TYPE, CallCase


@register
class BooleanForInteger(CallCase):
    case_id = "payload.boolean_for_integer"
    title = "A boolean where an integer belongs (StatusNotification.connectorId true)"
    clause = "OCPP-J 1.6 §4.2.3; StatusNotification.json (type)"
    requirement = (
        "TypeConstraintViolation: Payload for Action is syntactically correct but at least one of the fields violates "
        "data type constraints. (JSON true is no integer, though many languages read it as 1.)"
    )
    sends = 'StatusNotification {"connectorId":true,"errorCode":"NoError","status":"Available"}'
    action = "StatusNotification"
    rule = "type"
    passed = (TYPE,)
    order = 5

    def payload(self, ctx: RobustContext) -> Any:
        return {"connectorId": True, "errorCode": "NoError", "status": "Available"}
