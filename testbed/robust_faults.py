"""Fault switches for the robustness suite: the CSMS crashes, hangs, accepts bad input or degrades
when a given kind of hostile input arrives.

``PUT /faults {"name": "crash_on", "on": "invalid_frame"}`` and its siblings ``hang_on``,
``accept_on`` and ``degrade_on`` (registered in :mod:`testbed.faults`). ``on`` names the kind of
input (one per group of the robustness catalogue, :data:`TRIGGERS`). The session asks
:func:`fire` at its two input points (every frame received, every CALL about to be answered) with
the kinds that input is; nothing here runs unless one of these faults is active, so the correct
CSMS pays nothing for them.

A hang or a degradation, once triggered, outlives the fault switch (clearing the switch does not
wake a hung connection, and a degradation lasts its ``duration``), as a real defect would.
"""

from __future__ import annotations

import json
import logging
import math
import os
import sys
import time
from typing import Any, Literal, Protocol

LOG = logging.getLogger("testbed.robust")

TRIGGERS: dict[str, str] = {
    "invalid_frame": "a frame that is not a well-formed OCPP-J message (not JSON, not an array, a bad message "
    "type, message id or element count) or a binary frame",
    "schema_invalid": "a CALL whose payload violates the action's official JSON schema",
    "unknown_action": "a CALL of an action this CSMS does not implement (NotImplemented, NotSupported)",
    "large": f"a frame of {16 * 1024} bytes or more, JSON nested deeper than 64 levels, or a number beyond 2**53",
    "semantic": "a CALL that makes no sense (a connectorId out of range, an unknown transactionId, meterStop "
    "below meterStart, a second StartTransaction on a busy connector, a reused message id) or an answer to a "
    "call never sent",
    "session": "a CALL before an Accepted BootNotification on the connection, or a second connection for a "
    "charge point already connected",
    "abuse": "more than 100 frames within one second on one connection, or more than 20 connections at once",
}
EFFECTS = ("crash_on", "hang_on", "accept_on", "degrade_on")
SCOPES = ("connection", "all")
LARGE_FRAME = 16 * 1024
DEEP = 64
FLOOD_FRAMES = 100
MANY_CONNECTIONS = 20
EXIT_CODE = 70

Effect = Literal["accept", "hang"] | None


class Hangable(Protocol):
    hung: bool
    id: str


class _State:
    """What a triggered fault left behind, for the whole process."""

    hang_all = False
    degrade_until = 0.0
    degrade_delay = 0.0


STATE = _State()


def armed(active: dict[str, Any] | None) -> str | None:
    """The trigger of the active robustness fault, or None (the fast path of every frame)."""
    if active is None or active.get("name") not in EFFECTS:
        return None
    on = active.get("on")
    return on if isinstance(on, str) else None


def dropping(session: Hangable) -> bool:
    """True when nothing this connection receives may be answered any more (a triggered hang)."""
    return session.hung or STATE.hang_all


def delay() -> float:
    """Seconds every answer waits now (a triggered degradation), 0 when none is running."""
    if STATE.degrade_delay and time.monotonic() < STATE.degrade_until:
        return STATE.degrade_delay
    return 0.0


def fire(active: dict[str, Any] | None, kinds: set[str], session: Hangable) -> Effect:
    """Apply the active robustness fault if its trigger is among ``kinds``: exit the process, hang
    the connection (or every connection), start a degradation; returns ``"accept"`` when the input
    must be answered as if valid and ``"hang"`` when it must not be answered at all."""
    on = armed(active)
    if on is None or on not in kinds or active is None:
        return None
    name = active["name"]
    LOG.warning("%s: fault %s on %s triggered", session.id, name, on)
    if name == "crash_on":
        sys.stderr.write(f"testbed: fault crash_on {on}: exiting with status {EXIT_CODE}\n")
        sys.stderr.flush()
        os._exit(EXIT_CODE)
    if name == "hang_on":
        if active.get("scope") == "all":
            STATE.hang_all = True
        session.hung = True
        return "hang"
    if name == "degrade_on":
        STATE.degrade_delay = float(active.get("delay", 1.0))
        STATE.degrade_until = time.monotonic() + float(active.get("duration", 5.0))
        return None
    return "accept"


def is_large(raw: str | bytes) -> bool:
    """A frame of 16 KiB or more, nested deeper than 64 levels, or carrying a number beyond 2**53
    (numbers as JSON reads them: digits inside strings, such as message ids, do not count)."""
    if len(raw) >= LARGE_FRAME:
        return True
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    depth = deepest = 0
    for char in text:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    if deepest > DEEP:
        return True
    huge: list[str] = []

    def number(token: str) -> int:
        value = float(token)
        if not math.isfinite(value) or abs(value) > 2**53:
            huge.append(token)
        return 0

    try:
        json.loads(text, parse_int=number, parse_float=number, parse_constant=number)
    except (ValueError, RecursionError):
        return False
    return bool(huge)


class FloodMeter:
    """Frames per connection within the last second (only counted while an abuse fault is armed)."""

    __slots__ = ("count", "since")

    def __init__(self) -> None:
        self.since = 0.0
        self.count = 0

    def tick(self) -> bool:
        now = time.monotonic()
        if now - self.since > 1.0:
            self.since, self.count = now, 0
        self.count += 1
        return self.count > FLOOD_FRAMES
