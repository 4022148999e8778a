"""session.start_transaction_before_boot: a StartTransaction from a charge point that never booted."""

from __future__ import annotations

from typing import Any

from scenarios.robustness.base import RobustCase, register
from scenarios.robustness.context import RobustContext, dumps
from scenarios.robustness.expect import CLOSED, OTHER_CALLERROR, CallError, Result
from scenarios.robustness.outcome import Outcome
from scenarios.robustness.shapes import fresh_connection, now


def _accepted(payload: Any) -> bool:
    info = payload.get("idTagInfo") if isinstance(payload, dict) else None
    return isinstance(info, dict) and info.get("status") == "Accepted"


@register
class StartTransactionBeforeBoot(RobustCase):
    case_id = "session.start_transaction_before_boot"
    title = "A StartTransaction before any BootNotification (a charge point never booted)"
    clause = "OCPP 1.6 §4.2, §4.2.1; OCPP-J 1.6 errata §3.8"
    requirement = (
        "Between the physical power-on/reboot and the successful completion of a BootNotification, where Central "
        "System returns Accepted or Pending, the Charge Point SHALL NOT send any other request to the Central System. "
        "... the Central System is RECOMMENDED to respond with and RPC CallError: SecurityError (errata §3.8)."
    )
    sends = "a new connection as --fresh-cp-id, then StartTransaction on connector 1 with --id-tag"
    passed = (CallError("SecurityError"),)
    non_strict = (
        Result("whose idTagInfo is not Accepted", lambda p: not _accepted(p), why="errata §3.8 only RECOMMENDS"),
        Result(
            "authorising the transaction",
            _accepted,
            why="errata §3.8 only RECOMMENDS SecurityError; the CSMS started a transaction for a charge point it never "
            "accepted",
        ),
        OTHER_CALLERROR,
        CLOSED,
    )
    connect = False
    order = 2

    def run(self, ctx: RobustContext) -> Outcome:
        conn = fresh_connection(ctx)
        message_id = ctx.new_id()
        payload = {"connectorId": 1, "idTag": ctx.options.id_tag, "meterStart": 0, "timestamp": now()}
        ctx.send(conn, dumps([2, message_id, "StartTransaction", payload]), message_id)
        outcome = ctx.observe(conn, {message_id}, sentinel=False)
        answer = outcome.first
        if answer is not None and answer.kind == "result" and isinstance(answer.payload, dict):
            tx = answer.payload.get("transactionId")
            if isinstance(tx, int):
                ctx.note(f"the CSMS opened transaction {tx} for a charge point that never booted")
                stop = {"transactionId": tx, "meterStop": 0, "timestamp": now(), "reason": "Local"}
                ctx.call(conn, "StopTransaction", stop)
        return outcome
