"""TC_007_CSMS: Regular Start Charging Session - Cached Id (OCTT 1.6, section 3.3.1, Table 122)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context


@register
class CachedId(Case):
    """ "To test if the Central System is able to handle a Charge Point starting a transaction with
    an id which is stored in the Authorization cache." No Authorize.req: the StartTransaction
    follows the identification directly. The transaction stays open (the runner stops it)."""

    case_id = "TC_007_CSMS"
    title = "Regular Start Charging Session - Cached Id"
    section = "3.3.1"
    table = 122
    cp_actions = ("StatusNotification", "StartTransaction")
    preconditions = ("valid_tag",)
    steps = (
        "1. [EV driver plugs in the cable.] The Charge Point sends a StatusNotification.req",
        "2. The Central System responds with a StatusNotification.conf",
        "3. [EV driver presents identification.] The Charge Point sends a StartTransaction.req",
        "4. The Central System responds with a StartTransaction.conf",
        "5. The Charge Point sends a StatusNotification.req",
        "6. The Central System responds with a StatusNotification.conf",
    )

    def run(self, ctx: Context) -> None:
        cid, tag = ctx.connector_id, ctx.valid_tag
        preparing = ctx.status(cid, "Preparing", step=1)
        ctx.expect_own("status", "Preparing", preparing.request, step=1, message="StatusNotification.req")

        def start() -> None:
            ex = ctx.start_transaction(cid, tag, step=3)
            ctx.expect("idTagInfo.status", "Accepted", ex.response, step=4, message="StartTransaction.conf")

        def charging() -> None:
            ex = ctx.status(cid, "Charging", step=5)
            ctx.expect_own("status", "Charging", ex.request, step=5, message="StatusNotification.req")

        ctx.either_order(start, charging)
