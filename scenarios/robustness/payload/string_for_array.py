"""payload.string_for_array: MeterValues with meterValue "12" instead of a list."""

from __future__ import annotations

from typing import Any

from scenarios.robustness.base import register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.shapes import TYPE, CallCase


@register
class StringForArray(CallCase):
    case_id = "payload.string_for_array"
    title = 'A string where a list belongs (MeterValues.meterValue "12")'
    clause = "OCPP-J 1.6 §4.2.3; MeterValues.json (type array)"
    requirement = (
        "TypeConstraintViolation: Payload for Action is syntactically correct but at least one of the fields violates "
        "data type constraints."
    )
    sends = 'MeterValues {"connectorId":1,"meterValue":"12"}'
    action = "MeterValues"
    rule = "type"
    passed = (TYPE,)
    order = 8

    def payload(self, ctx: RobustContext) -> Any:
        return {"connectorId": 1, "meterValue": "12"}
