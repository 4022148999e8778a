"""TC_039_CSMS: Offline Transaction (OCTT 1.6, section 3.12.3, Table 147)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context


@register
class OfflineTransaction(Case):
    """ "To test if the Central System is able to handle queued transaction-related messages, after
    a Charge Point comes back online again."

    The whole transaction happens offline (``--offline-time`` seconds); after reconnecting (no
    BootNotification) the Tool sends the queued StartTransaction, waits for its transactionId,
    then the StopTransaction (reason Local), both timestamped in the offline period.
    """

    case_id = "TC_039_CSMS"
    title = "Offline Transaction"
    section = "3.12.3"
    table = 147
    cp_actions = ("StartTransaction", "StopTransaction")
    preconditions = ("valid_tag",)
    steps = (
        "1. [Remove connectivity between Charge Point and Central System.] [EV Driver starts offline a "
        "transaction.] [EV Driver stops offline a transaction.] [EV driver unplugs the cable.] [Restore "
        "connectivity between Charge Point and Central System.] The Charge Point sends a StartTransaction.req",
        "2. The Central System responds with a StartTransaction.conf",
        "3. The Charge Point sends a StopTransaction.req",
        "4. The Central System responds with a StopTransaction.conf",
    )

    def run(self, ctx: Context) -> None:
        cid, tag = ctx.connector_id, ctx.valid_tag
        meter = ctx.cp.connectors[cid].meter
        ctx.disconnect(clean=False)
        started, meter_start = ctx.now(), meter.start()
        ctx.sleep(ctx.options.offline_time)
        stopped, meter_stop = ctx.now(), meter.stop()
        ctx.connect(step=1)
        start = ctx.start_transaction(cid, tag, step=1, at=started, meter_start=meter_start)
        ctx.expect("idTagInfo.status", "Accepted", start.response, step=2, message="StartTransaction.conf")
        stop = ctx.stop_transaction(cid, "Local", step=3, at=stopped, meter_stop=meter_stop)
        ctx.expect_own("reason", "Local", stop.request, step=3, message="StopTransaction.req")
