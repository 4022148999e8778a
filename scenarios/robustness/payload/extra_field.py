"""payload.extra_field: a Heartbeat with a field the schema does not define."""

from __future__ import annotations

from typing import Any

from scenarios.robustness.base import register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.shapes import STRUCTURE, CallCase


@register
class ExtraField(CallCase):
    case_id = "payload.extra_field"
    title = "A field the schema does not define (Heartbeat)"
    clause = "OCPP-J 1.6 §4.2.3; OCPP-J 1.6 errata §3.1; Heartbeat.json (additionalProperties false)"
    requirement = (
        "It is not allowed to add extra fields/values to OCPP messages, this could cause interoperability issues in "
        "the field. (FormationViolation: Payload for Action is syntactically incorrect or not conform the PDU "
        "structure for Action.)"
    )
    sends = 'Heartbeat {"extra":1}'
    action = "Heartbeat"
    rule = "additionalProperties"
    passed = (STRUCTURE,)
    order = 16

    def payload(self, ctx: RobustContext) -> Any:
        return {"extra": 1}
