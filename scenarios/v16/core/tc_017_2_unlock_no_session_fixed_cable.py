"""TC_017_2_CSMS: Unlock connector - no charging session running (Fixed cable) (OCTT 1.6, section 3.6.2, Table 131)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context


@register
class UnlockNoSessionFixedCable(Case):
    """ "To test if the Central System can handle when the Charge Point notifies the Central System
    that it does not support the unlocking of a connector."

    The CSMS must send UnlockConnector.req (no connectorId is prescribed; we request
    <Configured ConnectorId>); the Tool answers NotSupported.
    """

    case_id = "TC_017_2_CSMS"
    title = "Unlock connector - no charging session running (Fixed cable)"
    section = "3.6.2"
    table = 131
    csms_actions = ("UnlockConnector",)
    steps = (
        "1. The Central System sends a UnlockConnector.req",
        "2. The Charge Point responds with a UnlockConnector.conf",
    )

    def run(self, ctx: Context) -> None:
        call = ctx.csms_call("UnlockConnector", {"connectorId": ctx.connector_id}, step=1, answer="NotSupported")
        ctx.expect_own("status", "NotSupported", call.answer, step=2, message="UnlockConnector.conf")
