"""A connector as the charger knows it: status, its transaction, availability, reservation, session."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import gevent
import gevent.event

from ocpp_users.v16.state.meter import Meter
from ocpp_users.v16.state.status import ChargePointStatus

if TYPE_CHECKING:
    from ocpp_users.v16.state.transaction import Transaction


@dataclass
class Reservation:
    """A ReserveNow the charger accepted; ``timer`` ends it at ``expiry``."""

    reservation_id: int
    id_tag: str
    expiry: str
    parent_id_tag: str | None = None
    timer: gevent.Greenlet | None = None


class Connector:
    """One connector (connector 0 stands for the charge point as a whole)."""

    __slots__ = (
        "_stop_event",
        "_transaction",
        "_transaction_id",
        "connector_id",
        "error_code",
        "fault",
        "id_tag",
        "meter",
        "on_charging",
        "operative",
        "reported_status",
        "reservation",
        "scheduled_operative",
        "session",
        "status",
        "stop_reason",
    )

    def __init__(self, connector_id: int, meter: Meter) -> None:
        self.connector_id = connector_id
        self.meter = meter
        self.status = ChargePointStatus.available
        self.error_code = "NoError"
        self._transaction_id: int | None = None
        self.id_tag: str | None = None
        self.operative = True
        self.scheduled_operative: bool | None = None
        """A ChangeAvailability answered Scheduled: applies when the running transaction ends."""
        self.reservation: Reservation | None = None
        self.session: gevent.Greenlet | None = None
        """The greenlet running this connector's charging session, if any."""
        self.stop_reason: str | None = None
        self._stop_event: gevent.event.Event | None = None
        self.on_charging: Callable[[], object] | None = None
        """Called when a transaction starts or ends here (the fleet counts charging charge points)."""
        self._transaction: Transaction | None = None
        self.reported_status: ChargePointStatus | None = None
        """The status the CSMS last heard of (a change made offline is reported after reconnecting)."""
        self.fault: str | None = None
        """The ChargePointErrorCode of a fault in force (the connector is Faulted until it clears)."""

    @property
    def transaction_id(self) -> int | None:
        """The transactionId the CSMS gave (None before its StartTransaction.conf, or without one)."""
        return self._transaction_id

    @transaction_id.setter
    def transaction_id(self, value: int | None) -> None:
        was = self.charging
        self._transaction_id = value
        self._charging_changed(was)

    @property
    def transaction(self) -> Transaction | None:
        """The transaction running here as the charger knows it (one started offline has no
        transactionId until its queued StartTransaction is answered)."""
        return self._transaction

    @transaction.setter
    def transaction(self, value: Transaction | None) -> None:
        was = self.charging
        self._transaction = value
        self._charging_changed(was)

    def _charging_changed(self, was: bool) -> None:
        listener = self.on_charging
        if listener is not None and was != self.charging:
            listener()

    @property
    def stop_event(self) -> gevent.event.Event:
        """Set to end the running session (made on first use: an idle connector needs none)."""
        event = self._stop_event
        if event is None:
            event = self._stop_event = gevent.event.Event()
        return event

    @property
    def charging(self) -> bool:
        """A transaction is running: started (its StartTransaction sent, or queued while offline) and
        not yet stopped."""
        return self._transaction_id is not None or self._transaction is not None

    @property
    def session_running(self) -> bool:
        return self.session is not None and not self.session.dead
