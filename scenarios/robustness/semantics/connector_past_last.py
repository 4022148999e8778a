"""semantics.connector_past_last: StatusNotification for the connector one past the last."""

from __future__ import annotations

from typing import Any

from scenarios.robustness.base import register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.expect import LENIENT, Result
from scenarios.robustness.shapes import PROPERTY, CallCase


@register
class ConnectorPastLast(CallCase):
    case_id = "semantics.connector_past_last"
    title = "The connector one past the last (StatusNotification connectorId --connectors + 1)"
    clause = "OCPP 1.6 §3.8"
    requirement = (
        "ConnectorIds MUST never be higher than the total number of connectors of a Charge Point. (The CSMS learns "
        "the total only from the NumberOfConnectors configuration key, if it reads it.)"
    )
    sends = 'StatusNotification {"connectorId":<--connectors + 1>,"errorCode":"NoError","status":"Available"}'
    action = "StatusNotification"
    rule = "valid"
    passed = (PROPERTY,)
    non_strict = (
        Result(
            "StatusNotification.conf",
            why="OCPP 1.6 gives the CSMS the connector count only through NumberOfConnectors; many register "
            "connectors as they first report",
        ),
        *LENIENT,
    )
    order = 4

    def payload(self, ctx: RobustContext) -> Any:
        return {"connectorId": ctx.options.connectors + 1, "errorCode": "NoError", "status": "Available"}
