"""payload.missing_id_tag: Authorize with an empty payload."""

from __future__ import annotations

from typing import Any

from scenarios.robustness.base import register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.shapes import OCCURRENCE, CallCase


@register
class MissingIdTag(CallCase):
    case_id = "payload.missing_id_tag"
    title = "Authorize without idTag"
    clause = "OCPP-J 1.6 §4.2.3; Authorize.json (required)"
    requirement = (
        "OccurenceConstraintViolation: Payload for Action is syntactically correct but at least one of the fields "
        "violates occurence constraints. ProtocolError: Payload for Action is incomplete. "
        '(schema: "required": ["idTag"])'
    )
    sends = "Authorize {}"
    action = "Authorize"
    rule = "required"
    passed = (OCCURRENCE,)
    order = 2

    def payload(self, ctx: RobustContext) -> Any:
        return {}
