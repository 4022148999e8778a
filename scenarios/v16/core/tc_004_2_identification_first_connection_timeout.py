"""TC_004_2_CSMS: Regular Charging Session - Identification First - ConnectionTimeOut
(OCTT 1.6, section 3.2.3, Table 120)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context


@register
class IdentificationFirstConnectionTimeout(Case):
    """ "To test if the Central System can handle when the Charge Point sets the connector back to
    Available, when the connectionTimeOut is reached."

    ConnectionTimeOut is the Tool's own timer; the document gives no value. We wait
    ``--connection-timeout`` seconds (default 1) between Preparing and Available.
    """

    case_id = "TC_004_2_CSMS"
    title = "Regular Charging Session - Identification First - ConnectionTimeOut"
    section = "3.2.3"
    table = 120
    cp_actions = ("Authorize", "StatusNotification")
    preconditions = ("valid_tag",)
    steps = (
        "Before: Reusable State(s): Authorized",
        "1. The Charge Point sends a StatusNotification.req",
        "2. The Central System responds with a StatusNotification.conf",
        "3. [After the configured connectionTimeOut has expired.] The Charge Point sends a StatusNotification.req",
        "4. The Central System responds with a StatusNotification.conf",
    )

    def run(self, ctx: Context) -> None:
        cid = ctx.connector_id
        ctx.authorized()
        preparing = ctx.status(cid, "Preparing", step=1)
        ctx.expect_own("status", "Preparing", preparing.request, step=1, message="StatusNotification.req")
        ctx.sleep(ctx.options.connection_timeout)
        available = ctx.status(cid, "Available", step=3)
        ctx.expect_own("status", "Available", available.request, step=3, message="StatusNotification.req")
