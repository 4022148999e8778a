"""TC_023_2_CSMS: Start Charging Session - Authorize expired (OCTT 1.6, section 3.8.2, Table 137)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context


@register
class AuthorizeExpired(Case):
    """ "To test if the Central System is able to provide an expired response on an Authorize.req."

    The document labels the Authorize.conf check "Step 1"; the conf is step 2.
    """

    case_id = "TC_023_2_CSMS"
    title = "Start Charging Session - Authorize expired"
    section = "3.8.2"
    table = 137
    cp_actions = ("Authorize",)
    preconditions = ("expired_tag",)
    steps = (
        "1. [EV driver presents expired identification.] The Charge Point sends an Authorize.req",
        "2. The Central System responds with an Authorize.conf",
    )

    def run(self, ctx: Context) -> None:
        auth = ctx.authorize(ctx.tag("expired_tag"), step=1)
        ctx.expect("idTagInfo.status", "Expired", auth.response, step=2, message="Authorize.conf")
