"""session.wrong_subprotocol: a handshake offering only a subprotocol the CSMS does not speak."""

from __future__ import annotations

from scenarios.robustness.base import RobustCase, register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.outcome import Outcome
from scenarios.robustness.shapes import SUBPROTOCOL_NON_STRICT, SUBPROTOCOL_PASSED, subprotocol_outcome


@register
class WrongSubprotocol(RobustCase):
    case_id = "session.wrong_subprotocol"
    title = "A handshake offering only ocpp0.9"
    clause = "OCPP-J 1.6 §3.2"
    requirement = (
        "If the Central System does not agree to using one of the subprotocols offered by the client, it MUST "
        "complete the WebSocket handshake with a response without a Sec-WebSocket-Protocol header and then "
        "immediately close the WebSocket connection."
    )
    sends = "a WebSocket upgrade as --cp-id with Sec-WebSocket-Protocol: ocpp0.9 (then a BootNotification if kept open)"
    passed = SUBPROTOCOL_PASSED
    non_strict = SUBPROTOCOL_NON_STRICT
    connect = False
    order = 5

    def run(self, ctx: RobustContext) -> Outcome:
        return subprotocol_outcome(ctx, ["ocpp0.9"])
