"""payload.timestamp_no_offset: an ISO 8601 local time without a UTC offset."""

from __future__ import annotations

from typing import Any

from scenarios.robustness.base import register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.expect import CLOSED, OTHER_CALLERROR, Result
from scenarios.robustness.shapes import FORMAT_TIME, CallCase


@register
class TimestampNoOffset(CallCase):
    case_id = "payload.timestamp_no_offset"
    title = 'A timestamp without a time zone ("2024-06-01T12:00:00")'
    clause = "OCPP 1.6 §3.14, §3.15; StatusNotification.json (format date-time, RFC 3339 §5.6 time-offset)"
    requirement = (
        "Implementations MUST use ISO 8601 date time notation. (RFC 3339, which the schema's date-time means, "
        "requires an offset or Z; ISO 8601 alone allows a local time, which the receiver can only guess.)"
    )
    sends = 'StatusNotification {...,"timestamp":"2024-06-01T12:00:00"} (no Z, no offset)'
    action = "StatusNotification"
    rule = "format"
    passed = (FORMAT_TIME,)
    non_strict = (
        Result("StatusNotification.conf", why="ISO 8601 allows a local time (OCPP 1.6 §3.14 only recommends UTC)"),
        OTHER_CALLERROR,
        CLOSED,
    )
    order = 19

    def payload(self, ctx: RobustContext) -> Any:
        return {"connectorId": 1, "errorCode": "NoError", "status": "Available", "timestamp": "2024-06-01T12:00:00"}
