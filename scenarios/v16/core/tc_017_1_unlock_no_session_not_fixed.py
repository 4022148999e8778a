"""TC_017_1_CSMS: Unlock connector - no charging session running (Not fixed cable)
(OCTT 1.6, section 3.6.1, Table 130)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context


@register
class UnlockNoSessionNotFixedCable(Case):
    """ "To test if the Central System can handle when the Charge Point unlocks the connector, when
    requested by the Central System."

    The CSMS must send UnlockConnector.req (no connectorId is prescribed; we request
    <Configured ConnectorId>). The Tool answers as a charger does: Unlocked for a connector it has,
    NotSupported for one it lacks (or 0), which FAILS the case at step 1.
    """

    case_id = "TC_017_1_CSMS"
    title = "Unlock connector - no charging session running (Not fixed cable)"
    section = "3.6.1"
    table = 130
    csms_actions = ("UnlockConnector",)
    steps = (
        "1. The Central System sends a UnlockConnector.req",
        "2. The Charge Point responds with a UnlockConnector.conf",
    )

    def run(self, ctx: Context) -> None:
        call = ctx.csms_call("UnlockConnector", {"connectorId": ctx.connector_id}, step=1)
        ctx.charger_answer(
            call,
            "Unlocked",
            step=1,
            field="connectorId",
            wanted=f"a connector of the charge point ({ctx.connector_range})",
        )
