"""TC_026_CSMS: Remote Start Charging Session - Rejected (OCTT 1.6, section 3.9.1, Table 140)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context


@register
class RemoteStartRejected(Case):
    """ "To test if the Central System can handle when a Charge Point rejects a
    RemoteStartTransaction.req." The Tool answers Rejected; no transaction follows."""

    case_id = "TC_026_CSMS"
    title = "Remote Start Charging Session - Rejected"
    section = "3.9.1"
    table = 140
    csms_actions = ("RemoteStartTransaction",)
    preconditions = ("valid_tag",)
    steps = (
        "1. [The CPO remotely requests a start transaction.] The Central System sends a RemoteStartTransaction.req",
        "2. The Charge Point responds with a RemoteStartTransaction.conf",
    )

    def run(self, ctx: Context) -> None:
        call = ctx.csms_call(
            "RemoteStartTransaction",
            {"idTag": ctx.valid_tag, "connectorId": ctx.connector_id},
            step=1,
            answer="Rejected",
        )
        ctx.expect_own("status", "Rejected", call.answer, step=2, message="RemoteStartTransaction.conf")
