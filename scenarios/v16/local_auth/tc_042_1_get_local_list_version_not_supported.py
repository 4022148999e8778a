"""TC_042_1_CSMS: Get Local List Version (not supported) (OCTT 1.6, section 3.14.1, Table 150)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context


@register
class GetLocalListVersionNotSupported(Case):
    """ "Check whether a Central System is able to retrieve the local list version from a Charge
    Point."

    The Tool is a charge point whose Local Authorization List is not enabled
    (LocalAuthListEnabled false): its real GetLocalListVersion handler answers -1, "the local
    authorization list is not supported" (OCPP 1.6 §6.21). The document has no check on the CSMS's
    side; the request must be schema-valid.
    """

    case_id = "TC_042_1_CSMS"
    title = "Get Local List Version (not supported)"
    section = "3.14.1"
    table = 150
    profile = "LocalAuthListManagement"
    csms_actions = ("GetLocalListVersion",)
    steps = (
        "Prerequisite: The Central System supports the Local Auth List Management feature profile.",
        "1. The Central System sends a GetLocalListVersion.req.",
        "2. The Charge Point responds with a GetLocalListVersion.conf.",
    )

    def run(self, ctx: Context) -> None:
        ctx.cp.configuration.set_internal("LocalAuthListEnabled", "false")
        call = ctx.csms_call("GetLocalListVersion", {}, step=1)
        ctx.expect_own("listVersion", -1, call.answer, step=2, message="GetLocalListVersion.conf")
