"""Which charge-point-initiated actions does the CSMS implement?

Every probe is a schema-valid request chosen not to disturb the CSMS's state (Authorize with an
unknown idTag, DataTransfer with an unknown vendorId, StatusNotification/MeterValues for
connector 0, a StartTransaction for an unknown idTag stopped at once with reason DeAuthorized,
as a charger does with StopTransactionOnInvalidId). They go out one at a time on the booted
connection (OCPP-J §4.1.1: at most one outstanding CALL), each waiting at most
``probe_timeout`` for its answer, which the engine correlates by message id; against a CSMS that
answers at once the whole probe takes a few round trips. BootNotification is not probed: the
run's own boot counts.

NotImplemented or NotSupported = unsupported; any other answer (a CALLERROR with another code
included) = supported; no answer = unknown.

Every action of the Core profile is mandatory (OCPP 1.6 §3: a Central System implements Core),
so the runner turns an unsupported Core action into a FAILED case. The same goes for an action
of a profile the CSMS declares (``--profiles``). Without ``--profiles`` the probe decides: a
profile whose charge-point-initiated action is unsupported (FirmwareManagement:
FirmwareStatusNotification, DiagnosticsStatusNotification) counts as not claimed and its cases
are NOT APPLICABLE; every other profile counts as claimed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ocpp_users.ocppj.errors import (
    CallTimeout,
    ConnectionLost,
    NotImplementedCallError,
    NotSupportedError,
    OcppCallError,
    VolatileOcppError,
)
from scenarios.context import timestamp
from scenarios.results import Support

CallFn = Callable[[str, dict[str, Any], float], dict[str, Any]]

SUPPORTED = "supported"
UNSUPPORTED = "unsupported"
UNKNOWN = "unknown"

#: The charge-point-initiated actions of the OCPP 1.6 Core profile: a CSMS must support them all.
CORE_ACTIONS: frozenset[str] = frozenset(
    {
        "Authorize",
        "BootNotification",
        "DataTransfer",
        "Heartbeat",
        "MeterValues",
        "StartTransaction",
        "StatusNotification",
        "StopTransaction",
    }
)


#: The profile of each charge-point-initiated action outside Core.
ACTION_PROFILES: dict[str, str] = {
    "FirmwareStatusNotification": "FirmwareManagement",
    "DiagnosticsStatusNotification": "FirmwareManagement",
    "SecurityEventNotification": "Security",
    "SignCertificate": "Security",
    "LogStatusNotification": "Security",
    "SignedFirmwareStatusNotification": "Security",
}


def is_core(action: str) -> bool:
    return action in CORE_ACTIONS


def profile_of(action: str) -> str:
    """The feature profile of a charge-point-initiated action (Core for Core's and unknown ones)."""
    return ACTION_PROFILES.get(action, "Core")


def ruled_out(support: dict[str, Support]) -> dict[str, Support]:
    """Profiles the probe rules out, each with the first unsupported action that shows it."""
    out: dict[str, Support] = {}
    for action, found in support.items():
        profile = profile_of(action)
        if profile != "Core" and found.state == UNSUPPORTED and profile not in out:
            out[profile] = found
    return out


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


def _outcome(call: CallFn, action: str, payload: dict[str, Any], timeout: float) -> dict[str, Any] | BaseException:
    try:
        return call(action, payload, timeout)
    except Exception as exc:
        return exc


def run_probe(call: CallFn, invalid_tag: str, vendor_id: str, connector_id: int, timeout: float) -> dict[str, Support]:
    """Probe every action, one call at a time; one :class:`Support` per action (Boot excluded)."""
    found: dict[str, Support] = {}
    for action, payload in probe_payloads(invalid_tag, vendor_id, connector_id).items():
        outcome = _outcome(call, action, payload, timeout)
        found[action] = classify(action, outcome)
        if action != "StartTransaction":
            continue
        tx = outcome.get("transactionId") if isinstance(outcome, dict) else None
        if not isinstance(tx, int):
            found["StopTransaction"] = Support("StopTransaction", UNKNOWN, "no transaction to stop")
            continue
        stop = {"transactionId": tx, "meterStop": 0, "timestamp": timestamp(), "reason": "DeAuthorized"}
        found["StopTransaction"] = classify("StopTransaction", _outcome(call, "StopTransaction", stop, timeout))
    return found
