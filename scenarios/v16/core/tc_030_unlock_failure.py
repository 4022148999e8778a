"""TC_030_CSMS: Unlock Connector - Unlock Failure (OCTT 1.6, section 3.10.1, Table 142)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context


@register
class UnlockFailure(Case):
    """ "To test if the Central System is able to handle a report of a connector lock failure."
    (sic: the document copied TC_024's purpose.)

    The CSMS must send UnlockConnector.req (no connectorId is prescribed; we request
    <Configured ConnectorId>); the Tool answers UnlockFailed.
    """

    case_id = "TC_030_CSMS"
    title = "Unlock Connector - Unlock Failure"
    section = "3.10.1"
    table = 142
    csms_actions = ("UnlockConnector",)
    steps = (
        "1. The Central System sends a UnlockConnector.req",
        "2. The Charge Point responds with a UnlockConnector.conf",
    )

    def run(self, ctx: Context) -> None:
        call = ctx.csms_call("UnlockConnector", {"connectorId": ctx.connector_id}, step=1, answer="UnlockFailed")
        ctx.expect_own("status", "UnlockFailed", call.answer, step=2, message="UnlockConnector.conf")
