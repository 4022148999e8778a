"""payload.null_value: Authorize with idTag null."""

from __future__ import annotations

from typing import Any

from scenarios.robustness.base import register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.expect import CallError
from scenarios.robustness.shapes import CallCase


@register
class NullValue(CallCase):
    case_id = "payload.null_value"
    title = "null for a required string (Authorize.idTag)"
    clause = "OCPP-J 1.6 §4.2.3; Authorize.json (type); OCPP 2.0.1 part 4 §4.1.5"
    requirement = (
        "TypeConstraintViolation: ... violates data type constraints. (2.0.1 §4.1.5, a rule 1.6 leaves implicit: "
        "OCPP only allows 1 option: Do not put the field in the payload (so null, {} or [] are not allowed for an "
        "empty field).)"
    )
    sends = 'Authorize {"idTag":null}'
    action = "Authorize"
    rule = "type"
    passed = (CallError("TypeConstraintViolation", "OccurenceConstraintViolation", "FormationViolation"),)
    order = 6

    def payload(self, ctx: RobustContext) -> Any:
        return {"idTag": None}
