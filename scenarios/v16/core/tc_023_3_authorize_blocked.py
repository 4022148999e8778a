"""TC_023_3_CSMS: Start Charging Session - Authorize blocked (OCTT 1.6, section 3.8.3, Table 138)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context


@register
class AuthorizeBlocked(Case):
    """ "To test if the Central System is able to provide a blocked response on an Authorize.req."

    The document labels the Authorize.conf check "Step 1"; the conf is step 2.
    """

    case_id = "TC_023_3_CSMS"
    title = "Start Charging Session - Authorize blocked"
    section = "3.8.3"
    table = 138
    cp_actions = ("Authorize",)
    preconditions = ("blocked_tag",)
    steps = (
        "1. [EV driver presents blocked identification.] The Charge Point sends an Authorize.req",
        "2. The Central System responds with an Authorize.conf",
    )

    def run(self, ctx: Context) -> None:
        auth = ctx.authorize(ctx.tag("blocked_tag"), step=1)
        ctx.expect("idTagInfo.status", "Blocked", auth.response, step=2, message="Authorize.conf")
