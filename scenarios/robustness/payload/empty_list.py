"""payload.empty_list: MeterValues with an empty meterValue list (minItems 1)."""

from __future__ import annotations

from typing import Any

from scenarios.robustness.base import register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.shapes import OCCURRENCE, CallCase


@register
class EmptyList(CallCase):
    case_id = "payload.empty_list"
    title = "An empty list where one item is required (MeterValues.meterValue [])"
    clause = "OCPP-J 1.6 §4.2.3; MeterValues.json (minItems 1); OCPP 1.6 §6.31 (meterValue 1..*)"
    requirement = (
        "OccurenceConstraintViolation: Payload for Action is syntactically correct but at least one of the fields "
        "violates occurence constraints. (meterValue | MeterValue | 1..* | Required.)"
    )
    sends = 'MeterValues {"connectorId":1,"meterValue":[]}'
    action = "MeterValues"
    rule = "minItems"
    passed = (OCCURRENCE,)
    order = 9

    def payload(self, ctx: RobustContext) -> Any:
        return {"connectorId": 1, "meterValue": []}
