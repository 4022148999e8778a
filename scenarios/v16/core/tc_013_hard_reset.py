"""TC_013_CSMS: Hard Reset (OCTT 1.6, section 3.5.1, Table 128)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context


@register
class HardReset(Case):
    """ "To test if the Central System is able to trigger a hard reset." After Reset.conf the Tool
    closes its connection, reconnects and boots as a restarted charger does."""

    case_id = "TC_013_CSMS"
    title = "Hard Reset"
    section = "3.5.1"
    table = 128
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
        call = ctx.csms_call("Reset", {"type": "Hard"}, step=1)
        ctx.expect("type", "Hard", call.payload, step=1, message="Reset.req")
        ctx.expect_own("status", "Accepted", call.answer, step=2, message="Reset.conf")
        ctx.reboot(3)
