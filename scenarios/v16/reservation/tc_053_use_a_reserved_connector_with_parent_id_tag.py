"""TC_053_CSMS: Use a reserved Connector with parentIdTag (OCTT 1.6, section 3.17.4, Table 170)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context
from scenarios.results import NotApplicable, Skip
from scenarios.v16.reservation._reservations import accepted, check_not_connector_zero, report_reserved, reserve_now


@register
class ReservedConnectorWithParentIdTag(Case):
    """ "Check whether the Central System can handle messages for a reservation that is used by a
    parentIdTag"

    Preconditions: ``--id-tag`` (the reservation's idTag, and the Charging state's),
    ``--parent-id-tag`` (the parentIdTag the CSMS has for it) and ``--group-tag`` (another
    Accepted idTag with that parentIdTag). After the Charging state (its StartTransaction.req
    carries the reservationId, which ends the reservation), the driver of the group card swipes
    it: Authorize.conf must be Accepted with the parentIdTag of step 1, and the Tool stops the
    transaction with that card (reason Local).
    """

    case_id = "TC_053_CSMS"
    title = "Use a reserved Connector with parentIdTag"
    section = "3.17.4"
    table = 170
    profile = "Reservation"
    cp_actions = ("StatusNotification", "Authorize", "StartTransaction", "StopTransaction")
    csms_actions = ("ReserveNow",)
    preconditions = ("valid_tag", "group_tag", "parent_tag")
    steps = (
        "Prerequisite: The Central System supports the Reservation feature profile.",
        "Manual Action: Reserve a connector on the Charge Point.",
        "1. The Central System sends a ReserveNow.req with a reservationId, an idTag and a parentIdTag.",
        "2. The Charge Point sends a ReserveNow.conf.",
        "3. The Charge Point sends a StatusNotification.req.",
        "4. The Central System sends a StatusNotification.conf.",
        "5. Execute reusable state Charging",
        "6. [EV driver authorizes / swipes card with the parentIdTag from step 1, but a new IdTag] The Charge "
        "Point sends an Authorize.req.",
        "7. The Central System sends an Authorize.conf.",
        "8. The Charge Point sends a StopTransaction.req.",
        "9. The Central System sends a StopTransaction.conf.",
        "10. The Charge Point sends a StatusNotification.req.",
        "11. The Central System sends a StatusNotification.conf.",
    )

    def run(self, ctx: Context) -> None:
        parent = ctx.tag("parent_tag")
        group = ctx.tag("group_tag")
        if group in (ctx.valid_tag, parent):
            raise NotApplicable(
                "--group-tag must be another idTag than --id-tag and --parent-id-tag (step 6: a new IdTag)",
                Skip.tag,
                "--group-tag (another idTag than --id-tag)",
            )
        call = reserve_now(ctx, step=1, parent_id_tag=parent)
        check_not_connector_zero(ctx, call, step=1)
        reserved_parent = ctx.expect_present(
            "parentIdTag", call.payload, step=1, message="ReserveNow.req", what="a parentIdTag"
        )
        accepted(ctx, call, step=1)
        report_reserved(ctx, call, step=3)
        cid = ctx.connector_id
        ctx.charging(at=5, reservation_id=call.payload["reservationId"])
        auth = ctx.authorize(group, step=6)
        ctx.expect_own("idTag", group, auth.request, step=6, message="Authorize.req")
        ctx.expect("idTagInfo.status", "Accepted", auth.response, step=7, message="Authorize.conf")
        ctx.expect("idTagInfo.parentIdTag", reserved_parent, auth.response, step=7, message="Authorize.conf")

        def stop() -> None:
            ctx.stop_transaction(cid, "Local", step=8, id_tag=group)

        def finishing() -> None:
            ex = ctx.status(cid, "Finishing", step=10)
            ctx.expect_own("status", "Finishing", ex.request, step=10, message="StatusNotification.req")

        ctx.either_order(stop, finishing)
