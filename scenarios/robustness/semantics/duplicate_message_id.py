"""semantics.duplicate_message_id: two CALLs with one message id, the second while the first is handled."""

from __future__ import annotations

from scenarios.robustness.base import RobustCase, register
from scenarios.robustness.context import RobustContext, dumps
from scenarios.robustness.expect import CLOSE_ALLOWED, DROP_ALLOWED, Custom
from scenarios.robustness.outcome import Outcome


def _kinds(outcome: Outcome) -> list[str]:
    return [a.kind for a in outcome.answers]


def _result_and_error(outcome: Outcome) -> bool:
    return sorted(_kinds(outcome)) == ["error", "result"]


def _one_result(outcome: Outcome) -> bool:
    return _kinds(outcome) == ["result"] and outcome.kind != "closed"


def _closed(outcome: Outcome) -> bool:
    closed = outcome.closed is not None or outcome.send_error is not None
    return closed and _kinds(outcome).count("result") <= 1


@register
class DuplicateMessageId(RobustCase):
    case_id = "semantics.duplicate_message_id"
    title = "A second CALL with the message id of one still being handled"
    clause = "OCPP-J 1.6 §4.1.4, §4.2.3"
    requirement = (
        "A message ID for a CALL message MUST be different from all message IDs previously used by the same sender "
        "for CALL messages on the same WebSocket connection. ... We only use CallError in two situations: ... an "
        "existing call with the same unique identifier is being handled already. (A CSMS that processed such a "
        "duplicate twice has been reported in the field.)"
    )
    sends = 'two Heartbeat CALLs with the same message id in one write: [2,"<id>","Heartbeat",{}] twice'
    passed = (Custom("one CALLRESULT and one CALLERROR for the id", _result_and_error),)
    non_strict = (
        Custom("one CALLRESULT, the duplicate ignored", _one_result, why=DROP_ALLOWED),
        Custom("the connection closed", _closed, why=CLOSE_ALLOWED),
    )
    order = 10

    def run(self, ctx: RobustContext) -> Outcome:
        message_id = ctx.new_id()
        frame = dumps([2, message_id, "Heartbeat", {}])
        ctx.send_texts(ctx.conn, [frame, frame], (message_id,))
        return ctx.observe(ctx.conn, {message_id}, want=2, linger=ctx.options.grace)
