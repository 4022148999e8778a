"""size.field_1000x_id_tag: Authorize.idTag a thousand times its maxLength."""

from __future__ import annotations

from typing import Any

from scenarios.robustness.base import register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.schema import max_length
from scenarios.robustness.shapes import LENGTH, CallCase


@register
class Field1000xIdTag(CallCase):
    case_id = "size.field_1000x_id_tag"
    title = "An idTag 1,000 times its maxLength (Authorize)"
    clause = "OCPP-J 1.6 §4.2.3; Authorize.json (maxLength 20); OCPP 1.6 §3.9"
    requirement = (
        "message data elements of the IdToken class (including ParentId) MAY contain any data, subject to the "
        "constraints of the data-type (CiString20Type). (An idTag is typically looked up in a database: a 20,000 "
        "character key tests that lookup.)"
    )
    sends = "Authorize with an idTag of 1,000 x maxLength characters (20,000)"
    action = "Authorize"
    rule = "maxLength"
    passed = (LENGTH,)
    order = 2

    def payload(self, ctx: RobustContext) -> Any:
        return {"idTag": "T" * (1000 * max_length(self.action, "idTag"))}
