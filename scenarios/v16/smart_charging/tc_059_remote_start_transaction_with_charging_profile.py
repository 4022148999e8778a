"""TC_059_CSMS: Remote Start Transaction with Charging Profile (OCTT 1.6, section 3.19.4, Table 177)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context
from scenarios.v16.smart_charging._profiles import next_profile_id, schedule

PROFILE = "chargingProfile"


@register
class RemoteStartWithChargingProfile(Case):
    """ "To check whether the Central System can trigger a Charge Point to start a transaction
    with a Charging Profile."

    The request must carry <Configured valid IdTag>, <Configured ConnectorId> and a TxProfile
    without transactionId, Relative, whose first period starts at 0. The Tool's real handler
    answers (Accepted for a connector it has and a TxProfile; OCPP 1.6 §5.11), installs the
    profile, then the Tool authorizes, plugs in, starts and charges on the request's connector
    with its idTag. The transaction stays open (the runner stops it).
    """

    case_id = "TC_059_CSMS"
    title = "Remote Start Transaction with Charging Profile"
    section = "3.19.4"
    table = 177
    profile = "SmartCharging"
    cp_actions = ("Authorize", "StatusNotification", "StartTransaction")
    csms_actions = ("RemoteStartTransaction",)
    preconditions = ("valid_tag",)
    steps = (
        "Prerequisite: The Central System supports the Smart Charging feature profile.",
        "1. The Central Systems sends a RemoteStartTransaction.req",
        "2. The Charge Point responds with a RemoteStartTransaction.conf",
        "3. The Charge Point sends an Authorize.req",
        "4. The Central System responds with an Authorize.conf",
        "5. [The charging cable is plugged in] The Charge Point sends a StatusNotification.req",
        "6. The Central System responds with a StatusNotification.conf",
        "7. The Charge Point sends a StartTransaction.req",
        "8. The Central System responds with a StartTransaction.conf",
        "9. The Charge Point sends a StatusNotification.req",
        "10. The Central System responds with a StatusNotification.conf",
    )

    def run(self, ctx: Context) -> None:
        payload = {
            "connectorId": ctx.connector_id,
            "idTag": ctx.valid_tag,
            PROFILE: {
                "chargingProfileId": next_profile_id(),
                "stackLevel": ctx.options.test_data.stack_level,
                "chargingProfilePurpose": "TxProfile",
                "chargingProfileKind": "Relative",
                "chargingSchedule": {
                    **schedule(ctx, start=False),
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": ctx.options.test_data.limit}],
                },
            },
        }
        call = ctx.csms_call("RemoteStartTransaction", payload, step=1)
        message = "RemoteStartTransaction.req"
        ctx.expect("idTag", ctx.valid_tag, call.payload, step=1, message=message)
        ctx.expect("connectorId", ctx.connector_id, call.payload, step=1, message=message)
        ctx.expect(f"{PROFILE}.chargingProfilePurpose", "TxProfile", call.payload, step=1, message=message)
        ctx.expect_absent(f"{PROFILE}.transactionId", call.payload, step=1, message=message)
        ctx.expect(f"{PROFILE}.chargingProfileKind", "Relative", call.payload, step=1, message=message)
        ctx.expect(
            f"{PROFILE}.chargingSchedule.chargingSchedulePeriod.0.startPeriod", 0, call.payload, step=1, message=message
        )
        cid, tag = ctx.remote_start_accepted(call, step=1)
        auth = ctx.authorize(tag, step=3)
        ctx.expect_own("idTag", call.payload["idTag"], auth.request, step=3, message="Authorize.req")
        ctx.expect("idTagInfo.status", "Accepted", auth.response, step=4, message="Authorize.conf")
        preparing = ctx.status(cid, "Preparing", step=5)
        ctx.expect_own("status", "Preparing", preparing.request, step=5, message="StatusNotification.req")

        def start() -> None:
            ex = ctx.start_transaction(cid, tag, step=7)
            ctx.expect("idTagInfo.status", "Accepted", ex.response, step=8, message="StartTransaction.conf")

        def charging() -> None:
            ex = ctx.status(cid, "Charging", step=9)
            ctx.expect_own("status", "Charging", ex.request, step=9, message="StatusNotification.req")

        ctx.either_order(start, charging)
