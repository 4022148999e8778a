"""abuse.idle_sockets: --idle-sockets WebSocket connections opened and left silent."""

from __future__ import annotations

import gevent
import gevent.pool

from ocpp_users.ocppj.errors import TransportError
from scenarios.robustness.base import RobustCase, register
from scenarios.robustness.connection import HostileConnection
from scenarios.robustness.context import RobustContext
from scenarios.robustness.expect import Custom
from scenarios.robustness.outcome import Outcome

CONCURRENCY = 20


def _held(outcome: Outcome) -> bool:
    return bool(outcome.answers)


@register
class IdleSockets(RobustCase):
    case_id = "abuse.idle_sockets"
    title = "Many idle connections"
    clause = "OCPP-J 1.6 §5.3; OCPP 2.0.1 part 4 §3.1"
    requirement = (
        "The Client (Charging Station) SHALL keep this WebSocket connection open all the time (2.0.1 part 4 §3.1): "
        "a CSMS holds one connection per charger, most of them idle; idle ones, let in or refused, must not starve the "
        "busy ones."
    )
    sends = (
        "--idle-sockets (default 100) WebSocket connections as <--cp-id>-IDLE-<n> that send nothing, held "
        "--idle-seconds (default 2), then closed; a Heartbeat on the case's own connection meanwhile"
    )
    passed = (Custom("the case's own connection still answered (each idle one let in or refused)", _held),)
    non_strict = ()
    bad_input = False
    order = 3

    def run(self, ctx: RobustContext) -> Outcome:
        o = ctx.options
        idle: list[HostileConnection] = []
        refused: list[str] = []

        def one(n: int) -> None:
            cp_id = f"{o.cp_id}-IDLE-{n}"
            try:
                idle.append(HostileConnection.open(o.url, cp_id, o.security, _quiet, timeout=o.connect_timeout))
            except TransportError as exc:
                refused.append(str(exc))

        pool = gevent.pool.Pool(CONCURRENCY)
        pool.map(one, range(1, o.idle_sockets + 1))
        ctx.tap("out", f"<{len(idle)} idle connections open, {len(refused)} refused>")
        gevent.sleep(o.idle_seconds)
        closed = sum(1 for conn in idle if conn.receive(0.0) is not None or conn.closed is not None)
        outcome = ctx.call(ctx.conn, "Heartbeat", {})
        for conn in idle:
            conn.close()
        first = f"; first refusal: {refused[0]}" if refused else ""
        outcome.handshake = (
            f"{len(idle)} idle connections let in ({closed} closed by the CSMS within {o.idle_seconds:g} s), "
            f"{len(refused)} refused{first}"
        )
        ctx.note(outcome.handshake)
        return outcome


def _quiet(direction: str, text: str) -> None:
    """The idle connections' frames stay out of the wire log (there are none but the close)."""
