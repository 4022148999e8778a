"""Field constraints of OCPP 1.6 that the JSON schemas do not carry, and what makes a valid CALL odd.

The official schemas type ``connectorId`` as a bare integer; OCPP 1.6 edition 2 constrains it in
the field tables: StatusNotification.req and MeterValues.req "connectorId >= 0" (§6.47, §6.31: id
0 is the Charge Point main controller / main meter), StartTransaction.req "connectorId > 0"
(§6.45). A value outside is "a field [that] contains an invalid value": PropertyConstraintViolation
(OCPP-J 1.6 §4.2.3).

Everything else a charge point may send that makes no sense (a StopTransaction for a transaction
this CSMS never started, meterStop below meterStart, a second StartTransaction on a busy
connector) is still answered with its confirmation: "The Central System cannot prevent a
transaction from stopping" and "Upon receipt of a StopTransaction.req PDU, the Central System
SHALL respond with a StopTransaction.conf PDU" (§4.10); sanity checks "SHOULD NOT ever cause the
Central System to not respond with a StartTransaction.conf" (§4.8). :func:`oddities` names them
for the robustness fault switches only.
"""

from __future__ import annotations

from typing import Any

from testbed.frames import CallErrorInfo
from testbed.state import Store
from testbed.validation import error

#: action -> the smallest connectorId the field table of OCPP 1.6 edition 2 allows.
MIN_CONNECTOR_ID = {
    "StatusNotification": 0,  # §6.47: connectorId >= 0
    "MeterValues": 0,  # §6.31: connectorId >= 0
    "StartTransaction": 1,  # §6.45: connectorId > 0
}


def problem(action: str, payload: Any) -> CallErrorInfo | None:
    """A CALLERROR for a schema-valid payload that breaks a field constraint of the 1.6 tables."""
    minimum = MIN_CONNECTOR_ID.get(action)
    if minimum is None or not isinstance(payload, dict):
        return None
    connector = payload.get("connectorId")
    if isinstance(connector, int) and not isinstance(connector, bool) and connector < minimum:
        relation = ">= 0" if minimum == 0 else "> 0"
        cause = f"connectorId {connector}: {action}.req needs connectorId {relation}"
        return error("PropertyConstraintViolation", cause)
    return None


def oddities(store: Store, cp_id: str, action: str, payload: Any) -> list[str]:
    """What makes a schema-valid CALL odd (never refused for it; see the module docstring)."""
    found: list[str] = []
    if not isinstance(payload, dict):
        return found
    if problem(action, payload) is not None:
        found.append("connectorId out of range")
    if action in ("StopTransaction", "MeterValues") and "transactionId" in payload:
        tx = store.transactions.get(payload["transactionId"]) if isinstance(payload["transactionId"], int) else None
        if tx is None or tx.cp_id != cp_id or not tx.active:
            found.append("unknown or finished transaction")
        elif action == "StopTransaction" and isinstance(payload.get("meterStop"), int):
            if payload["meterStop"] < tx.meter_start:
                found.append("meterStop below meterStart")
    if action == "StartTransaction":
        busy = any(
            tx.active and tx.cp_id == cp_id and tx.connector_id == payload.get("connectorId")
            for tx in store.transactions.values()
        )
        if busy:
            found.append("a transaction is already running on the connector")
    return found
