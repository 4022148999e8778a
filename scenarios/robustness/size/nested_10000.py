"""size.nested_10000: JSON nested 10,000 levels deep inside a CALL."""

from __future__ import annotations

from scenarios.robustness.base import RobustCase, register
from scenarios.robustness.expect import FORMAT_CODES, CallError

DEPTH = 10_000


@register
class Nested10000(RobustCase):
    case_id = "size.nested_10000"
    title = "JSON nested 10,000 deep"
    clause = "OCPP-J 1.6 §4.1.2, §4.2.3; OCPP-J 1.6 errata §3.1"
    requirement = (
        "The whole message consisting of wrapper and payload MUST be valid JSON ... It is not allowed to add extra "
        "fields/values to OCPP messages (errata §3.1). (A recursive JSON parser without a depth limit overflows its "
        "stack on this.)"
    )
    sends = f'DataTransfer {{"vendorId":...,"data":"x","nested":[[[...]]]}} nested {DEPTH:,} deep (about 20 KB)'
    passed = (CallError(*FORMAT_CODES, "TypeConstraintViolation", minus_one=True),)
    order = 4

    def frame(self, message_id: str) -> str:
        nested = "[" * DEPTH + "]" * DEPTH
        payload = f'{{"vendorId":"org.volatileocpp.robustness","data":"x","nested":{nested}}}'
        return f'[2,"{message_id}","DataTransfer",{payload}]'
