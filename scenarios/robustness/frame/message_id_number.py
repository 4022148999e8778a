"""frame.message_id_number: the message id as a number."""

from __future__ import annotations

from scenarios.robustness.base import RobustCase, register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.expect import FORMAT_CODES, CallError
from scenarios.robustness.outcome import Outcome


@register
class MessageIdNumber(RobustCase):
    case_id = "frame.message_id_number"
    title = "A message id that is not a string"
    clause = "OCPP-J 1.6 §4.1.4; OCPP 2.0.1 part 4 §4.2.3"
    requirement = (
        "messageId | string | Maximum of 36 characters, to allow for GUIDs. (2.0.1: When also the MessageId cannot "
        'be read, the CALLERROR SHALL contain "-1" as MessageId.)'
    )
    sends = '[2,17,"Heartbeat",{}]'
    passed = (CallError(*FORMAT_CODES, "TypeConstraintViolation", minus_one=True),)
    order = 8

    def run(self, ctx: RobustContext) -> Outcome:
        ctx.send(ctx.conn, '[2,17,"Heartbeat",{}]', "17")
        return ctx.observe(ctx.conn, {"17"})
