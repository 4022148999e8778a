"""TC_012_CSMS: Remote Stop Charging Session (OCTT 1.6, section 3.4.4, Table 127)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context


@register
class RemoteStop(Case):
    """ "To test if the Central System can remotely stop a transaction."

    The Tool answers step 2 as a charger does (OCPP 1.6 §5.12): Accepted when the request names
    the transaction it runs, Rejected otherwise, which FAILS the case at step 1 (the request).
    """

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
        call = ctx.csms_call("RemoteStopTransaction", {"transactionId": tx if tx is not None else 0}, step=1)
        ctx.charger_answer(
            call, "Accepted", step=1, field="transactionId", wanted=f"{tx} (the transaction the charge point runs)"
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
