"""size.connector_1e308: 1e308 as a connectorId."""

from __future__ import annotations

from scenarios.robustness.base import RobustCase, register
from scenarios.robustness.expect import CallError


@register
class Connector1e308(RobustCase):
    case_id = "size.connector_1e308"
    title = "1e308 for an integer (StatusNotification.connectorId)"
    clause = "OCPP-J 1.6 §4.2.3; StatusNotification.json (type integer); OCPP 1.6 §3.8"
    requirement = (
        "TypeConstraintViolation: ... violates data type constraints. ConnectorIds MUST never be higher than the "
        "total number of connectors of a Charge Point (§3.8). (A CSMS that indexes connectors by this number, or "
        "stores it in an int column, meets 1e308 here.)"
    )
    sends = 'StatusNotification {"connectorId":1e308,"errorCode":"NoError","status":"Available"}'
    passed = (CallError("TypeConstraintViolation", "PropertyConstraintViolation"),)
    order = 6

    def frame(self, message_id: str) -> str:
        payload = '{"connectorId":1e308,"errorCode":"NoError","status":"Available"}'
        return f'[2,"{message_id}","StatusNotification",{payload}]'
