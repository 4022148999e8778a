"""TC_085_CSMS: Basic Authentication - Valid username/password combination (OCTT 1.6, Table 189)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context
from scenarios.options import RunOptions


@register
class BasicAuthentication(Case):
    """ "To verify whether the Central System is able to validate the (valid) Basic authentication
    credentials provided by the Charge Point at the connection request."

    Applies when the run uses security profile 1 or 2 (``--security-profile`` with
    ``--basic-auth-password``). The document lists no tool validations; the case fails when the
    CSMS refuses the upgrade, or does not answer the BootNotification/StatusNotifications with a
    valid conf. The case sits under 3.21.3 in the document (after TC_081) although it belongs to
    "Secure connection setup".
    """

    case_id = "TC_085_CSMS"
    title = "Basic Authentication - Valid username/password combination"
    section = "3.21.3"
    table = 189
    profile = "Security"
    cp_actions = ("BootNotification", "StatusNotification")
    steps = (
        "Before: Reusable State(s): The OCTT closes the connection.",
        "1. The Charge Point sends a HTTP upgrade request to the Central System",
        "2. The Central System upgrades the connection to a WebSocket connection.",
        "3. The Charge Point sends a BootNotification.req",
        "4. The Central System responds with a BootNotification.conf",
        "5. [Send per connector and connectorId=0.] The Charge Point sends a StatusNotification.req",
        "6. The Central System responds with a StatusNotification.conf",
    )

    @classmethod
    def not_applicable(cls, options: RunOptions) -> str | None:
        if options.security.profile not in (1, 2) or not options.security.password:
            return "needs Basic authentication: --security-profile 1 or 2 with --basic-auth-password"
        return None

    def run(self, ctx: Context) -> None:
        ctx.disconnect(clean=True)
        ctx.connect(step=2)
        password = ctx.options.security.password or ""
        if len(password) < 16:
            ctx.note("the configured AuthorizationKey is shorter than the 16 characters OCPP requires")
        boot = ctx.boot(step=3)
        ctx.note(f"step 4: BootNotification.conf status {boot.response.get('status')}")
        ctx.statuses(step=5)
