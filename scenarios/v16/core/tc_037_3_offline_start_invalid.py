"""TC_037_3_CSMS: Offline Start Transaction - Invalid IdTag - StopTransactionOnInvalidId = true
(OCTT 1.6, section 3.12.2, Table 146)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context


@register
class OfflineStartInvalid(Case):
    """ "To test if the Central System can handle when a Charge Point starts a transaction, while
    being offline and queues transaction-related messages, after restoring the connection."

    As TC_037_1 with an idTag unknown to the CSMS: StartTransaction.conf must say Invalid (and,
    per its schema, still carry a transactionId, which the Tool's StopTransaction (reason
    DeAuthorized) then uses). The connector ends Finishing; the runner makes it Available.
    """

    case_id = "TC_037_3_CSMS"
    title = "Offline Start Transaction - Invalid IdTag - StopTransactionOnInvalidId = true"
    section = "3.12.2"
    table = 146
    cp_actions = ("StartTransaction", "StatusNotification", "StopTransaction")
    preconditions = ("invalid_tag",)
    steps = (
        "1. [Remove connectivity between Charge Point and Central System.] [EV Driver starts offline a "
        "transaction with an invalid idTag.] [Restore connectivity between Charge Point and Central System.] "
        "The Charge Point sends a StartTransaction.req",
        "2. The Central System responds with a StartTransaction.conf",
        "3. The Charge Point sends a StatusNotification.req",
        "4. The Central System responds with a StatusNotification.conf",
        "5. The Charge Point sends a StopTransaction.req",
        "6. The Central System responds with a StopTransaction.conf",
        "7. The Charge Point sends a StatusNotification.req",
        "8. The Central System responds with a StatusNotification.conf",
    )

    def run(self, ctx: Context) -> None:
        cid, tag = ctx.connector_id, ctx.tag("invalid_tag")
        ctx.disconnect(clean=False)
        started = ctx.now()
        ctx.sleep(ctx.options.offline_time)
        ctx.connect(step=1)

        def start() -> None:
            ex = ctx.start_transaction(cid, tag, step=1, at=started)
            ctx.expect("idTagInfo.status", "Invalid", ex.response, step=2, message="StartTransaction.conf")

        def charging() -> None:
            ex = ctx.status(cid, "Charging", step=3)
            ctx.expect_own("status", "Charging", ex.request, step=3, message="StatusNotification.req")

        ctx.either_order(start, charging)

        def stop() -> None:
            ex = ctx.stop_transaction(cid, "DeAuthorized", step=5)
            ctx.expect_own("reason", "DeAuthorized", ex.request, step=5, message="StopTransaction.req")

        def finishing() -> None:
            ex = ctx.status(cid, "Finishing", step=7)
            ctx.expect_own("status", "Finishing", ex.request, step=7, message="StatusNotification.req")

        ctx.either_order(stop, finishing)
