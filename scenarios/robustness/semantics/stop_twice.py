"""semantics.stop_twice: the same transaction stopped twice."""

from __future__ import annotations

from scenarios.robustness.base import register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.expect import Result
from scenarios.robustness.outcome import Outcome
from scenarios.robustness.shapes import TransactionCase


@register
class StopTwice(TransactionCase):
    case_id = "semantics.stop_twice"
    title = "A second StopTransaction for a transaction already stopped"
    clause = "OCPP 1.6 §4.10, §3.7"
    requirement = (
        "Upon receipt of a StopTransaction.req PDU, the Central System SHALL respond with a StopTransaction.conf PDU. "
        "(§3.7: a queued transaction message may arrive again after a lost answer; the CSMS SHOULD process such a "
        "message as any other.)"
    )
    sends = "StartTransaction, StopTransaction, then the same StopTransaction again"
    action = "StopTransaction"
    passed = (Result("StopTransaction.conf for the second one"),)
    non_strict = ()
    bad_input = False
    order = 6

    def run(self, ctx: RobustContext) -> Outcome:
        tx = self.start(ctx)
        first = ctx.call(ctx.conn, "StopTransaction", self.stop_payload(tx, 10))
        if first.answers:
            self.started.remove(tx)
        return ctx.call(ctx.conn, "StopTransaction", self.stop_payload(tx, 10))
