"""TC_001_CSMS: Cold Boot Charge Point (OCTT 1.6, section 3.1.1, Table 117)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context


@register
class ColdBoot(Case):
    """ "To test if the Central System is able to handle a boot process."

    The Tool closes its connection and opens a new one before booting: a cold boot starts
    from nothing. Heartbeat: the document has the Tool send a Heartbeat.req "[Every x
    seconds.]", x being the interval of step 2. We send one Heartbeat (after ``--heartbeat-wait``
    seconds, default at once) and check that it is answered: waiting for the CSMS's interval
    (often minutes) would make the suite as slow as that interval without checking anything
    more about the CSMS.
    """

    case_id = "TC_001_CSMS"
    title = "Cold Boot Charge Point"
    section = "3.1.1"
    table = 117
    cp_actions = ("BootNotification", "StatusNotification", "Heartbeat")
    steps = (
        "1. The Charge Point sends a BootNotification.req",
        "2. The Central System responds with a BootNotification.conf",
        "3. [Send a StatusNotification per connector and connectorId=0.] The Charge Point sends a "
        "StatusNotification.req",
        "4. The Central System responds with a StatusNotification.conf",
        "5. [Every x seconds.] The Charge Point sends a Heartbeat.req",
        "6. The Central System responds with a Heartbeat.conf",
    )

    def run(self, ctx: Context) -> None:
        ctx.disconnect(clean=True)
        ctx.connect(step=1)
        boot = ctx.boot(step=1)
        ctx.expect("status", "Accepted", boot.response, step=2, message="BootNotification.conf")
        for ex in ctx.statuses(step=3):
            ctx.expect_own("status", "Available", ex.request, step=3, message="StatusNotification.req")
        ctx.sleep(ctx.options.heartbeat_wait)
        ctx.heartbeat(step=5)
        ctx.note(f"step 5: one Heartbeat.req sent (interval from step 2: {boot.response.get('interval')} s)")
