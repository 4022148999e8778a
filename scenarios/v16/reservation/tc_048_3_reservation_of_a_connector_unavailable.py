"""TC_048_3_CSMS: Reservation of a Connector - Unavailable (OCTT 1.6, section 3.17.1, Table 165)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context
from scenarios.v16.reservation._reservations import check_connector_and_tag, reserve_now


@register
class ReservationUnavailable(Case):
    """ "Check whether the Central System can handle messages in case that a reservation cannot be
    made."

    The CSMS sets the connector Inoperative (the Tool's real ChangeAvailability handler makes it
    so), the Tool reports it Unavailable, and its real ReserveNow handler answers Unavailable
    (OCPP 1.6 §5.13). The clean-up makes the connector operative again.
    """

    case_id = "TC_048_3_CSMS"
    title = "Reservation of a Connector - Unavailable"
    section = "3.17.1"
    table = 165
    profile = "Reservation"
    cp_actions = ("StatusNotification",)
    csms_actions = ("ChangeAvailability", "ReserveNow")
    preconditions = ("valid_tag",)
    steps = (
        "Prerequisite: The Central System supports the Reservation feature profile.",
        "1. The Central System sends a ChangeAvailability.req",
        "2. The Charge Point responds with a ChangeAvailability.conf",
        "3. The Charge Point sends a StatusNotification.req",
        "4. The Central System responds with a StatusNotification.conf",
        "5. The Central System sends a ReserveNow.req",
        "6. The Charge Point responds with a ReserveNow.conf",
    )

    def run(self, ctx: Context) -> None:
        cid = ctx.connector_id
        change = ctx.csms_call("ChangeAvailability", {"connectorId": cid, "type": "Inoperative"}, step=1)
        ctx.expect("connectorId", cid, change.payload, step=1, message="ChangeAvailability.req")
        ctx.expect("type", "Inoperative", change.payload, step=1, message="ChangeAvailability.req")
        ctx.charger_answer(change, "Accepted", step=1, field="connectorId", wanted=f"{cid}")
        unavailable = ctx.status(cid, "Unavailable", step=3)
        ctx.expect_own("status", "Unavailable", unavailable.request, step=3, message="StatusNotification.req")
        ctx.expect_own("connectorId", cid, unavailable.request, step=3, message="StatusNotification.req")
        call = reserve_now(ctx, step=5, connector_id=cid)
        check_connector_and_tag(ctx, call, step=5, connector_id=cid)
        ctx.charger_answer(
            call, "Unavailable", step=5, field="connectorId", wanted=f"{cid} (the connector of step 1, Inoperative)"
        )
