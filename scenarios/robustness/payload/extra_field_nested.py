"""payload.extra_field_nested: an extra field inside a sampled value of MeterValues."""

from __future__ import annotations

from typing import Any

from scenarios.robustness.base import register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.shapes import STRUCTURE, CallCase, now


@register
class ExtraFieldNested(CallCase):
    case_id = "payload.extra_field_nested"
    title = "An extra field in an inner object (MeterValues.meterValue.sampledValue)"
    clause = "OCPP-J 1.6 errata §3.1; MeterValues.json (additionalProperties false on inner objects)"
    requirement = (
        "The WSDL files are correct, the original JSON Schema files allow extra fields on inner objects and extra "
        'values on enums, which was not intended. ... The line: "additionalProperties": false has been added to the '
        "definition of all object and enum definitions."
    )
    sends = 'MeterValues with sampledValue [{"value":"12.5","colour":"green"}]'
    action = "MeterValues"
    rule = "additionalProperties"
    passed = (STRUCTURE,)
    order = 17

    def payload(self, ctx: RobustContext) -> Any:
        sample = {"value": "12.5", "colour": "green"}
        return {"connectorId": 1, "meterValue": [{"timestamp": now(), "sampledValue": [sample]}]}
