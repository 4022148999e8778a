"""abuse.slow_sender: one Heartbeat CALL written a byte at a time over --slow-seconds."""

from __future__ import annotations

import time

from scenarios.robustness.base import RobustCase, register
from scenarios.robustness.connection import SendFailed
from scenarios.robustness.context import RobustContext, dumps
from scenarios.robustness.expect import CLOSE_ALLOWED, Closed, Result
from scenarios.robustness.outcome import Outcome


@register
class SlowSender(RobustCase):
    case_id = "abuse.slow_sender"
    title = "A frame trickled in a byte at a time"
    clause = "OCPP-J 1.6 §4.1.1, §5.3; RFC 6455 §5.2"
    requirement = (
        "Implementations are free to choose this timeout interval. It is RECOMMENDED that they take into account the "
        "kind of network used to communicate with the other party. Mobile networks typically have much longer "
        "worst-case round-trip times than fixed lines. (A slow link must cost the CSMS one connection, not every "
        "charger's latency.)"
    )
    sends = 'a Heartbeat CALL [2,"<id>","Heartbeat",{}] written one byte at a time over --slow-seconds (default 3)'
    passed = (Result("Heartbeat.conf once the frame is complete"), Closed(why=CLOSE_ALLOWED + " (a read timeout)"))
    non_strict = ()
    bad_input = False
    order = 2

    def run(self, ctx: RobustContext) -> Outcome:
        message_id = ctx.new_id()
        payload = dumps([2, message_id, "Heartbeat", {}]).encode()
        ctx.conn.send_call_id(message_id)
        seconds = ctx.options.slow_seconds
        pause = seconds / (len(payload) + 6)
        try:
            ctx.conn.send_slowly(payload, pause, time.monotonic() + seconds + 1.0)
        except SendFailed:
            pass
        return ctx.observe(ctx.conn, {message_id}, sentinel=False)
