"""payload.enum_unknown: StatusNotification with status "Sleeping"."""

from __future__ import annotations

from typing import Any

from scenarios.robustness.base import register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.shapes import PROPERTY, CallCase


@register
class EnumUnknown(CallCase):
    case_id = "payload.enum_unknown"
    title = 'A value outside its enumeration (StatusNotification.status "Sleeping")'
    clause = "OCPP-J 1.6 §4.2.3; StatusNotification.json (enum); OCPP 1.6 §7.7"
    requirement = (
        "PropertyConstraintViolation: Payload is syntactically correct but at least one field contains an invalid "
        "value. (ChargePointStatus: Available, Preparing, Charging, SuspendedEVSE, SuspendedEV, Finishing, Reserved, "
        "Unavailable, Faulted.)"
    )
    sends = 'StatusNotification {"connectorId":1,"errorCode":"NoError","status":"Sleeping"}'
    action = "StatusNotification"
    rule = "enum"
    passed = (PROPERTY,)
    order = 10

    def payload(self, ctx: RobustContext) -> Any:
        return {"connectorId": 1, "errorCode": "NoError", "status": "Sleeping"}
