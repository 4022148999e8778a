"""What the reservation cases share: the ReserveNow.req the Tool asks for, the checks the document
repeats, and the Reserved StatusNotification."""

from __future__ import annotations

import itertools
import time
from typing import Any

from scenarios.context import Context, timestamp
from scenarios.wire import InboundCall

_ids = itertools.count(int(time.time()) % 1_000_000 * 100)


def next_reservation_id() -> int:
    """A reservationId for the Tool's request (the CSMS may choose its own)."""
    return next(_ids)


def reserve_now(
    ctx: Context,
    *,
    step: object,
    connector_id: int | None = None,
    expires_in: float | None = None,
    parent_id_tag: str | None = None,
    answer: str | None = None,
) -> InboundCall:
    """ "The Central System sends a ReserveNow.req" for <Configured ConnectorId> (or
    ``connector_id``) and <Configured Valid IdTag>, expiring in ``expires_in`` seconds (default:
    the test data's reservation hold, long enough for the case)."""
    hold = ctx.options.test_data.reservation_hold if expires_in is None else expires_in
    payload: dict[str, Any] = {
        "connectorId": ctx.connector_id if connector_id is None else connector_id,
        "expiryDate": timestamp(ctx.now() + hold),
        "idTag": ctx.valid_tag,
        "reservationId": next_reservation_id(),
    }
    if parent_id_tag is not None:
        payload["parentIdTag"] = parent_id_tag
    return ctx.csms_call("ReserveNow", payload, step=step, answer=answer)


def check_connector_and_tag(ctx: Context, call: InboundCall, *, step: object, connector_id: int | None = None) -> None:
    """ "The connectorId should be <Configured ConnectorId>" (or the connector of an earlier step)
    and "The idTag should be <Configured Valid IdTag>"."""
    wanted = ctx.connector_id if connector_id is None else connector_id
    ctx.expect("connectorId", wanted, call.payload, step=step, message="ReserveNow.req")
    ctx.expect("idTag", ctx.valid_tag, call.payload, step=step, message="ReserveNow.req")


def check_not_connector_zero(ctx: Context, call: InboundCall, *, step: object) -> None:
    """ "The connectorId does not equal 0"."""
    value = call.payload.get("connectorId")
    ctx.expect_that(
        "connectorId", value != 0, call.payload, step=step, message="ReserveNow.req", expected="not 0 (a connector)"
    )


def accepted(ctx: Context, call: InboundCall, *, step: object) -> None:
    """ReserveNow.conf Accepted, as a charger answers it: for a free connector it has."""
    ctx.charger_answer(
        call,
        "Accepted",
        step=step,
        field="connectorId",
        wanted=f"an Available connector of the charge point ({ctx.connector_range})",
    )


def reserved_connector(ctx: Context, call: InboundCall) -> int:
    """The connector the reservation holds: the one requested, or for connector 0 <Configured
    ConnectorId> (the one the Tool keeps for the idTag)."""
    requested = call.payload.get("connectorId")
    if isinstance(requested, int) and requested in ctx.cp.connectors and requested != 0:
        return requested
    return ctx.connector_id


def report_reserved(ctx: Context, call: InboundCall, *, step: object) -> int:
    """ "The Charge Point sends a StatusNotification.req" with status Reserved."""
    cid = reserved_connector(ctx, call)
    ex = ctx.status(cid, "Reserved", step=step)
    ctx.expect_own("status", "Reserved", ex.request, step=step, message="StatusNotification.req")
    return cid


def report_available(ctx: Context, cid: int, *, step: object) -> None:
    """The reservation ended: "The Charge Point sends a StatusNotification.req" with Available."""
    ctx.end_reservations()
    ex = ctx.status(cid, "Available", step=step)
    ctx.expect_own("status", "Available", ex.request, step=step, message="StatusNotification.req")
