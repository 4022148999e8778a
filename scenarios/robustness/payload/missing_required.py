"""payload.missing_required: BootNotification without its required chargePointModel."""

from __future__ import annotations

from typing import Any

from scenarios.robustness.base import register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.shapes import OCCURRENCE, CallCase


@register
class MissingRequired(CallCase):
    case_id = "payload.missing_required"
    title = "A required field missing (BootNotification.chargePointModel)"
    clause = "OCPP-J 1.6 §4.2.3; BootNotification.json (required)"
    requirement = (
        "OccurenceConstraintViolation: Payload for Action is syntactically correct but at least one of the fields "
        'violates occurence constraints. (schema: "required": ["chargePointVendor", "chargePointModel"])'
    )
    sends = 'BootNotification {"chargePointVendor":"VolatileOCPP"}'
    action = "BootNotification"
    rule = "required"
    passed = (OCCURRENCE,)
    order = 1

    def payload(self, ctx: RobustContext) -> Any:
        return {"chargePointVendor": "VolatileOCPP"}
