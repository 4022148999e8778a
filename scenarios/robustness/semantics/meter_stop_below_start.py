"""semantics.meter_stop_below_start: a transaction that ends with less energy than it began."""

from __future__ import annotations

from scenarios.robustness.base import register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.expect import Result
from scenarios.robustness.outcome import Outcome
from scenarios.robustness.shapes import TransactionCase


@register
class MeterStopBelowStart(TransactionCase):
    case_id = "semantics.meter_stop_below_start"
    title = "meterStop below meterStart"
    clause = "OCPP 1.6 §4.10"
    requirement = (
        "Upon receipt of a StopTransaction.req PDU, the Central System SHALL respond with a StopTransaction.conf PDU. "
        "The Central System cannot prevent a transaction from stopping. (It may flag the negative energy; it must "
        "still confirm.)"
    )
    sends = "StartTransaction meterStart 1000, then StopTransaction meterStop 500"
    action = "StopTransaction"
    passed = (Result("StopTransaction.conf"),)
    non_strict = ()
    bad_input = False
    order = 7

    def run(self, ctx: RobustContext) -> Outcome:
        tx = self.start(ctx, meter_start=1000)
        outcome = ctx.call(ctx.conn, "StopTransaction", self.stop_payload(tx, 500))
        if outcome.answers:
            self.started.remove(tx)
        return outcome
