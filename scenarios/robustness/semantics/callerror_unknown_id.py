"""semantics.callerror_unknown_id: a CALLERROR for a call the CSMS never made."""

from __future__ import annotations

from scenarios.robustness.base import RobustCase, register
from scenarios.robustness.context import RobustContext, dumps
from scenarios.robustness.expect import CLOSED, CallError, Dropped
from scenarios.robustness.outcome import Outcome


@register
class CallErrorUnknownId(RobustCase):
    case_id = "semantics.callerror_unknown_id"
    title = "A CALLERROR for a message id the CSMS never sent"
    clause = "OCPP-J 1.6 §4.1.4, §4.2.3"
    requirement = (
        "A message ID for a CALLRESULT or CALLERROR message MUST be equal to that of the CALL message that the "
        "CALLRESULT or CALLERROR message is a response to. (An error for no call must not start an exchange of errors.)"
    )
    sends = '[4,"<an id the CSMS never used>","GenericError","",{}]'
    passed = (Dropped(label="no answer (the stray error ignored)"),)
    non_strict = (CallError(minus_one=True, why="a CALLERROR about the stray error"), CLOSED)
    order = 13

    def run(self, ctx: RobustContext) -> Outcome:
        message_id = ctx.new_id()
        ctx.send(ctx.conn, dumps([4, message_id, "GenericError", "", {}]), message_id)
        return ctx.observe(ctx.conn, {message_id})
