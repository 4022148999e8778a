"""TC_047_CSMS: Reservation of a Connector - Expire (OCTT 1.6, section 3.17.1, Table 162)."""

from __future__ import annotations

from datetime import datetime

from scenarios.base import Case, register
from scenarios.context import Context, timestamp
from scenarios.v16.reservation._reservations import (
    accepted,
    check_connector_and_tag,
    report_available,
    report_reserved,
    reserve_now,
)


def _epoch(text: object) -> float | None:
    try:
        when = datetime.fromisoformat(str(text).replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return when.timestamp() if when.tzinfo is not None else None


@register
class ReservationExpire(Case):
    """ "Check whether Central System can handle messages when the reservation is not used (in
    time)."

    "The expiryDate should be the current time plus <Configured Expiry Date Offset>"
    (``--expiry-offset``, default 2 s): the time the request arrives plus the offset, give or take
    ``--expiry-tolerance`` (clocks and transit). The Tool then waits for that expiryDate and, as a
    charger must when a reservation expires (OCPP 1.6 §5.13), reports the connector Available.
    """

    case_id = "TC_047_CSMS"
    title = "Reservation of a Connector - Expire"
    section = "3.17.1"
    table = 162
    profile = "Reservation"
    cp_actions = ("StatusNotification",)
    csms_actions = ("ReserveNow",)
    preconditions = ("valid_tag",)
    steps = (
        "Prerequisite: The Central System supports the Reservation feature profile.",
        "1. The Central System sends a ReserveNow.req",
        "2. The Charge Point responds with a ReserveNow.conf",
        "3 The Charge Point sends a StatusNotification.req",
        "4. The Central System responds with a StatusNotification.conf",
        "5. [EV driver does not arrive at the reserved Connector before the expiry date] The Charge Point sends "
        "a StatusNotification.req",
        "6. The Central System responds with a StatusNotification.conf",
    )

    def run(self, ctx: Context) -> None:
        data = ctx.options.test_data
        call = reserve_now(ctx, step=1, expires_in=data.expiry_offset)
        check_connector_and_tag(ctx, call, step=1)
        target = call.at + data.expiry_offset
        expiry = _epoch(call.payload.get("expiryDate"))
        ctx.expect_that(
            "expiryDate",
            expiry is not None and abs(expiry - target) <= data.expiry_tolerance,
            call.payload,
            step=1,
            message="ReserveNow.req",
            expected=f"the current time plus <Configured Expiry Date Offset> {data.expiry_offset:g} s "
            f"({timestamp(target)} ± {data.expiry_tolerance:g} s)",
        )
        accepted(ctx, call, step=1)
        cid = report_reserved(ctx, call, step=3)
        if expiry is not None:
            ctx.sleep(expiry - ctx.now())
        report_available(ctx, cid, step=5)
