"""TC_028_CSMS: Remote Stop Transaction - Rejected (OCTT 1.6, section 3.9.2, Table 141)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context


@register
class RemoteStopRejected(Case):
    """ "To test if the Central System can handle when a Charge Point rejects a
    RemoteStopTransaction.req, when an unknown transactionId is given."

    The document does not check the transactionId; admin APIs can usually stop only known
    transactions, so we request the running one and the Tool answers Rejected whatever id
    arrives. The transaction stays open (the runner stops it afterwards).
    """

    case_id = "TC_028_CSMS"
    title = "Remote Stop Transaction - Rejected"
    section = "3.9.2"
    table = 141
    cp_actions = ("Authorize", "StatusNotification", "StartTransaction")
    csms_actions = ("RemoteStopTransaction",)
    preconditions = ("valid_tag",)
    steps = (
        "Before: Reusable State(s): Charging",
        "1. The Central System sends a RemoteStopTransaction.req",
        "2. The Charge Point responds with a RemoteStopTransaction.conf",
    )

    def run(self, ctx: Context) -> None:
        tx = ctx.charging()
        call = ctx.csms_call(
            "RemoteStopTransaction", {"transactionId": tx if tx is not None else 0}, step=1, answer="Rejected"
        )
        ctx.expect_own("status", "Rejected", call.answer, step=2, message="RemoteStopTransaction.conf")
