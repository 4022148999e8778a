"""TC_057_CSMS: Central Smart Charging - TxProfile (OCTT 1.6, section 3.19.1, Table 174)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context
from scenarios.v16.smart_charging._profiles import next_profile_id, schedule, set_profile_accepted


@register
class CentralSmartChargingTxProfile(Case):
    """ "To check whether the Central System is able to set a schedule for a running transaction on
    a Charge Point."

    After the Charging state the CSMS sets a TxProfile for <Generated transactionId> on
    <Configured connectorId>. The Tool's real handler accepts a TxProfile only for the running
    transaction (OCPP 1.6 §3.13.2); the transaction stays open (the runner stops it).
    """

    case_id = "TC_057_CSMS"
    title = "Central Smart Charging - TxProfile"
    section = "3.19.1"
    table = 174
    profile = "SmartCharging"
    cp_actions = ("Authorize", "StatusNotification", "StartTransaction")
    csms_actions = ("SetChargingProfile",)
    preconditions = ("valid_tag",)
    steps = (
        "Prerequisite: The Central System supports the Smart Charging feature profile.",
        "Before: Reusable State(s): Charging",
        "1. The Central System sends a SetChargingProfile.req",
        "2. The Charge Point responds with a SetChargingProfile.conf",
    )

    def run(self, ctx: Context) -> None:
        tx = ctx.charging()
        payload = {
            "connectorId": ctx.connector_id,
            "csChargingProfiles": {
                "chargingProfileId": next_profile_id(),
                "transactionId": tx,
                "stackLevel": ctx.options.test_data.stack_level,
                "chargingProfilePurpose": "TxProfile",
                "chargingProfileKind": "Relative",
                "chargingSchedule": schedule(ctx, start=False),
            },
        }
        call = ctx.csms_call("SetChargingProfile", payload, step=1)
        message = "SetChargingProfile.req"
        ctx.expect("connectorId", ctx.connector_id, call.payload, step=1, message=message)
        ctx.expect("csChargingProfiles.chargingProfilePurpose", "TxProfile", call.payload, step=1, message=message)
        ctx.expect("csChargingProfiles.transactionId", tx, call.payload, step=1, message=message)
        set_profile_accepted(ctx, call, step=1)
