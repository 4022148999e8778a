"""TC_005_1_CSMS: EV Side Disconnected - StopTransactionOnEVSideDisconnect = true -
UnlockConnectorOnEVSideDisconnect = true (OCTT 1.6, section 3.2.4, Table 121)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context


@register
class EvSideDisconnected(Case):
    """ "To test if the Central System can handle when the Charge Point stops the transaction when
    the cable is disconnected at EV side, and it is configured to do so."

    The two configuration keys of the title are the Tool's own behaviour. StopTransaction carries
    reason EVDisconnected (the original tool wrongly sent Other).
    """

    case_id = "TC_005_1_CSMS"
    title = "EV Side Disconnected - StopTransactionOnEVSideDisconnect = true - UnlockConnectorOnEVSideDisconnect = true"
    section = "3.2.4"
    table = 121
    cp_actions = ("Authorize", "StatusNotification", "StartTransaction", "StopTransaction")
    preconditions = ("valid_tag",)
    steps = (
        "Before: Reusable State(s): Charging",
        "1. [EV driver disconnects cable on EV side.] The Charge Point sends a StatusNotification.req",
        "2. The Central System responds with a StatusNotification.conf",
        "3. The Charge Point sends a StopTransaction.req",
        "4. The Central System responds with a StopTransaction.conf",
        "5. The Charge Point sends a StatusNotification.req",
        "6. The Central System responds with a StatusNotification.conf",
        "7. [EV driver unplugs the cable from the Charge Point.] The Charge Point sends a StatusNotification.req",
        "8. The Central System responds with a StatusNotification.conf",
    )

    def run(self, ctx: Context) -> None:
        cid = ctx.connector_id
        ctx.charging()
        suspended = ctx.status(cid, "SuspendedEV", step=1)
        ctx.expect_own("status", "SuspendedEV", suspended.request, step=1, message="StatusNotification.req")

        def stop() -> None:
            ex = ctx.stop_transaction(cid, "EVDisconnected", step=3)
            ctx.expect_own("reason", "EVDisconnected", ex.request, step=3, message="StopTransaction.req")

        def finishing() -> None:
            ex = ctx.status(cid, "Finishing", step=5)
            ctx.expect_own("status", "Finishing", ex.request, step=5, message="StatusNotification.req")

        ctx.either_order(stop, finishing)
        available = ctx.status(cid, "Available", step=7)
        ctx.expect_own("status", "Available", available.request, step=7, message="StatusNotification.req")
