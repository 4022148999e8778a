"""TC_048_2_CSMS: Reservation of a Connector - Occupied (OCTT 1.6, section 3.17.1, Table 164)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context
from scenarios.v16.reservation._reservations import check_connector_and_tag, reserve_now


@register
class ReservationOccupied(Case):
    """ "Check whether the Central System can handle messages in case that a reservation cannot be
    made."

    The EV driver plugs in (Preparing); the CSMS reserves that connector; the Tool's real handler
    answers Occupied (OCPP 1.6 §5.13: "Occupied if the Charge Point or the specified connector
    are occupied").
    """

    case_id = "TC_048_2_CSMS"
    title = "Reservation of a Connector - Occupied"
    section = "3.17.1"
    table = 164
    profile = "Reservation"
    cp_actions = ("StatusNotification",)
    csms_actions = ("ReserveNow",)
    preconditions = ("valid_tag",)
    steps = (
        "Prerequisite: The Central System supports the Reservation feature profile.",
        "1. [EV driver plugs in cable] The Charge Point sends a StatusNotification.req",
        "2. The Central System responds with a StatusNotification.conf",
        "3. The Central System sends a ReserveNow.req",
        "4. The Charge Point responds with a ReserveNow.conf",
    )

    def run(self, ctx: Context) -> None:
        cid = ctx.connector_id
        preparing = ctx.status(cid, "Preparing", step=1)
        ctx.expect_own("status", "Preparing", preparing.request, step=1, message="StatusNotification.req")
        ctx.expect_own("connectorId", cid, preparing.request, step=1, message="StatusNotification.req")
        call = reserve_now(ctx, step=3, connector_id=cid)
        check_connector_and_tag(ctx, call, step=3, connector_id=cid)
        ctx.charger_answer(
            call, "Occupied", step=3, field="connectorId", wanted=f"{cid} (the connector of step 1, occupied)"
        )
