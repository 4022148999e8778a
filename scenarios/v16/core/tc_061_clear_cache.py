"""TC_061_CSMS: Clear Authorization Data in Authorization Cache (OCTT 1.6, section 3.3.2, Table 123)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context


@register
class ClearCache(Case):
    """ "Check whether the Central System can clear the Authorization Cache of a Charge Point."
    The CSMS must send ClearCache.req (requested through the driver or an operator)."""

    case_id = "TC_061_CSMS"
    title = "Clear Authorization Data in Authorization Cache"
    section = "3.3.2"
    table = 123
    csms_actions = ("ClearCache",)
    steps = (
        "1. The Central System sends a ClearCache.req",
        "2. The Charge Point responds with a ClearCache.conf",
    )

    def run(self, ctx: Context) -> None:
        call = ctx.csms_call("ClearCache", {}, step=1)
        ctx.expect_own("status", "Accepted", call.answer, step=2, message="ClearCache.conf")
