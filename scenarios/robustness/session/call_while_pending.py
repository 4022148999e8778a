"""session.call_while_pending: a Heartbeat after the CSMS answered the BootNotification Pending."""

from __future__ import annotations

from scenarios.results import NotApplicable
from scenarios.robustness.base import RobustCase, register
from scenarios.robustness.context import BOOT, RobustContext, SetupFailed
from scenarios.robustness.expect import CLOSED, OTHER_CALLERROR, CallError, Result
from scenarios.robustness.options import RobustOptions
from scenarios.robustness.outcome import Outcome


@register
class CallWhilePending(RobustCase):
    case_id = "session.call_while_pending"
    title = "A Heartbeat while the registration is Pending"
    clause = "OCPP 1.6 §4.2; OCPP-J 1.6 errata §3.8"
    requirement = (
        "If the Central System returns the Pending status ... The Charge Point SHALL NOT send request messages to "
        "the Central System unless it has been instructed by the Central System to do so with a TriggerMessage.req "
        "request. (errata §3.8: before the Charge Point is accepted, the Central System is RECOMMENDED to respond "
        "with SecurityError.)"
    )
    sends = "BootNotification as --pending-cp-id (answered Pending), then Heartbeat {} uninvited"
    passed = (CallError("SecurityError"),)
    non_strict = (Result("Heartbeat.conf", why="errata §3.8 only RECOMMENDS SecurityError"), OTHER_CALLERROR, CLOSED)
    connect = False
    order = 3

    @classmethod
    def not_applicable(cls, options: RobustOptions) -> str | None:
        if not options.pending_cp_id:
            return "needs a charge point the CSMS answers Pending: give --pending-cp-id"
        return None

    def run(self, ctx: RobustContext) -> Outcome:
        conn = ctx.target = ctx.open(ctx.options.pending_cp_id)
        boot = ctx.call(conn, "BootNotification", BOOT)
        answer = boot.first
        if answer is None:
            raise SetupFailed(f"BootNotification not answered: {boot.describe()}")
        status = answer.payload.get("status") if answer.kind == "result" and isinstance(answer.payload, dict) else None
        if status != "Pending":
            raise NotApplicable(
                f"the CSMS answered the BootNotification of {ctx.options.pending_cp_id} {status!r}, not Pending"
            )
        return ctx.call(conn, "Heartbeat", {})
