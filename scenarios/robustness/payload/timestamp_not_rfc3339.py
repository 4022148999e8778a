"""payload.timestamp_not_rfc3339: a timestamp in a local notation."""

from __future__ import annotations

from typing import Any

from scenarios.robustness.base import register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.shapes import FORMAT_TIME, CallCase


@register
class TimestampNotRfc3339(CallCase):
    case_id = "payload.timestamp_not_rfc3339"
    title = 'A timestamp that is not RFC 3339 ("31/12/2024 23:59")'
    clause = "OCPP 1.6 §3.15; StatusNotification.json (format date-time, RFC 3339 §5.6)"
    requirement = (
        "Implementations MUST use ISO 8601 date time notation. Message receivers must be able to handle fractional "
        'seconds and time zone offsets. (schema: "format": "date-time")'
    )
    sends = (
        'StatusNotification {"connectorId":1,"errorCode":"NoError","status":"Available","timestamp":"31/12/2024 23:59"}'
    )
    action = "StatusNotification"
    rule = "format"
    passed = (FORMAT_TIME,)
    order = 18

    def payload(self, ctx: RobustContext) -> Any:
        return {"connectorId": 1, "errorCode": "NoError", "status": "Available", "timestamp": "31/12/2024 23:59"}
