"""TC_042_2_CSMS: Get Local List Version (empty) (OCTT 1.6, section 3.14.1, Table 151)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context


@register
class GetLocalListVersionEmpty(Case):
    """ "Check whether a Central System is able to retrieve the local list version from a Charge
    Point."

    The Tool's Local Authorization List is enabled and empty (OCTT §1.3: "no installed local
    authorization list"): its real handler answers 0 (OCPP 1.6 §6.21).
    """

    case_id = "TC_042_2_CSMS"
    title = "Get Local List Version (empty)"
    section = "3.14.1"
    table = 151
    profile = "LocalAuthListManagement"
    csms_actions = ("GetLocalListVersion",)
    steps = (
        "Prerequisite: The Central System supports the Local Auth List Management feature profile.",
        "1. The Central System sends a GetLocalListVersion.req.",
        "2. The Charge Point responds with a GetLocalListVersion.conf.",
    )

    def run(self, ctx: Context) -> None:
        call = ctx.csms_call("GetLocalListVersion", {}, step=1)
        ctx.expect_own("listVersion", 0, call.answer, step=2, message="GetLocalListVersion.conf")
