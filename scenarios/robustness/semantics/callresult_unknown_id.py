"""semantics.callresult_unknown_id: a CALLRESULT for a call the CSMS never made."""

from __future__ import annotations

from scenarios.robustness.base import RobustCase, register
from scenarios.robustness.context import RobustContext, dumps
from scenarios.robustness.expect import CLOSED, CallError, Dropped
from scenarios.robustness.outcome import Outcome


@register
class CallResultUnknownId(RobustCase):
    case_id = "semantics.callresult_unknown_id"
    title = "A CALLRESULT for a message id the CSMS never sent"
    clause = "OCPP-J 1.6 §4.1.4, §4.2.2"
    requirement = (
        "A message ID for a CALLRESULT or CALLERROR message MUST be equal to that of the CALL message that the "
        "CALLRESULT or CALLERROR message is a response to. (An answer to no call answers nothing: there is no call "
        "to complete and nothing to reply.)"
    )
    sends = '[3,"<an id the CSMS never used>",{"status":"Accepted"}]'
    passed = (Dropped(label="no answer (the stray result ignored)"),)
    non_strict = (CallError(minus_one=True, why="a CALLERROR about the stray result"), CLOSED)
    order = 12

    def run(self, ctx: RobustContext) -> Outcome:
        message_id = ctx.new_id()
        ctx.send(ctx.conn, dumps([3, message_id, {"status": "Accepted"}]), message_id)
        return ctx.observe(ctx.conn, {message_id})
