"""frame.message_id_too_long: a message id of 37 characters."""

from __future__ import annotations

from scenarios.robustness.base import RobustCase, register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.expect import FORMAT_CODES, CallError
from scenarios.robustness.outcome import Outcome

MAX_ID = 36


@register
class MessageIdTooLong(RobustCase):
    case_id = "frame.message_id_too_long"
    title = "A message id of 37 characters"
    clause = "OCPP-J 1.6 §4.1.4, §4.2.3"
    requirement = (
        "messageId | string | Maximum of 36 characters, to allow for GUIDs. ... We only use CallError in two "
        "situations: ... The call is received but the content of the call does not meet the requirements for a "
        "proper message. This could be missing mandatory fields, an existing call with the same unique identifier "
        "is being handled already, unique identifier too long, etc."
    )
    sends = '[2,"<37 characters>","Heartbeat",{}]'
    passed = (CallError(*FORMAT_CODES, "TypeConstraintViolation", "PropertyConstraintViolation", minus_one=True),)
    order = 9

    def run(self, ctx: RobustContext) -> Outcome:
        base = ctx.new_id()
        message_id = (base + "-" + "x" * MAX_ID)[: MAX_ID + 1]
        ctx.send(ctx.conn, f'[2,"{message_id}","Heartbeat",{{}}]', message_id)
        return ctx.observe(ctx.conn, {message_id})
