"""A connector as the charger knows it: status, its transaction, availability, reservation, session."""

from __future__ import annotations

from dataclasses import dataclass, field

import gevent
import gevent.event

from ocpp_users.v16.state.meter import Meter
from ocpp_users.v16.state.status import ChargePointStatus


@dataclass
class Reservation:
    """A ReserveNow the charger accepted; ``timer`` ends it at ``expiry``."""

    reservation_id: int
    id_tag: str
    expiry: str
    parent_id_tag: str | None = None
    timer: gevent.Greenlet | None = None


@dataclass
class Connector:
    """One connector (connector 0 stands for the charge point as a whole)."""

    connector_id: int
    meter: Meter
    status: ChargePointStatus = ChargePointStatus.available
    error_code: str = "NoError"
    transaction_id: int | None = None
    id_tag: str | None = None
    operative: bool = True
    scheduled_operative: bool | None = None
    """A ChangeAvailability answered Scheduled: applies when the running transaction ends."""
    reservation: Reservation | None = None
    session: gevent.Greenlet | None = None
    """The greenlet running this connector's charging session, if any."""
    stop_reason: str | None = None
    stop_event: gevent.event.Event = field(default_factory=gevent.event.Event)

    @property
    def charging(self) -> bool:
        """A transaction is running (StartTransaction confirmed, StopTransaction not yet sent)."""
        return self.transaction_id is not None

    @property
    def session_running(self) -> bool:
        return self.session is not None and not self.session.dead
