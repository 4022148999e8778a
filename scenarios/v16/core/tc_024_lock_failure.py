"""TC_024_CSMS: Start Charging Session Lock Failure (OCTT 1.6, section 3.8.4, Table 139)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context


@register
class LockFailure(Case):
    """ "To test if the Central System is able to handle a report of a connector lock failure."
    The connector ends Faulted; the runner reports it Available/NoError afterwards."""

    case_id = "TC_024_CSMS"
    title = "Start Charging Session Lock Failure"
    section = "3.8.4"
    table = 139
    cp_actions = ("Authorize", "StatusNotification")
    preconditions = ("valid_tag",)
    steps = (
        "Before: Reusable State(s): Authorized",
        "1. The Charge Point sends a StatusNotification.req",
        "2. The Central System responds with a StatusNotification.conf",
        "3. [EV driver plugs in the cable.] The Charge Point sends a StatusNotification.req",
        "4. The Central System responds with a StatusNotification.conf",
    )

    def run(self, ctx: Context) -> None:
        cid = ctx.connector_id
        ctx.authorized()
        preparing = ctx.status(cid, "Preparing", step=1)
        ctx.expect_own("status", "Preparing", preparing.request, step=1, message="StatusNotification.req")
        faulted = ctx.status(cid, "Faulted", step=3, error_code="ConnectorLockFailure")
        ctx.expect_own("errorCode", "ConnectorLockFailure", faulted.request, step=3, message="StatusNotification.req")
        ctx.expect_own("status", "Faulted", faulted.request, step=3, message="StatusNotification.req")
