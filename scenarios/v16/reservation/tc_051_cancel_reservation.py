"""TC_051_CSMS: Cancel Reservation (OCTT 1.6, section 3.17.3, Table 168)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context
from scenarios.v16.reservation._reservations import (
    accepted,
    check_not_connector_zero,
    report_available,
    report_reserved,
    reserve_now,
)


@register
class CancelReservation(Case):
    """ "Check whether the Central System trigger to Charge Point to cancel a reservation."

    The Tool's real handlers answer: ReserveNow Accepted for a free connector it has,
    CancelReservation Accepted for the reservation it holds (Rejected for any other, which FAILS
    the case at step 5). It then reports the connector Available.
    """

    case_id = "TC_051_CSMS"
    title = "Cancel Reservation"
    section = "3.17.3"
    table = 168
    profile = "Reservation"
    cp_actions = ("StatusNotification",)
    csms_actions = ("ReserveNow", "CancelReservation")
    preconditions = ("valid_tag",)
    steps = (
        "Prerequisite: The Central System supports the Reservation feature profile.",
        "1. The Central System sends a ReserveNow.req with a reservationId, connectorId, idTag and expiryDate to "
        "the Charge Point",
        "2. The Charge Point sends a ReserveNow.conf message to the Central System",
        "3. The Charge Point sends a StatusNotification.req to the Central System",
        "4. The Central System sends a StatusNotification.conf to the Charge Point",
        "5. The Central System sends a CancelReservation.req with a reservationId to the Charge Point",
        "6. The Charge Point sends a CancelReservation.conf message to the Central System",
        "7. The Charge Point sends a StatusNotification.req to the Central System",
        "8. The Central System sends a StatusNotification.conf to the Charge Point",
    )

    def run(self, ctx: Context) -> None:
        call = reserve_now(ctx, step=1)
        check_not_connector_zero(ctx, call, step=1)
        accepted(ctx, call, step=1)
        cid = report_reserved(ctx, call, step=3)
        reservation = call.payload["reservationId"]
        cancel = ctx.csms_call("CancelReservation", {"reservationId": reservation}, step=5)
        ctx.expect("reservationId", reservation, cancel.payload, step=5, message="CancelReservation.req")
        ctx.charger_answer(
            cancel, "Accepted", step=5, field="reservationId", wanted=f"{reservation} (the reservation of step 1)"
        )
        report_available(ctx, cid, step=7)
