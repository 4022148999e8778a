"""payload.float_for_integer: StartTransaction with meterStart 10.5."""

from __future__ import annotations

from typing import Any

from scenarios.robustness.base import register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.shapes import TYPE, CallCase, now


@register
class FloatForInteger(CallCase):
    case_id = "payload.float_for_integer"
    title = "A fraction where an integer belongs (StartTransaction.meterStart 10.5)"
    clause = "OCPP-J 1.6 §4.2.3; StartTransaction.json (type integer)"
    requirement = (
        "TypeConstraintViolation: Payload for Action is syntactically correct but at least one of the fields violates "
        "data type constraints. (meterStart is an integer, in Wh.)"
    )
    sends = 'StartTransaction {"connectorId":1,"idTag":<--id-tag>,"meterStart":10.5,"timestamp":<now>}'
    action = "StartTransaction"
    rule = "type"
    passed = (TYPE,)
    order = 7

    def payload(self, ctx: RobustContext) -> Any:
        return {"connectorId": 1, "idTag": ctx.options.id_tag, "meterStart": 10.5, "timestamp": now()}
