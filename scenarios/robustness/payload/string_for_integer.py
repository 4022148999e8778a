"""payload.string_for_integer: StartTransaction with connectorId "1" (a string)."""

from __future__ import annotations

from typing import Any

from scenarios.robustness.base import register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.shapes import TYPE, CallCase, now


@register
class StringForInteger(CallCase):
    case_id = "payload.string_for_integer"
    title = 'A string where an integer belongs (StartTransaction.connectorId "1")'
    clause = "OCPP-J 1.6 §4.2.3; StartTransaction.json (type)"
    requirement = (
        "TypeConstraintViolation: Payload for Action is syntactically correct but at least one of the fields violates "
        'data type constraints (e.g. "somestring": 12).'
    )
    sends = 'StartTransaction {"connectorId":"1","idTag":<--id-tag>,"meterStart":0,"timestamp":<now>}'
    action = "StartTransaction"
    rule = "type"
    passed = (TYPE,)
    order = 3

    def payload(self, ctx: RobustContext) -> Any:
        return {"connectorId": "1", "idTag": ctx.options.id_tag, "meterStart": 0, "timestamp": now()}
