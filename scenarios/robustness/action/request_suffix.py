"""action.request_suffix: "HeartbeatRequest", the message name with a suffix."""

from __future__ import annotations

from typing import Any

from scenarios.robustness.base import register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.shapes import NOT_IMPLEMENTED, CallCase


@register
class RequestSuffix(CallCase):
    case_id = "action.request_suffix"
    title = 'An action with a suffix ("HeartbeatRequest")'
    clause = "OCPP-J 1.6 §4.2.1, §4.2.3; OCPP 2.0.1 part 4 §4.1.6"
    requirement = (
        "Action | ... containing the same value as the Action-field in SOAP-based messages, without the preceding "
        "slash. (2.0.1 §4.1.6: The Action field in the CALL message MUST be the OCPP message name without the "
        '"Request" suffix.)'
    )
    sends = "HeartbeatRequest {}"
    action = "HeartbeatRequest"
    passed = (NOT_IMPLEMENTED,)
    order = 3

    def payload(self, ctx: RobustContext) -> Any:
        return {}
