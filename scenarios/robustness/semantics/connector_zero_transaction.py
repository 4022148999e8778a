"""semantics.connector_zero_transaction: StartTransaction on connector 0."""

from __future__ import annotations

from typing import Any

from scenarios.robustness.base import register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.expect import LENIENT, Result
from scenarios.robustness.outcome import Outcome
from scenarios.robustness.shapes import PROPERTY, TransactionCase, now


def _not_accepted(payload: Any) -> bool:
    info = payload.get("idTagInfo") if isinstance(payload, dict) else None
    return isinstance(info, dict) and info.get("status") != "Accepted"


@register
class ConnectorZeroTransaction(TransactionCase):
    case_id = "semantics.connector_zero_transaction"
    title = "StartTransaction on connectorId 0"
    clause = "OCPP 1.6 §6.45 (connectorId > 0), §4.8; OCPP-J 1.6 §4.2.3"
    requirement = (
        "StartTransaction.req: connectorId | integer, connectorId > 0 | This identifies which connector of the Charge "
        "Point is used. (§4.8: sanity checks SHOULD NOT ever cause the Central System to not respond with a "
        "StartTransaction.conf; so either a PropertyConstraintViolation or a confirmation that does not authorise.)"
    )
    sends = 'StartTransaction {"connectorId":0,"idTag":<--id-tag>,"meterStart":0,"timestamp":<now>}'
    action = "StartTransaction"
    rule = "valid"
    passed = (PROPERTY, Result("whose idTagInfo.status is not Accepted", _not_accepted))
    non_strict = LENIENT
    order = 3

    def payload(self, ctx: RobustContext) -> Any:
        return {"connectorId": 0, "idTag": ctx.options.id_tag, "meterStart": 0, "timestamp": now()}

    def run(self, ctx: RobustContext) -> Outcome:
        outcome = super().run(ctx)
        answer = outcome.first
        if answer is not None and answer.kind == "result" and isinstance(answer.payload, dict):
            tx = answer.payload.get("transactionId")
            if isinstance(tx, int):
                self.started.append(tx)
        return outcome
