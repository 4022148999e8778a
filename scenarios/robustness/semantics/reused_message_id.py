"""semantics.reused_message_id: a CALL reusing the message id of one already answered."""

from __future__ import annotations

from scenarios.robustness.base import RobustCase, register
from scenarios.robustness.context import RobustContext, dumps
from scenarios.robustness.expect import CLOSED, DROPPED, CallError, Result
from scenarios.robustness.outcome import Outcome


@register
class ReusedMessageId(RobustCase):
    case_id = "semantics.reused_message_id"
    title = "A CALL reusing the message id of an answered one"
    clause = "OCPP-J 1.6 §4.1.4"
    requirement = (
        "A message ID for a CALL message MUST be different from all message IDs previously used by the same sender "
        "for CALL messages on the same WebSocket connection."
    )
    sends = "Heartbeat with message id X, answered; then another Heartbeat with message id X"
    passed = (CallError(label="CALLERROR (any code) for the reused id"),)
    non_strict = (
        Result(
            "Heartbeat.conf",
            why="§4.1.4 binds the sender; OCPP-J does not say what a receiver does with an id reused after its answer",
        ),
        DROPPED,
        CLOSED,
    )
    order = 11

    def run(self, ctx: RobustContext) -> Outcome:
        message_id = ctx.new_id()
        ctx.call(ctx.conn, "Heartbeat", {}, message_id)
        ctx.send(ctx.conn, dumps([2, message_id, "Heartbeat", {}]), message_id)
        return ctx.observe(ctx.conn, {message_id})
