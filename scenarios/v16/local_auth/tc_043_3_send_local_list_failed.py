"""TC_043_3_CSMS: Send Local Authorization List - Failed (OCTT 1.6, section 3.14.2, Table 153)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context
from scenarios.v16.local_auth._lists import list_payload


@register
class SendLocalListFailed(Case):
    """ "To check whether a Central System can handle a Rejected status, after sending a Local
    Authorization List." (The status the document's Tool answers is Failed.)

    The Tool plays a charge point that fails to store the list: it answers Failed whatever the
    request holds, as the document's Tool does.
    """

    case_id = "TC_043_3_CSMS"
    title = "Send Local Authorization List - Failed"
    section = "3.14.2"
    table = 153
    profile = "LocalAuthListManagement"
    csms_actions = ("SendLocalList",)
    steps = (
        "Prerequisite: The Central System supports the Local Auth List Management feature profile.",
        "1. The Central System sends a SendLocalList.req",
        "2. The Charge Point responds with a SendLocalList.conf",
    )

    def run(self, ctx: Context) -> None:
        call = ctx.csms_call("SendLocalList", list_payload(ctx, "Full"), step=1, answer="Failed")
        ctx.expect("updateType", "Full", call.payload, step=1, message="SendLocalList.req")
        ctx.expect_own("status", "Failed", call.answer, step=2, message="SendLocalList.conf")
