"""session.heartbeat_before_boot: a Heartbeat from a charge point that never sent BootNotification."""

from __future__ import annotations

from scenarios.robustness.base import RobustCase, register
from scenarios.robustness.context import RobustContext, dumps
from scenarios.robustness.expect import CLOSED, OTHER_CALLERROR, CallError, Result
from scenarios.robustness.outcome import Outcome
from scenarios.robustness.shapes import fresh_connection

SECURITY_ERROR = CallError("SecurityError")
RECOMMENDED = "OCPP 1.6 errata §3.8 only RECOMMENDS SecurityError"


@register
class HeartbeatBeforeBoot(RobustCase):
    case_id = "session.heartbeat_before_boot"
    title = "A Heartbeat before any BootNotification (a charge point never booted)"
    clause = "OCPP 1.6 §4.2; OCPP-J 1.6 errata §3.8"
    requirement = (
        "When a Central System receives CALL messages (other then BootNotification) from a Charge Point before the "
        "Charge Point is accepted, the Central System is RECOMMENDED to respond with and RPC CallError: SecurityError."
    )
    sends = "a new connection as --fresh-cp-id (a charge point that never booted), then Heartbeat {}"
    passed = (SECURITY_ERROR,)
    non_strict = (Result("Heartbeat.conf", why=RECOMMENDED), OTHER_CALLERROR, CLOSED)
    connect = False
    order = 1

    def run(self, ctx: RobustContext) -> Outcome:
        conn = fresh_connection(ctx)
        message_id = ctx.new_id()
        ctx.send(conn, dumps([2, message_id, "Heartbeat", {}]), message_id)
        return ctx.observe(conn, {message_id}, sentinel=False)
