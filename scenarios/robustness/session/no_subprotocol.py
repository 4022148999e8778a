"""session.no_subprotocol: a handshake offering no subprotocol at all."""

from __future__ import annotations

from scenarios.robustness.base import RobustCase, register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.outcome import Outcome
from scenarios.robustness.shapes import SUBPROTOCOL_NON_STRICT, SUBPROTOCOL_PASSED, subprotocol_outcome


@register
class NoSubprotocol(RobustCase):
    case_id = "session.no_subprotocol"
    title = "A handshake without Sec-WebSocket-Protocol"
    clause = "OCPP-J 1.6 §3.1.2, §3.2"
    requirement = (
        "The exact OCPP version MUST be specified in the Sec-Websocket-Protocol field (§3.1.2). If the Central "
        "System does not agree to using one of the subprotocols "
        "offered by the client, it MUST complete the WebSocket handshake with a response without a "
        "Sec-WebSocket-Protocol header and then immediately close the WebSocket connection."
    )
    sends = (
        "a WebSocket upgrade as --cp-id without a Sec-WebSocket-Protocol header (then a BootNotification if kept open)"
    )
    passed = SUBPROTOCOL_PASSED
    non_strict = SUBPROTOCOL_NON_STRICT
    connect = False
    order = 6

    def run(self, ctx: RobustContext) -> Outcome:
        return subprotocol_outcome(ctx, None)
