"""semantics.start_twice: a second StartTransaction on a connector whose transaction never stopped."""

from __future__ import annotations

from typing import Any

from scenarios.robustness.base import register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.expect import Custom
from scenarios.robustness.outcome import Outcome
from scenarios.robustness.shapes import TransactionCase, now


def _new_id(outcome: Outcome) -> bool:
    answer = outcome.first
    if answer is None or answer.kind != "result" or not isinstance(answer.payload, dict):
        return False
    tx = answer.payload.get("transactionId")
    return isinstance(tx, int) and tx != outcome.extra.get("first")


@register
class StartTwice(TransactionCase):
    case_id = "semantics.start_twice"
    title = "StartTransaction twice on one connector"
    clause = "OCPP 1.6 §4.8, §3.7"
    requirement = (
        "Upon receipt of a StartTransaction.req PDU, the Central System SHOULD respond with a StartTransaction.conf "
        "PDU. This response PDU MUST include a transaction id and an authorization status value. ... The outcome of "
        "such sanity checks SHOULD NOT ever cause the Central System to not respond with a StartTransaction.conf. "
        "(A charger that lost the first confirmation, or restarted, sends this; the second needs its own id.)"
    )
    sends = "StartTransaction on connector 1, then another StartTransaction on connector 1"
    action = "StartTransaction"
    passed = (Custom("StartTransaction.conf with a transactionId other than the first one's", _new_id),)
    non_strict = ()
    bad_input = False
    order = 8

    def run(self, ctx: RobustContext) -> Outcome:
        first = self.start(ctx)
        payload: Any = {"connectorId": 1, "idTag": ctx.options.id_tag, "meterStart": 5, "timestamp": now()}
        outcome = ctx.call(ctx.conn, "StartTransaction", payload)
        outcome.extra["first"] = first
        answer = outcome.first
        if answer is not None and answer.kind == "result" and isinstance(answer.payload, dict):
            second = answer.payload.get("transactionId")
            if isinstance(second, int) and second != first:
                self.started.append(second)
            elif second == first:
                ctx.note(f"the CSMS gave the second transaction the first one's id ({first})")
        return outcome
