"""TC_011_1_CSMS: Remote Start Charging Session - Remote Start First (OCTT 1.6, section 3.4.2, Table 125)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context


@register
class RemoteStartFirst(Case):
    """ "To test if the Central System can handle when a Charge point starts a transaction after
    receiving a RemoteStartTransaction.req from the Central System."

    The document labels the Authorize.conf check "Step 6"; Authorize.conf is step 4 (step 6 is a
    StatusNotification.conf), so the check is applied to step 4. The transaction stays open.
    """

    case_id = "TC_011_1_CSMS"
    title = "Remote Start Charging Session - Remote Start First"
    section = "3.4.2"
    table = 125
    cp_actions = ("Authorize", "StatusNotification", "StartTransaction")
    csms_actions = ("RemoteStartTransaction",)
    preconditions = ("valid_tag",)
    steps = (
        "1. The Central System sends a RemoteStartTransaction.req",
        "2. The Charge Point responds with a RemoteStartTransaction.conf",
        "3. The Charge Point sends an Authorize.req",
        "4. The Central System responds with an Authorize.conf",
        "5. The Charge Point sends a StatusNotification.req",
        "6. The Central System responds with a StatusNotification.conf",
        "7. [EV driver plugs in the cable.] The Charge Point sends a StartTransaction.req",
        "8. The Central System responds with a StartTransaction.conf",
        "9. The Charge Point sends a StatusNotification.req",
        "10. The Central System responds with a StatusNotification.conf",
    )

    def run(self, ctx: Context) -> None:
        call = ctx.csms_call(
            "RemoteStartTransaction",
            {"idTag": ctx.valid_tag, "connectorId": ctx.connector_id},
            step=1,
        )
        cid, tag = ctx.remote_start_accepted(call, step=1)
        auth = ctx.authorize(tag, step=3)
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
