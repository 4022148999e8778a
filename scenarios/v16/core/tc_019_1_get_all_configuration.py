"""TC_019_1_CSMS: Retrieve all configuration keys (OCTT 1.6, section 3.7.1, Table 133)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context
from scenarios.results import Check, show

#: Step 2's list: key -> accessibility ("R", "RW" or "R or RW").
REQUIRED_KEYS: dict[str, str] = {
    # Core
    "AuthorizeRemoteTxRequests": "R or RW",
    "ClockAlignedDataInterval": "RW",
    "ConnectionTimeOut": "RW",
    "ConnectorPhaseRotation": "RW",
    "GetConfigurationMaxKeys": "R",
    "HeartbeatInterval": "RW",
    "LocalAuthorizeOffline": "RW",
    "LocalPreAuthorize": "RW",
    "MeterValuesAlignedData": "RW",
    "MeterValuesSampledData": "RW",
    "MeterValueSampleInterval": "RW",
    "NumberOfConnectors": "R",
    "ResetRetries": "RW",
    "StopTransactionOnEVSideDisconnect": "RW",
    "StopTransactionOnInvalidId": "RW",
    "StopTxnAlignedData": "RW",
    "StopTxnSampledData": "RW",
    "SupportedFeatureProfiles": "R",
    "TransactionMessageAttempts": "RW",
    "TransactionMessageRetryInterval": "RW",
    "UnlockConnectorOnEVSideDisconnect": "RW",
    # Local Auth List Management
    "LocalAuthListEnabled": "RW",
    "LocalAuthListMaxLength": "R",
    "SendLocalListMaxLength": "R",
    # Smart Charging
    "ChargeProfileMaxStackLevel": "R",
    "ChargingScheduleAllowedChargingRateUnit": "R",
    "ChargingScheduleMaxPeriods": "R",
    "MaxChargingProfilesInstalled": "R",
}


def accessibility_problems(answer: dict[str, object] | None) -> list[str]:
    """Keys of step 2's list missing from our GetConfiguration.conf or with the wrong readonly flag."""
    entries = answer.get("configurationKey") if isinstance(answer, dict) else None
    found = (
        {e.get("key"): e.get("readonly") for e in entries if isinstance(e, dict)} if isinstance(entries, list) else {}
    )
    problems = []
    for key, access in REQUIRED_KEYS.items():
        if key not in found:
            problems.append(f"{key} missing")
        elif access == "R" and found[key] is not True:
            problems.append(f"{key} not read-only")
        elif access == "RW" and found[key] is not False:
            problems.append(f"{key} not writable")
    return problems


@register
class GetAllConfiguration(Case):
    """ "To check whether the Central System is able to retrieve all Configuration keys and whether
    the Charge Point has all required keys configured." The CSMS's request must have no key
    (an absent ``key`` and ``key: []`` both mean <Empty>)."""

    case_id = "TC_019_1_CSMS"
    title = "Retrieve all configuration keys"
    section = "3.7.1"
    table = 133
    csms_actions = ("GetConfiguration",)
    steps = (
        "1. The Central Systems sends a GetConfiguration.req message to the Charge Point.",
        "2. The Charge Point responds with a GetConfiguration.conf.",
    )

    def run(self, ctx: Context) -> None:
        call = ctx.csms_call("GetConfiguration", {}, step=1)
        key = call.payload.get("key")
        ctx.record(
            Check(
                "1",
                "GetConfiguration.req",
                "key",
                "<Empty>",
                show(key) if key is not None else "<Empty>",
                ok=key is None or key == [],
            )
        )
        problems = accessibility_problems(call.answer)
        ctx.record(
            Check(
                "2",
                "GetConfiguration.conf",
                "configurationKey",
                f"the {len(REQUIRED_KEYS)} required keys with their accessibility",
                "; ".join(problems) if problems else "all present",
                ok=not problems,
                side="tool",
            )
        )
