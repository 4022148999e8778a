"""TC_048_4_CSMS: Reservation of a Connector - Rejected (OCTT 1.6, section 3.17.1, Table 166)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context
from scenarios.v16.reservation._reservations import check_connector_and_tag, reserve_now


@register
class ReservationRejected(Case):
    """ "Check whether the Central System can handle messages in case that a reservation cannot be
    made."

    The Tool answers Rejected, as the document's Tool does (a charge point "configured not to
    accept reservations", OCPP 1.6 §5.13).
    """

    case_id = "TC_048_4_CSMS"
    title = "Reservation of a Connector - Rejected"
    section = "3.17.1"
    table = 166
    profile = "Reservation"
    csms_actions = ("ReserveNow",)
    preconditions = ("valid_tag",)
    steps = (
        "Prerequisite: The Central System supports the Reservation feature profile.",
        "1. The Central System sends a ReserveNow.req",
        "2. The Charge Point responds with a ReserveNow.conf",
    )

    def run(self, ctx: Context) -> None:
        call = reserve_now(ctx, step=1, answer="Rejected")
        check_connector_and_tag(ctx, call, step=1)
        ctx.expect_own("status", "Rejected", call.answer, step=2, message="ReserveNow.conf")
