"""TC_031_CSMS: Unlock Connector - Unknown Connector (OCTT 1.6, section 3.10.2, Table 143)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context


@register
class UnlockUnknownConnector(Case):
    """ "To test if the Central System is able to handle a Charge Point that does not support
    UnlockConnector.req." The description speaks of an unknown connectorId: we request one above
    NumberOfConnectors, but any connectorId passes (the document does not check it); the Tool
    answers NotSupported."""

    case_id = "TC_031_CSMS"
    title = "Unlock Connector - Unknown Connector"
    section = "3.10.2"
    table = 143
    csms_actions = ("UnlockConnector",)
    steps = (
        "1. The Central System sends a UnlockConnector.req",
        "2. The Charge Point responds with a UnlockConnector.conf",
    )

    def run(self, ctx: Context) -> None:
        unknown = max(ctx.cp.connectors) + 1
        call = ctx.csms_call("UnlockConnector", {"connectorId": unknown}, step=1, answer="NotSupported")
        ctx.expect_own("status", "NotSupported", call.answer, step=2, message="UnlockConnector.conf")
