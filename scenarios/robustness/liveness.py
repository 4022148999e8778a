"""After every case: can the CSMS still Boot and Heartbeat, on the same connection and on a new one?

"Answered" means a CALLRESULT or a CALLERROR with the right message id: liveness asks whether
the CSMS still works, not whether it accepts this charge point. The case's connection, when the
CSMS left it open, must answer (a connection that stays open but answers nothing is a hung
handler); a connection the CSMS closed is a permitted way to end a hostile exchange. A new
connection must then handshake and answer, within ``--probe-attempts`` tries 0.5 s apart: if it
cannot, the CSMS (or its listener) is down. Either failure makes the case CRASHED.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ocpp_users.ocppj.errors import TransportError
from scenarios.results import Check
from scenarios.robustness.connection import HostileConnection
from scenarios.robustness.context import BOOT, RobustContext


@dataclass
class Liveness:
    alive: bool
    check: Check
    new_connection_ok: bool


def _answers(ctx: RobustContext, conn: HostileConnection) -> str | None:
    """None when BootNotification and Heartbeat are both answered on ``conn``; else what went wrong."""
    for action, payload in (("BootNotification", BOOT), ("Heartbeat", {})):
        outcome = ctx.call(conn, action, payload)
        if not outcome.answers:
            return f"{action} not answered: {outcome.describe()}"
    return None


def probe(ctx: RobustContext, attempts: int) -> Liveness:
    """The liveness probe (the module docstring); closes every connection of the case."""
    findings: list[str] = []
    alive = True
    same = ctx.target
    if same is not None and same.usable:
        started = time.monotonic()
        problem = _answers(ctx, same)
        if problem is None:
            findings.append(f"same connection: answered in {(time.monotonic() - started) * 1000:.0f} ms")
        elif same.closed is not None:
            findings.append(f"same connection: closed by the CSMS during the probe ({same.closed.describe()})")
        else:
            alive = False
            findings.append(f"same connection (still open): {problem}")
    elif same is not None:
        findings.append("same connection: closed" if same.closed is not None else "same connection: not usable")
    ctx.close_all()
    problem = "not tried"
    for attempt in range(max(1, attempts)):
        if attempt:
            time.sleep(0.5)
        try:
            conn = ctx.open(label="probe")
        except TransportError as exc:
            problem = f"cannot connect: {exc}"
            continue
        started = time.monotonic()
        problem = _answers(ctx, conn) or ""
        conn.close()
        if not problem:
            break
    new_ok = not problem
    if problem:
        alive = False
        findings.append(f"new connection: {problem}")
    else:
        findings.append(f"new connection: answered in {(time.monotonic() - started) * 1000:.0f} ms")
    check = Check(
        "liveness",
        "BootNotification.req, Heartbeat.req",
        "",
        "answered on the same connection (unless the CSMS closed it) and on a new one",
        "; ".join(findings),
        ok=alive,
    )
    return Liveness(alive, check, new_ok)
