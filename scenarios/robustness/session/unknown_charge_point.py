"""session.unknown_charge_point: a charge point id the CSMS has never heard of."""

from __future__ import annotations

from ocpp_users.ocppj.errors import TransportError
from scenarios.robustness.base import RobustCase, register
from scenarios.robustness.context import BOOT, RobustContext
from scenarios.robustness.expect import Refused, Result
from scenarios.robustness.outcome import Outcome


def _status(payload: object) -> object:
    return payload.get("status") if isinstance(payload, dict) else None


@register
class UnknownChargePoint(RobustCase):
    case_id = "session.unknown_charge_point"
    title = "A charge point id the CSMS does not know"
    clause = "OCPP-J 1.6 §3.2; OCPP 1.6 §4.2"
    requirement = (
        "If the Central System does not recognize the charge point identifier in the URL path, it SHOULD send an HTTP "
        "response with status 404 and abort the WebSocket connection as described in [RFC6455]."
    )
    sends = "a WebSocket upgrade as <--cp-id>-UNKNOWN-<random>, then a BootNotification if let in"
    passed = (Refused(404),)
    non_strict = (
        Refused(why="refused, with another status than the 404 OCPP-J §3.2 recommends"),
        Result(
            "BootNotification.conf Pending or Rejected",
            lambda p: _status(p) in ("Pending", "Rejected"),
            why="let in, but not accepted (OCPP 1.6 §4.2)",
        ),
        Result(
            "BootNotification.conf Accepted",
            lambda p: _status(p) == "Accepted",
            why="a CSMS that registers charge points as they come (a policy; OCPP-J §3.2 says SHOULD 404)",
        ),
    )
    bad_input = False
    connect = False
    order = 10

    def run(self, ctx: RobustContext) -> Outcome:
        cp_id = f"{ctx.options.cp_id}-UNKNOWN-{ctx.token}"
        try:
            conn = ctx.target = ctx.open(cp_id)
        except TransportError as exc:
            return ctx.refused(exc)
        return ctx.call(conn, "BootNotification", BOOT)
