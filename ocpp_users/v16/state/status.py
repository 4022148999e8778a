"""Connector status machine over the OCPP 1.6 ChargePointStatus values.

From the specification (§4.9, StatusNotification): the table of "possible status changes" from
one state (rows A..I) to another. A transition not in the table is illegal and is refused.
"""

from __future__ import annotations

from enum import StrEnum


class ChargePointStatus(StrEnum):
    available = "Available"
    preparing = "Preparing"
    charging = "Charging"
    suspended_ev = "SuspendedEV"
    suspended_evse = "SuspendedEVSE"
    finishing = "Finishing"
    reserved = "Reserved"
    unavailable = "Unavailable"
    faulted = "Faulted"


S = ChargePointStatus

LEGAL: dict[ChargePointStatus, frozenset[ChargePointStatus]] = {
    S.available: frozenset(
        {S.preparing, S.charging, S.suspended_ev, S.suspended_evse, S.reserved, S.unavailable, S.faulted}
    ),
    S.preparing: frozenset({S.available, S.charging, S.suspended_ev, S.suspended_evse, S.finishing, S.faulted}),
    S.charging: frozenset({S.available, S.suspended_ev, S.suspended_evse, S.finishing, S.unavailable, S.faulted}),
    S.suspended_ev: frozenset({S.available, S.charging, S.suspended_evse, S.finishing, S.unavailable, S.faulted}),
    S.suspended_evse: frozenset({S.available, S.charging, S.suspended_ev, S.finishing, S.unavailable, S.faulted}),
    S.finishing: frozenset({S.available, S.preparing, S.unavailable, S.faulted}),
    S.reserved: frozenset({S.available, S.preparing, S.unavailable, S.faulted}),
    S.unavailable: frozenset({S.available, S.preparing, S.charging, S.suspended_ev, S.suspended_evse, S.faulted}),
    S.faulted: frozenset(
        {S.available, S.preparing, S.charging, S.suspended_ev, S.suspended_evse, S.finishing, S.reserved, S.unavailable}
    ),
}

#: From the specification: connector 0 (the charge point as a whole) is only ever Available,
#: Unavailable or Faulted.
CONNECTOR_ZERO = frozenset({S.available, S.unavailable, S.faulted})

#: Statuses in which a connector is engaged in (or setting up) a session.
OCCUPIED = frozenset({S.preparing, S.charging, S.suspended_ev, S.suspended_evse, S.finishing})


class IllegalTransition(ValueError):
    """A status change the 1.6 state table does not allow."""


def check_transition(connector_id: int, old: ChargePointStatus, new: ChargePointStatus) -> None:
    if old == new:
        return
    if connector_id == 0:
        if new not in CONNECTOR_ZERO:
            raise IllegalTransition(f"connector 0 cannot be {new}")
        return
    if new not in LEGAL[old]:
        raise IllegalTransition(f"connector {connector_id}: {old} -> {new} is not a legal 1.6 transition")
