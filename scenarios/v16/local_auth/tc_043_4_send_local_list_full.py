"""TC_043_4_CSMS: Send Local Authorization List - Full (OCTT 1.6, section 3.14.2, Table 154)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context
from scenarios.v16.local_auth._lists import check_entries, list_payload


@register
class SendLocalListFull(Case):
    """ "Check whether a Local Authorization List can be sent to a Charge Point to authorize an EV
    driver."

    The Tool's real SendLocalList handler installs the list and answers Accepted (a full update
    replaces any list); it answers otherwise only for a list it cannot take, which FAILS the case at
    step 1.
    """

    case_id = "TC_043_4_CSMS"
    title = "Send Local Authorization List - Full"
    section = "3.14.2"
    table = 154
    profile = "LocalAuthListManagement"
    csms_actions = ("SendLocalList",)
    steps = (
        "Prerequisite: The Central System supports the Local Auth List Management feature profile and has at "
        "least 1 IdToken to add to the local authorization list.",
        "1. The Central System sends a SendLocalList.req",
        "2. The Charge Point responds with a SendLocalList.conf",
    )

    def run(self, ctx: Context) -> None:
        call = ctx.csms_call("SendLocalList", list_payload(ctx, "Full"), step=1)
        ctx.expect("updateType", "Full", call.payload, step=1, message="SendLocalList.req")
        check_entries(ctx, call.payload, step=1)
        ctx.charger_answer(
            call, "Accepted", step=1, field="localAuthorizationList", wanted="a list the charge point can install"
        )
