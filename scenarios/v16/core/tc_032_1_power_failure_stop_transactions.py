"""TC_032_1_CSMS: Power failure boot charging point-configured to stop transaction(s)
(OCTT 1.6, section 3.11.1, Table 144)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context


@register
class PowerFailureStopTransactions(Case):
    """ "To test if the Central System can handle when a Charge Point stops all transactions, when
    a power failure occurred."

    The power loss cuts the connection without a close handshake. After the boot connector 0 and
    the other connectors report Available, the connector that had the transaction Finishing, and
    the StopTransaction (reason PowerLoss) for the Charging state's transaction goes out,
    timestamped before the outage; §1.2 lets StatusNotification(Finishing) and StopTransaction.req
    go in either order (the document's, or the other with ``--swap-order``). The document's
    "(Message: BootNotification.req) status is Accepted" means the BootNotification.conf.
    """

    case_id = "TC_032_1_CSMS"
    title = "Power failure boot charging point-configured to stop transaction(s)"
    section = "3.11.1"
    table = 144
    cp_actions = ("Authorize", "BootNotification", "StatusNotification", "StartTransaction", "StopTransaction")
    preconditions = ("valid_tag",)
    steps = (
        "Before: Reusable State(s): Charging",
        "1. [Disconnect and reconnect the power of the Charge Point.] The Charge Point sends a BootNotification.req",
        "2. The Central System responds with a BootNotification.conf",
        "3. [Send per connector and connectorId = 0.] The Charge Point sends a StatusNotification.req",
        "4. The Central System responds with a StatusNotification.conf",
        "5. The Charge Point sends a StopTransaction.req",
        "6. The Central System responds with a StopTransaction.conf",
    )

    def run(self, ctx: Context) -> None:
        cid = ctx.connector_id
        tx = ctx.charging()
        outage, reading = ctx.now(), ctx.cp.connectors[cid].meter.stop()
        ctx.reboot(1, clean=False, skip=(cid,))

        def finishing() -> None:
            ex = ctx.status(cid, "Finishing", step=3)
            ctx.expect_own("status", "Finishing", ex.request, step=3, message="StatusNotification.req")

        def stop() -> None:
            ex = ctx.stop_transaction(cid, "PowerLoss", step=5, at=outage, transaction_id=tx, meter_stop=reading)
            ctx.expect_own("reason", "PowerLoss", ex.request, step=5, message="StopTransaction.req")

        ctx.either_order(finishing, stop)
