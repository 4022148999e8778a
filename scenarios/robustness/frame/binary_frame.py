"""frame.binary_frame: a valid Heartbeat CALL sent in a binary WebSocket frame."""

from __future__ import annotations

from scenarios.robustness.base import RobustCase, register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.expect import CallError, Closed, Dropped, Result
from scenarios.robustness.outcome import Outcome


@register
class BinaryFrame(RobustCase):
    case_id = "frame.binary_frame"
    title = "A binary frame"
    clause = "OCPP-J 1.6 §4.1.2; RFC 6455 §7.4.1"
    requirement = (
        "The whole message consisting of wrapper and payload MUST be valid JSON encoded with the UTF-8 character "
        "encoding (a text message). (RFC 6455 §7.4.1, close code 1003: an endpoint is terminating the connection "
        "because it has received a type of data it cannot accept, e.g. an endpoint that understands only text data "
        "MAY send this if it receives a binary message.)"
    )
    sends = 'a binary frame carrying [2,"<id>","Heartbeat",{}]'
    passed = (Dropped(label="no answer (the binary frame ignored)"), Closed(1003))
    non_strict = (
        Closed(why="closing the connection on data it cannot accept"),
        CallError(minus_one=True, why="a CALLERROR for a frame OCPP-J does not use"),
        Result("Heartbeat.conf", why="the JSON inside read leniently (OCPP-J uses text frames)"),
    )
    order = 14

    def run(self, ctx: RobustContext) -> Outcome:
        message_id = ctx.new_id()
        ctx.send_binary(ctx.conn, f'[2,"{message_id}","Heartbeat",{{}}]'.encode(), message_id)
        return ctx.observe(ctx.conn, {message_id})
