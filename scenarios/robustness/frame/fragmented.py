"""frame.fragmented: a valid Heartbeat CALL split over three WebSocket frames."""

from __future__ import annotations

from scenarios.robustness.base import RobustCase, register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.expect import Result
from scenarios.robustness.outcome import Outcome


@register
class Fragmented(RobustCase):
    case_id = "frame.fragmented"
    title = "One message in three fragments"
    clause = "RFC 6455 §5.4; OCPP-J 1.6 §4.1.2"
    requirement = (
        "A fragmented message consists of a single frame with the FIN bit clear and an opcode other than 0, followed "
        "by zero or more frames with the FIN bit clear and the opcode set to 0, and terminated by a single frame with "
        "the FIN bit set and an opcode of 0. (A valid message: the CSMS must reassemble and answer it.)"
    )
    sends = 'a text frame [2,"<id>", then continuation frames "Heartbeat", and ,{}] (FIN on the last)'
    passed = (Result("Heartbeat.conf"),)
    non_strict = ()
    bad_input = False
    order = 15

    def run(self, ctx: RobustContext) -> Outcome:
        message_id = ctx.new_id()
        ctx.send_fragments(ctx.conn, [f'[2,"{message_id}",'.encode(), b'"Heartbeat"', b",{}]"], message_id)
        return ctx.observe(ctx.conn, {message_id}, sentinel=False)
