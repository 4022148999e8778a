"""TC_014_CSMS: Soft Reset (OCTT 1.6, section 3.5.2, Table 129)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context


@register
class SoftReset(Case):
    """ "To test if the Central System is able to trigger a soft reset." After Reset.conf the Tool
    closes its connection, reconnects and boots (a soft reset restarts the software)."""

    case_id = "TC_014_CSMS"
    title = "Soft Reset"
    section = "3.5.2"
    table = 129
    cp_actions = ("BootNotification", "StatusNotification")
    csms_actions = ("Reset",)
    steps = (
        "1. The Central System sends a Reset.req",
        "2. The Charge Point responds with a Reset.conf",
        "3. The Charge Point sends a BootNotification.req",
        "4. The Central System responds with a BootNotification.conf",
        "5. [Send per connector and connectorId=0.] The Charge Point sends a StatusNotification.req",
        "6. The Central System responds with a StatusNotification.conf",
    )

    def run(self, ctx: Context) -> None:
        call = ctx.csms_call("Reset", {"type": "Soft"}, step=1)
        ctx.expect("type", "Soft", call.payload, step=1, message="Reset.req")
        ctx.expect_own("status", "Accepted", call.answer, step=2, message="Reset.conf")
        ctx.reboot(3)
