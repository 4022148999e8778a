"""semantics.meter_values_unknown_transaction: MeterValues for a transaction the CSMS never started."""

from __future__ import annotations

from typing import Any

from scenarios.robustness.base import register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.expect import CallError, Result
from scenarios.robustness.shapes import CallCase, now


@register
class MeterValuesUnknownTransaction(CallCase):
    case_id = "semantics.meter_values_unknown_transaction"
    title = "MeterValues for an unknown transactionId"
    clause = "OCPP 1.6 §3.7, §3.7.1, §4.7"
    requirement = (
        "When the Central System receives a transaction-related message that was queued on the Charge Point for some "
        "time ... It SHOULD process such a message as any other. (§3.7.1: a 'failure to process the message' makes "
        "the Charge Point retry it.)"
    )
    sends = 'MeterValues {"connectorId":1,"transactionId":<--unknown-transaction-id>,"meterValue":[...]}'
    action = "MeterValues"
    rule = "valid"
    passed = (Result("MeterValues.conf"),)
    non_strict = (
        CallError(why="a failure to process the message: the charge point retries it, then discards it (§3.7.1)"),
    )
    bad_input = False
    order = 9

    def payload(self, ctx: RobustContext) -> Any:
        sample = {"value": "1000", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
        return {
            "connectorId": 1,
            "transactionId": ctx.options.unknown_transaction_id,
            "meterValue": [{"timestamp": now(), "sampledValue": [sample]}],
        }
