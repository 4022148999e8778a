"""TC_010_CSMS: Remote Start Charging Session - Cable Plugged in First (OCTT 1.6, section 3.4.1, Table 124)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context


@register
class RemoteStartCableFirst(Case):
    """ "To test if the Central System can handle when a Charge point starts a transaction after
    receiving a RemoteStartTransaction.req from the Central System."

    Direction as in the document: the Tool plugs in (Preparing) first, then the CSMS sends
    RemoteStartTransaction.req, then the Tool authorizes and starts with the request's idTag
    (AuthorizeRemoteTxRequests = true). The transaction stays open (the runner stops it).

    The Tool answers step 4 as a charger does: Accepted for a connector it has (or none named),
    Rejected for connector 0 or one it lacks, which FAILS the case at step 3.
    """

    case_id = "TC_010_CSMS"
    title = "Remote Start Charging Session - Cable Plugged in First"
    section = "3.4.1"
    table = 124
    cp_actions = ("StatusNotification", "Authorize", "StartTransaction")
    csms_actions = ("RemoteStartTransaction",)
    preconditions = ("valid_tag",)
    steps = (
        "1. [EV driver plugs in the cable.] The Charge Point sends a StatusNotification.req",
        "2. The Central System responds with a StatusNotification.conf",
        "3. The Central System sends a RemoteStartTransaction.req",
        "4. The Charge Point responds with a RemoteStartTransaction.conf",
        "5. The Charge Point sends an Authorize.req",
        "6. The Central System responds with an Authorize.conf",
        "7. The Charge Point sends a StartTransaction.req",
        "8. The Central System responds with a StartTransaction.conf",
        "9. The Charge Point sends a StatusNotification.req",
        "10. The Central System responds with a StatusNotification.conf",
    )

    def run(self, ctx: Context) -> None:
        cid = ctx.connector_id
        preparing = ctx.status(cid, "Preparing", step=1)
        ctx.expect_own("status", "Preparing", preparing.request, step=1, message="StatusNotification.req")
        call = ctx.csms_call("RemoteStartTransaction", {"idTag": ctx.valid_tag, "connectorId": cid}, step=3)
        cid, tag = ctx.remote_start_accepted(call, step=3)
        auth = ctx.authorize(tag, step=5)
        ctx.expect("idTagInfo.status", "Accepted", auth.response, step=6, message="Authorize.conf")

        def start() -> None:
            ex = ctx.start_transaction(cid, tag, step=7)
            ctx.expect("idTagInfo.status", "Accepted", ex.response, step=8, message="StartTransaction.conf")

        def charging() -> None:
            ex = ctx.status(cid, "Charging", step=9)
            ctx.expect_own("status", "Charging", ex.request, step=9, message="StatusNotification.req")

        ctx.either_order(start, charging)
