"""payload.max_length_id_tag: Authorize.idTag one character over its maxLength."""

from __future__ import annotations

from typing import Any

from scenarios.robustness.base import register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.schema import max_length
from scenarios.robustness.shapes import LENGTH, CallCase


@register
class MaxLengthIdTag(CallCase):
    case_id = "payload.max_length_id_tag"
    title = "An idTag one over its maxLength (Authorize.idTag)"
    clause = "OCPP-J 1.6 §4.2.3; Authorize.json (maxLength 20); OCPP 1.6 §3.9 (IdToken, CiString20Type)"
    requirement = (
        "message data elements of the IdToken class (including ParentId) MAY contain any data, subject to the "
        "constraints of the data-type (CiString20Type). (A longer one: TypeConstraintViolation or "
        "PropertyConstraintViolation, OCPP-J 1.6 §4.2.3.)"
    )
    sends = "Authorize with an idTag of maxLength + 1 characters"
    action = "Authorize"
    rule = "maxLength"
    passed = (LENGTH,)
    order = 14

    def payload(self, ctx: RobustContext) -> Any:
        return {"idTag": "T" * (max_length(self.action, "idTag") + 1)}
