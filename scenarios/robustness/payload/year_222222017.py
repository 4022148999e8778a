"""payload.year_222222017: StartTransaction stamped in the year 222222017."""

from __future__ import annotations

from typing import Any

from scenarios.robustness.base import register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.shapes import FORMAT_TIME, CallCase


@register
class Year222222017(CallCase):
    case_id = "payload.year_222222017"
    title = "A timestamp in the year 222222017 (StartTransaction)"
    clause = "OCPP 1.6 §3.15; StartTransaction.json (format date-time: RFC 3339 date-fullyear = 4DIGIT)"
    requirement = (
        "Implementations MUST use ISO 8601 date time notation. (RFC 3339 §5.6: date-fullyear = 4DIGIT. A charger "
        "in the field sent a year of 222222017 and broke a CSMS's transaction pages.)"
    )
    sends = (
        'StartTransaction {"connectorId":1,"idTag":<--id-tag>,"meterStart":0,"timestamp":"222222017-01-01T00:00:00Z"}'
    )
    action = "StartTransaction"
    rule = "format"
    passed = (FORMAT_TIME,)
    order = 20

    def payload(self, ctx: RobustContext) -> Any:
        stamp = "222222017-01-01T00:00:00Z"
        return {"connectorId": 1, "idTag": ctx.options.id_tag, "meterStart": 0, "timestamp": stamp}
