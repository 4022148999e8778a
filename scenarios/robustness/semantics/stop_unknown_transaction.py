"""semantics.stop_unknown_transaction: StopTransaction for a transaction the CSMS never started."""

from __future__ import annotations

from typing import Any

from scenarios.robustness.base import register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.expect import Result
from scenarios.robustness.shapes import CallCase, now


@register
class StopUnknownTransaction(CallCase):
    case_id = "semantics.stop_unknown_transaction"
    title = "StopTransaction for an unknown transactionId"
    clause = "OCPP 1.6 §4.10, §3.7.1"
    requirement = (
        "Upon receipt of a StopTransaction.req PDU, the Central System SHALL respond with a StopTransaction.conf PDU. "
        "The Central System cannot prevent a transaction from stopping. (§3.7.1: after a 'failure to process the "
        "message' the Charge Point retries; a CSMS answering InternalError here makes it retry for nothing.)"
    )
    sends = 'StopTransaction {"transactionId":<--unknown-transaction-id>,"meterStop":0,"timestamp":<now>}'
    action = "StopTransaction"
    rule = "valid"
    passed = (Result("StopTransaction.conf"),)
    non_strict = ()
    bad_input = False
    order = 5

    def payload(self, ctx: RobustContext) -> Any:
        return {"transactionId": ctx.options.unknown_transaction_id, "meterStop": 0, "timestamp": now()}
