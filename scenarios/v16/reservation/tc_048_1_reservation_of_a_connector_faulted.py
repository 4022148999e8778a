"""TC_048_1_CSMS: Reservation of a Connector - Faulted (OCTT 1.6, section 3.17.1, Table 163)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context
from scenarios.v16.reservation._reservations import check_connector_and_tag, reserve_now


@register
class ReservationFaulted(Case):
    """ "Check whether the Central System is able to handle messages in case that a reservation
    cannot be made."

    The Tool answers Faulted, as the document's Tool does (a charge point whose connector is in
    the Faulted state, OCPP 1.6 §5.13); the CSMS must send the request the document describes.
    """

    case_id = "TC_048_1_CSMS"
    title = "Reservation of a Connector - Faulted"
    section = "3.17.1"
    table = 163
    profile = "Reservation"
    csms_actions = ("ReserveNow",)
    preconditions = ("valid_tag",)
    steps = (
        "Prerequisite: The Central System supports the Reservation feature profile.",
        "1. The Central System sends a ReserveNow.req",
        "2. The Charge Point responds with a ReserveNow.conf",
    )

    def run(self, ctx: Context) -> None:
        call = reserve_now(ctx, step=1, answer="Faulted")
        check_connector_and_tag(ctx, call, step=1)
        ctx.expect_own("status", "Faulted", call.answer, step=2, message="ReserveNow.conf")
