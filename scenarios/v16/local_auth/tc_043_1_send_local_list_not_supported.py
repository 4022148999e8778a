"""TC_043_1_CSMS: Send Local Authorization List - NotSupported (OCTT 1.6, section 3.14.2, Table 152)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context
from scenarios.v16.local_auth._lists import list_payload


@register
class SendLocalListNotSupported(Case):
    """ "To check whether a Central System can handle a NotSupported status, after sending a Local
    Authorization List."

    The Tool is a charge point whose Local Authorization List is not enabled
    (LocalAuthListEnabled false): its real SendLocalList handler answers NotSupported.
    """

    case_id = "TC_043_1_CSMS"
    title = "Send Local Authorization List - NotSupported"
    section = "3.14.2"
    table = 152
    profile = "LocalAuthListManagement"
    csms_actions = ("SendLocalList",)
    steps = (
        "Prerequisite: The Central System supports the Local Auth List Management feature profile.",
        "1. The Central System sends a SendLocalList.req",
        "2. The Charge Point responds with a SendLocalList.conf",
    )

    def run(self, ctx: Context) -> None:
        ctx.cp.configuration.set_internal("LocalAuthListEnabled", "false")
        call = ctx.csms_call("SendLocalList", list_payload(ctx, "Full"), step=1)
        ctx.expect("updateType", "Full", call.payload, step=1, message="SendLocalList.req")
        ctx.expect_own("status", "NotSupported", call.answer, step=2, message="SendLocalList.conf")
