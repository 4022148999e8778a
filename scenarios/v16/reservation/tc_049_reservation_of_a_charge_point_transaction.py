"""TC_049_CSMS: Reservation of a Charge Point - Transaction (OCTT 1.6, section 3.17.2, Table 167)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context
from scenarios.v16.reservation._reservations import accepted, report_reserved, reserve_now


@register
class ReservationOfAChargePoint(Case):
    """ "Check whether Central System trigger the Charge Point to reserve an unspecified
    Connector."

    For this case the Tool supports reservations of connector 0 (ReserveConnectorZeroSupported
    true; OCPP 1.6 §5.13: the charge point then keeps a connector available for the idTag), its
    real handler answers, and it reports <Configured ConnectorId>, the connector it keeps, as
    Reserved (connector 0 itself can only be Available, Unavailable or Faulted, §4.9).
    """

    case_id = "TC_049_CSMS"
    title = "Reservation of a Charge Point - Transaction"
    section = "3.17.2"
    table = 167
    profile = "Reservation"
    cp_actions = ("StatusNotification",)
    csms_actions = ("ReserveNow",)
    preconditions = ("valid_tag",)
    steps = (
        "Prerequisite: The Central System supports the Reservation feature profile.",
        "1. The Central System sends a ReserveNow.req with a reservationId, connectorId and idTag to the Charge Point",
        "2. The Charge Point sends a ReserveNow.conf message to the Central System",
        "3 The Charge Point sends a StatusNotification.req to the Central System",
        "4. The Central System sends a StatusNotification.conf to the Charge Point",
    )

    def run(self, ctx: Context) -> None:
        ctx.cp.configuration.set_internal("ReserveConnectorZeroSupported", "true")
        call = reserve_now(ctx, step=1, connector_id=0)
        ctx.expect("connectorId", 0, call.payload, step=1, message="ReserveNow.req")
        accepted(ctx, call, step=1)
        report_reserved(ctx, call, step=3)
