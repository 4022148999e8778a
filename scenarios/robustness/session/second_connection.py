"""session.second_connection: a second WebSocket for a charge point already connected."""

from __future__ import annotations

from ocpp_users.ocppj.errors import TransportError
from scenarios.robustness.base import RobustCase, register
from scenarios.robustness.connection import HostileConnection
from scenarios.robustness.context import BOOT, RobustContext
from scenarios.robustness.expect import Custom
from scenarios.robustness.outcome import Outcome


def _state(outcome: Outcome, which: str) -> str:
    return str(outcome.extra.get(which, ""))


def _one_live(outcome: Outcome) -> bool:
    first, second = _state(outcome, "first"), _state(outcome, "second")
    return (second == "answered" and first == "closed") or (second == "refused" and first == "answered")


def _both_live(outcome: Outcome) -> bool:
    return _state(outcome, "second") == "answered" and _state(outcome, "first") in ("answered", "silent")


@register
class SecondConnection(RobustCase):
    case_id = "session.second_connection"
    title = "A second connection with the same charge point id"
    clause = "OCPP-J 1.6 §3, §4.2 (note); OCPP 2.0.1 part 4 §3.1"
    requirement = (
        "The identity is exchanged during the WebSocket connection handshake and is a property of the connection. "
        "Every message is sent by or directed at this identity. (2.0.1 §3.1: The Client (Charging Station) SHALL keep "
        "this WebSocket connection open all the time: one connection per identity. A reconnecting charger opens the "
        "new connection before the CSMS notices the old one died.)"
    )
    sends = "connection A as --cp-id with a BootNotification, then connection B as --cp-id; a Heartbeat on each"
    passed = (
        Custom("exactly one connection left serving: A closed and B answers, or B refused and A answers", _one_live),
    )
    non_strict = (
        Custom(
            "both connections left open",
            _both_live,
            why="OCPP-J does not say which connection wins; the old one should be closed, or CSMS calls may go to a "
            "dead socket",
        ),
    )
    bad_input = False
    connect = False
    order = 4

    def run(self, ctx: RobustContext) -> Outcome:
        first = ctx.target = ctx.open(label="A")
        ctx.call(first, "BootNotification", BOOT)
        outcome = Outcome()
        try:
            second = ctx.open(label="B")
        except TransportError as exc:
            outcome.extra["second"] = "refused"
            outcome.refused = str(exc)
            outcome.extra["first"] = self._probe(ctx, first, outcome)
            outcome.handshake = f"A: {outcome.extra['first']}"
            return outcome
        ctx.target = second
        outcome.extra["second"] = self._probe(ctx, second, outcome)
        outcome.extra["first"] = self._probe(ctx, first, outcome)
        outcome.handshake = f"A: {outcome.extra['first']}; B: {outcome.extra['second']}"
        return outcome

    @staticmethod
    def _probe(ctx: RobustContext, conn: HostileConnection, outcome: Outcome) -> str:
        if conn.closed is not None:
            return "closed"
        result = ctx.call(conn, "Heartbeat", {})
        outcome.garbage += result.garbage
        outcome.stray += result.stray
        if result.answers:
            return "answered"
        return "closed" if conn.closed is not None or result.send_error else "silent"
