"""TC_037_1_CSMS: Offline Start Transaction - Valid IdTag (OCTT 1.6, section 3.12.1, Table 145)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context


@register
class OfflineStartValid(Case):
    """ "To test if the Central System can handle when a Charge Point starts a transaction, while
    being offline and queues transaction-related messages, after restoring the connection."

    The Tool cuts the connection, starts the transaction offline (``--offline-time`` seconds),
    reconnects without a BootNotification (it did not reboot) and sends the queued
    StartTransaction, timestamped in the offline period. The transaction stays open.
    """

    case_id = "TC_037_1_CSMS"
    title = "Offline Start Transaction - Valid IdTag"
    section = "3.12.1"
    table = 145
    cp_actions = ("StartTransaction", "StatusNotification")
    preconditions = ("valid_tag",)
    steps = (
        "1. [Remove connectivity between Charge Point and Central System.] [EV Driver starts offline a "
        "transaction with a valid idTag.] [Restore connectivity between Charge Point and Central System.] "
        "The Charge Point sends a StartTransaction.req",
        "2. The Central System responds with a StartTransaction.conf",
        "3. The Charge Point sends a StatusNotification.req",
        "4. The Central System responds with a StatusNotification.conf",
    )

    def run(self, ctx: Context) -> None:
        cid, tag = ctx.connector_id, ctx.valid_tag
        ctx.disconnect(clean=False)
        started = ctx.now()
        ctx.sleep(ctx.options.offline_time)
        ctx.connect(step=1)

        def start() -> None:
            ex = ctx.start_transaction(cid, tag, step=1, at=started)
            ctx.expect("idTagInfo.status", "Accepted", ex.response, step=2, message="StartTransaction.conf")

        def charging() -> None:
            ex = ctx.status(cid, "Charging", step=3)
            ctx.expect_own("status", "Charging", ex.request, step=3, message="StatusNotification.req")

        ctx.either_order(start, charging)
