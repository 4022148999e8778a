"""TC_003_CSMS: Regular Charging Session - Plugin First (OCTT 1.6, section 3.2.1, Table 118)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context


@register
class RegularChargingPluginFirst(Case):
    """ "To test if the Central System can handle when the Charge Point starts a Charging Session
    when first doing plugin cable." The transaction stays open (the runner stops it afterwards)."""

    case_id = "TC_003_CSMS"
    title = "Regular Charging Session - Plugin First"
    section = "3.2.1"
    table = 118
    cp_actions = ("StatusNotification", "Authorize", "StartTransaction")
    preconditions = ("valid_tag",)
    steps = (
        "1. [EV driver plugs in the cable.] The Charge Point sends a StatusNotification.req",
        "2. The Central System responds with a StatusNotification.conf",
        "3. [EV driver presents identification.] The Charge Point sends an Authorize.req",
        "4. The Central System responds with an Authorize.conf",
        "5. The Charge Point sends a StartTransaction.req",
        "6. The Central System responds with a StartTransaction.conf",
        "7. The Charge Point sends a StatusNotification.req",
        "8. The Central System responds with a StatusNotification.conf",
    )

    def run(self, ctx: Context) -> None:
        cid, tag = ctx.connector_id, ctx.valid_tag
        preparing = ctx.status(cid, "Preparing", step=1)
        ctx.expect_own("status", "Preparing", preparing.request, step=1, message="StatusNotification.req")
        auth = ctx.authorize(tag, step=3)
        ctx.expect("idTagInfo.status", "Accepted", auth.response, step=4, message="Authorize.conf")

        def start() -> None:
            ex = ctx.start_transaction(cid, tag, step=5)
            ctx.expect("idTagInfo.status", "Accepted", ex.response, step=6, message="StartTransaction.conf")

        def charging() -> None:
            ex = ctx.status(cid, "Charging", step=7)
            ctx.expect_own("status", "Charging", ex.request, step=7, message="StatusNotification.req")

        ctx.either_order(start, charging)
