"""TC_018_1_CSMS: Unlock Connector - With Charging Session (Not fixed cable)
(OCTT 1.6, section 3.6.3, Table 132)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context


@register
class UnlockWithSession(Case):
    """ "To test if the Central System can handle when the Charge Point unlocks the connector, when
    requested by the Central System." Here Finishing comes before StopTransaction (reason
    UnlockCommand), as written; §1.2 allows the other order (``--swap-order``)."""

    case_id = "TC_018_1_CSMS"
    title = "Unlock Connector - With Charging Session (Not fixed cable)"
    section = "3.6.3"
    table = 132
    cp_actions = ("Authorize", "StatusNotification", "StartTransaction", "StopTransaction")
    csms_actions = ("UnlockConnector",)
    preconditions = ("valid_tag",)
    steps = (
        "Before: Reusable State(s): Charging",
        "1. The Central System sends a UnlockConnector.req",
        "2. The Charge Point responds with a UnlockConnector.conf",
        "3. The Charge Point sends a StatusNotification.req",
        "4. The Central System responds with a StatusNotification.conf",
        "5. The Charge Point sends a StopTransaction.req",
        "6. The Central System responds with a StopTransaction.conf",
        "7. [EV driver unplugs the cable.] The Charge Point sends a StatusNotification.req",
        "8. The Central System responds with a StatusNotification.conf",
    )

    def run(self, ctx: Context) -> None:
        cid = ctx.connector_id
        ctx.charging()
        call = ctx.csms_call("UnlockConnector", {"connectorId": cid}, step=1)
        ctx.charger_answer(
            call, "Unlocked", step=1, field="connectorId", wanted=f"{cid} (the connector of the transaction)"
        )

        def finishing() -> None:
            ex = ctx.status(cid, "Finishing", step=3)
            ctx.expect_own("status", "Finishing", ex.request, step=3, message="StatusNotification.req")

        def stop() -> None:
            ex = ctx.stop_transaction(cid, "UnlockCommand", step=5)
            ctx.expect_own("reason", "UnlockCommand", ex.request, step=5, message="StopTransaction.req")

        ctx.either_order(finishing, stop)
        available = ctx.status(cid, "Available", step=7)
        ctx.expect_own("status", "Available", available.request, step=7, message="StatusNotification.req")
