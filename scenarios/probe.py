"""Which charge-point-initiated actions does the CSMS implement?

Every probe is a schema-valid request chosen not to disturb the CSMS's state (Authorize with an
unknown idTag, DataTransfer with an unknown vendorId, StatusNotification/MeterValues for
connector 0, a StartTransaction for an unknown idTag stopped at once with reason DeAuthorized,
as a charger does with StopTransactionOnInvalidId). They go out concurrently on the booted
connection, each correlated by its own message id, so the probe costs one round trip (at most
``probe_timeout``). BootNotification is not probed: the run's own boot counts.

NotImplemented or NotSupported = unsupported; any other answer (a CALLERROR with another code
included) = supported; no answer = unknown.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import gevent

from ocpp_users.errors import (
    CallTimeout,
    ConnectionLost,
    NotImplementedCallError,
    NotSupportedError,
    OcppCallError,
    VolatileOcppError,
)

from .context import timestamp
from .results import Support

CallFn = Callable[[str, dict[str, Any], float], dict[str, Any]]

SUPPORTED = "supported"
UNSUPPORTED = "unsupported"
UNKNOWN = "unknown"


def classify(action: str, outcome: dict[str, Any] | BaseException) -> Support:
    if not isinstance(outcome, BaseException):
        return Support(action, SUPPORTED, "answered")
    if isinstance(outcome, (NotImplementedCallError, NotSupportedError)):
        return Support(action, UNSUPPORTED, str(outcome))
    if isinstance(outcome, OcppCallError):
        return Support(action, SUPPORTED, f"answered {outcome}")
    if isinstance(outcome, (CallTimeout, ConnectionLost)):
        return Support(action, UNKNOWN, str(outcome))
    if isinstance(outcome, VolatileOcppError):  # schema-invalid or malformed answer: it did answer
        return Support(action, SUPPORTED, f"answered, but {outcome}")
    return Support(action, UNKNOWN, f"{type(outcome).__name__}: {outcome}")


def from_boot(outcome: dict[str, Any] | BaseException) -> Support:
    """BootNotification support, from the run's own boot."""
    return classify("BootNotification", outcome)


def probe_payloads(invalid_tag: str, vendor_id: str, connector_id: int) -> dict[str, dict[str, Any]]:
    now = timestamp()
    return {
        "Authorize": {"idTag": invalid_tag},
        "DataTransfer": {"vendorId": vendor_id, "messageId": "probe"},
        "DiagnosticsStatusNotification": {"status": "Idle"},
        "FirmwareStatusNotification": {"status": "Idle"},
        "Heartbeat": {},
        "MeterValues": {
            "connectorId": 0,
            "meterValue": [{"timestamp": now, "sampledValue": [{"value": "0"}]}],
        },
        "StatusNotification": {"connectorId": 0, "errorCode": "NoError", "status": "Available", "timestamp": now},
        "StartTransaction": {"connectorId": connector_id, "idTag": invalid_tag, "meterStart": 0, "timestamp": now},
    }


def run_probe(call: CallFn, invalid_tag: str, vendor_id: str, connector_id: int, timeout: float) -> dict[str, Support]:
    """Probe every action concurrently; returns one :class:`Support` per action (Boot excluded)."""
    payloads = probe_payloads(invalid_tag, vendor_id, connector_id)
    found: dict[str, Support] = {}

    def one(action: str, payload: dict[str, Any]) -> None:
        started = time.monotonic()
        try:
            outcome: dict[str, Any] | BaseException = call(action, payload, timeout)
        except Exception as exc:
            outcome = exc
        found[action] = classify(action, outcome)
        if action != "StartTransaction":
            return
        tx = outcome.get("transactionId") if isinstance(outcome, dict) else None
        if not isinstance(tx, int):
            found["StopTransaction"] = Support("StopTransaction", UNKNOWN, "no transaction to stop")
            return
        stop = {"transactionId": tx, "meterStop": 0, "timestamp": timestamp(), "reason": "DeAuthorized"}
        left = max(0.1, timeout - (time.monotonic() - started))
        try:
            stopped: dict[str, Any] | BaseException = call("StopTransaction", stop, left)
        except Exception as exc:
            stopped = exc
        found["StopTransaction"] = classify("StopTransaction", stopped)

    greenlets = [gevent.spawn(one, action, payload) for action, payload in payloads.items()]
    gevent.joinall(greenlets, timeout=timeout * 2 + 1)
    for greenlet in greenlets:
        greenlet.kill(block=False)
    for action in [*payloads, "StopTransaction"]:
        found.setdefault(action, Support(action, UNKNOWN, "no answer"))
    return found
