"""TC_046_CSMS: Reservation of a Connector - Transaction (OCTT 1.6, section 3.17.1, Table 161)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context
from scenarios.v16.reservation._reservations import accepted, check_connector_and_tag, report_reserved, reserve_now


@register
class ReservationTransaction(Case):
    """ "Check whether Central System can trigger a Charge Point to Reserve a Connector."

    The Tool's real ReserveNow handler answers (Accepted for a free connector it has), reports the
    connector Reserved, then runs the Charging state with the reservation's reservationId in its
    StartTransaction.req (OCPP 1.6 §5.13: the transaction ends the reservation). The transaction
    stays open (the runner stops it).
    """

    case_id = "TC_046_CSMS"
    title = "Reservation of a Connector - Transaction"
    section = "3.17.1"
    table = 161
    profile = "Reservation"
    cp_actions = ("StatusNotification", "Authorize", "StartTransaction")
    csms_actions = ("ReserveNow",)
    preconditions = ("valid_tag",)
    steps = (
        "Prerequisite: The Central System supports the Reservation feature profile.",
        "1. The Central System sends a ReserveNow.req",
        "2. The Charge Point responds with a ReserveNow.conf",
        "3 The Charge Point sends a StatusNotification.req",
        "4. The Central System responds with a StatusNotification.conf",
        "5. Execute Reusable State Charging",
    )

    def run(self, ctx: Context) -> None:
        call = reserve_now(ctx, step=1)
        check_connector_and_tag(ctx, call, step=1)
        accepted(ctx, call, step=1)
        report_reserved(ctx, call, step=3)
        ctx.charging(at=5, reservation_id=call.payload["reservationId"])
