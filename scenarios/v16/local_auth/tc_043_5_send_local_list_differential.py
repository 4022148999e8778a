"""TC_043_5_CSMS: Send Local Authorization List - Differential (OCTT 1.6, section 3.14.2, Table 155)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context
from scenarios.v16.local_auth._lists import check_entries, list_payload


@register
class SendLocalListDifferential(Case):
    """ "Check whether a Local Authorization List can be sent to a Charge Point to authorize an EV
    driver"

    "Messages 1 and 2 are optional": the Tool asks for the SendLocalList.req only; a
    GetLocalListVersion.req the CSMS sends first is answered from the charge point's state (0: no
    list installed, OCTT §1.3). A differential update must carry a listVersion above the installed
    one (OCPP 1.6 §5.15): the real handler answers VersionMismatch otherwise, which FAILS the case
    at step 3.
    """

    case_id = "TC_043_5_CSMS"
    title = "Send Local Authorization List - Differential"
    section = "3.14.2"
    table = 155
    profile = "LocalAuthListManagement"
    csms_actions = ("SendLocalList",)
    steps = (
        "Prerequisite: The Central System supports the Local Auth List Management feature profile and has at "
        "least 1 IdToken to add to the local authorization list.",
        "1. The Central System sends a GetLocalListVersion.req",
        "2. The Charge Point responds with a GetLocalListVersion.conf",
        "3. The Central System sends a SendLocalList.req",
        "4. The Charge Point responds with a SendLocalList.conf",
        "Note: Messages 1 and 2 are optional.",
    )

    def run(self, ctx: Context) -> None:
        call = ctx.csms_call("SendLocalList", list_payload(ctx, "Differential"), step=3)
        asked = [c for c in ctx.tap.calls if c.action == "GetLocalListVersion" and c.at <= call.at]
        if asked:
            ctx.note(f"steps 1-2: the CSMS asked for the list version first; the Tool answered {asked[-1].answer}")
        ctx.expect("updateType", "Differential", call.payload, step=3, message="SendLocalList.req")
        check_entries(ctx, call.payload, step=3)
        installed = ctx.cp.state.local_list.version
        ctx.charger_answer(
            call,
            "Accepted",
            step=3,
            field="listVersion",
            wanted=f"a version above the installed one ({installed}) with a list the charge point can take",
        )
