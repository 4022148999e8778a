"""TC_052_CSMS: Cancel Reservation - Rejected (OCTT 1.6, section 3.17.3, Table 169)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context
from scenarios.v16.reservation._reservations import accepted, report_reserved, reserve_now


@register
class CancelReservationRejected(Case):
    """ "Check whether the Central System can handle messages in case cancelling a reservation is
    rejected by the Charge Point."

    The CSMS cancels a reservationId the charge point does not hold: the Tool's real handler
    answers Rejected and keeps the reservation of step 1 (the clean-up ends it).
    """

    case_id = "TC_052_CSMS"
    title = "Cancel Reservation - Rejected"
    section = "3.17.3"
    table = 169
    profile = "Reservation"
    cp_actions = ("StatusNotification",)
    csms_actions = ("ReserveNow", "CancelReservation")
    preconditions = ("valid_tag",)
    steps = (
        "Prerequisite: The Central System supports the Reservation feature profile.",
        "Manual Action: Reserve a connector on the Charge Point.",
        "1. The Central System sends a ReserveNow.req.",
        "2. The Charge Point sends a ReserveNow.conf.",
        "3. The Charge Point sends a StatusNotification.req.",
        "4. The Central System sends a StatusNotification.conf.",
        "Manual Action: Cancel the reservation on the Charge Point.",
        "5. The Central System sends a CancelReservation.req with an unknown reservationId.",
        "6. The Charge Point sends a CancelReservation.conf.",
    )

    def run(self, ctx: Context) -> None:
        call = reserve_now(ctx, step=1)
        accepted(ctx, call, step=1)
        report_reserved(ctx, call, step=3)
        reservation = call.payload["reservationId"]
        cancel = ctx.csms_call("CancelReservation", {"reservationId": reservation + 1}, step=5)
        ctx.expect_that(
            "reservationId",
            cancel.payload.get("reservationId") != reservation,
            cancel.payload,
            step=5,
            message="CancelReservation.req",
            expected=f"not {reservation} (an unknown reservationId, not the one of step 1)",
        )
        ctx.charger_answer(
            cancel,
            "Rejected",
            step=5,
            field="reservationId",
            wanted=f"a reservationId the charge point does not hold (not {reservation})",
        )
