"""semantics.connector_zero_status: StatusNotification for connector 0, the main controller (valid)."""

from __future__ import annotations

from typing import Any

from scenarios.robustness.base import register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.expect import Result
from scenarios.robustness.shapes import CallCase, now


@register
class ConnectorZeroStatus(CallCase):
    case_id = "semantics.connector_zero_status"
    title = "connectorId 0 in StatusNotification: the main controller (a valid message)"
    clause = "OCPP 1.6 §3.8, §6.47"
    requirement = (
        "For operations initiated by the Charge Point (when reporting), ConnectorId 0 is reserved for the Charge "
        "Point main controller. (A CSMS indexing connectors from 1 has crashed on this one.)"
    )
    sends = 'StatusNotification {"connectorId":0,"errorCode":"NoError","status":"Available","timestamp":<now>}'
    action = "StatusNotification"
    rule = "valid"
    passed = (Result("StatusNotification.conf"),)
    non_strict = ()
    bad_input = False
    order = 2

    def payload(self, ctx: RobustContext) -> Any:
        return {"connectorId": 0, "errorCode": "NoError", "status": "Available", "timestamp": now()}
