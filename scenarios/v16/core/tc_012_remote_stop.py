"""TC_012_CSMS: Remote Stop Charging Session (OCTT 1.6, section 3.4.4, Table 127)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context


@register
class RemoteStop(Case):
    """ "To test if the Central System can remotely stop a transaction." The document prescribes no
    transactionId; a request for another transaction than the running one is noted, not failed."""

    case_id = "TC_012_CSMS"
    title = "Remote Stop Charging Session"
    section = "3.4.4"
    table = 127
    cp_actions = ("Authorize", "StatusNotification", "StartTransaction", "StopTransaction")
    csms_actions = ("RemoteStopTransaction",)
    preconditions = ("valid_tag",)
    steps = (
        "Before: Reusable State(s): Charging",
        "1. The Central System sends a RemoteStopTransaction.req",
        "2. The Charge Point responds with a RemoteStopTransaction.conf",
        "3. The Charge Point sends a StopTransaction.req",
        "4. The Central System responds with a StopTransaction.conf",
        "5. The Charge Point sends a StatusNotification.req",
        "6. The Central System responds with a StatusNotification.conf",
        "7. [EV driver unplugs the cable.] The Charge Point sends a StatusNotification.req",
        "8. The Central System responds with a StatusNotification.conf",
    )

    def run(self, ctx: Context) -> None:
        cid = ctx.connector_id
        tx = ctx.charging()
        call = ctx.csms_call(
            "RemoteStopTransaction", {"transactionId": tx if tx is not None else 0}, step=1, answer="Accepted"
        )
        ctx.expect_own("status", "Accepted", call.answer, step=2, message="RemoteStopTransaction.conf")
        if call.payload.get("transactionId") != tx:
            ctx.note(
                f"step 1: RemoteStopTransaction.req names transaction {call.payload.get('transactionId')}, "
                f"the running one is {tx}"
            )

        def stop() -> None:
            ex = ctx.stop_transaction(cid, "Remote", step=3)
            ctx.expect_own("reason", "Remote", ex.request, step=3, message="StopTransaction.req")

        def finishing() -> None:
            ex = ctx.status(cid, "Finishing", step=5)
            ctx.expect_own("status", "Finishing", ex.request, step=5, message="StatusNotification.req")

        ctx.either_order(stop, finishing)
        available = ctx.status(cid, "Available", step=7)
        ctx.expect_own("status", "Available", available.request, step=7, message="StatusNotification.req")
