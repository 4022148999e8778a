"""semantics.connector_negative: StatusNotification for connector -1."""

from __future__ import annotations

from typing import Any

from scenarios.robustness.base import register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.shapes import PROPERTY, CallCase


@register
class ConnectorNegative(CallCase):
    case_id = "semantics.connector_negative"
    title = "connectorId -1 (StatusNotification)"
    clause = "OCPP 1.6 §3.8, §6.47 (connectorId >= 0); OCPP-J 1.6 §4.2.3"
    requirement = (
        "ID of the first connector MUST be 1 ... For operations initiated by the Charge Point (when reporting), "
        "ConnectorId 0 is reserved for the Charge Point main controller. (StatusNotification.req: connectorId | "
        "integer, connectorId >= 0. The schema types it as a bare integer: the check is the CSMS's.)"
    )
    sends = 'StatusNotification {"connectorId":-1,"errorCode":"NoError","status":"Available"}'
    action = "StatusNotification"
    rule = "valid"
    passed = (PROPERTY,)
    order = 1

    def payload(self, ctx: RobustContext) -> Any:
        return {"connectorId": -1, "errorCode": "NoError", "status": "Available"}
