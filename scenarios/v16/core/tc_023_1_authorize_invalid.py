"""TC_023_1_CSMS: Start Charging Session - Authorize invalid (OCTT 1.6, section 3.8.1, Table 136)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context


@register
class AuthorizeInvalid(Case):
    """ "To test if the Central System is able to provide an invalid response on an Authorize.req."

    The document labels the Authorize.conf check "Step 1"; the conf is step 2.
    """

    case_id = "TC_023_1_CSMS"
    title = "Start Charging Session - Authorize invalid"
    section = "3.8.1"
    table = 136
    cp_actions = ("Authorize",)
    preconditions = ("invalid_tag",)
    steps = (
        "1. [EV driver presents invalid identification.] The Charge Point sends an Authorize.req",
        "2. The Central System responds with an Authorize.conf",
    )

    def run(self, ctx: Context) -> None:
        auth = ctx.authorize(ctx.tag("invalid_tag"), step=1)
        ctx.expect("idTagInfo.status", "Invalid", auth.response, step=2, message="Authorize.conf")
