"""payload.number_for_string: Authorize with idTag 12345 (a number)."""

from __future__ import annotations

from typing import Any

from scenarios.robustness.base import register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.shapes import TYPE, CallCase


@register
class NumberForString(CallCase):
    case_id = "payload.number_for_string"
    title = "A number where a string belongs (Authorize.idTag 12345)"
    clause = "OCPP-J 1.6 §4.2.3; Authorize.json (type)"
    requirement = (
        "TypeConstraintViolation: Payload for Action is syntactically correct but at least one of the fields violates "
        'data type constraints (e.g. "somestring": 12).'
    )
    sends = 'Authorize {"idTag":12345}'
    action = "Authorize"
    rule = "type"
    passed = (TYPE,)
    order = 4

    def payload(self, ctx: RobustContext) -> Any:
        return {"idTag": 12345}
