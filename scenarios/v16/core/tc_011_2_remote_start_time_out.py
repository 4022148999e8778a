"""TC_011_2_CSMS: Remote Start Charging Session - Time Out (OCTT 1.6, section 3.4.3, Table 126)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context


@register
class RemoteStartTimeOut(Case):
    """ "To test if the Central System can handle when a Charge Point sets the connector back to
    available, after reaching the configured connection timeout." The Tool's connection timeout
    is ``--connection-timeout`` seconds (default 1); no StartTransaction is sent."""

    case_id = "TC_011_2_CSMS"
    title = "Remote Start Charging Session - Time Out"
    section = "3.4.3"
    table = 126
    cp_actions = ("Authorize", "StatusNotification")
    csms_actions = ("RemoteStartTransaction",)
    preconditions = ("valid_tag",)
    steps = (
        "1. The Central System sends a RemoteStartTransaction.req",
        "2. The Charge Point responds with a RemoteStartTransaction.conf",
        "3. The Charge Point sends an Authorize.req",
        "4. The Central System responds with an Authorize.conf",
        "5. The Charge Point sends a StatusNotification.req",
        "6. The Central System responds with a StatusNotification.conf",
        "7. [After the configured connection timeout has been reached.] The Charge Point sends a "
        "StatusNotification.req",
        "8. The Central System responds with a StatusNotification.conf",
    )

    def run(self, ctx: Context) -> None:
        call = ctx.csms_call(
            "RemoteStartTransaction",
            {"idTag": ctx.valid_tag, "connectorId": ctx.connector_id},
            step=1,
        )
        cid, tag = ctx.remote_start_accepted(call, step=1)
        auth = ctx.authorize(tag, step=3)
        ctx.expect("idTagInfo.status", "Accepted", auth.response, step=4, message="Authorize.conf")
        preparing = ctx.status(cid, "Preparing", step=5)
        ctx.expect_own("status", "Preparing", preparing.request, step=5, message="StatusNotification.req")
        ctx.sleep(ctx.options.connection_timeout)
        available = ctx.status(cid, "Available", step=7)
        ctx.expect_own("status", "Available", available.request, step=7, message="StatusNotification.req")
