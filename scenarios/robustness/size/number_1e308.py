"""size.number_1e308: 1e308 where StartTransaction wants an integer."""

from __future__ import annotations

from scenarios.robustness.base import RobustCase, register
from scenarios.robustness.expect import CallError
from scenarios.robustness.shapes import now


@register
class Number1e308(RobustCase):
    case_id = "size.number_1e308"
    title = "1e308 for an integer (StartTransaction.meterStart)"
    clause = "OCPP-J 1.6 §4.2.3; StartTransaction.json (type integer, JSON Schema draft 4)"
    requirement = (
        "TypeConstraintViolation: ... violates data type constraints. (The OCPP 1.6 schemas are JSON Schema draft 4 "
        "(errata §3.6), where an integer is a JSON number without a fraction or exponent part; 1e308 is the largest "
        "power of ten a double holds, far past any meter.)"
    )
    sends = 'StartTransaction {"connectorId":1,"idTag":"VOCPP-RB-1E308","meterStart":1e308,"timestamp":<now>}'
    passed = (CallError("TypeConstraintViolation", "PropertyConstraintViolation"),)
    order = 5

    def frame(self, message_id: str) -> str:
        return (
            f'[2,"{message_id}","StartTransaction",{{"connectorId":1,"idTag":"VOCPP-RB-1E308","meterStart":1e308,'
            f'"timestamp":"{now()}"}}]'
        )
