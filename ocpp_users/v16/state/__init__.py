"""The charger's state: everything a real OCPP 1.6 charger remembers, with no I/O.

:class:`StationState` holds the connectors (status, transaction, availability, reservation),
the configuration keys, the authorization cache and local list, the installed charging
profiles, the firmware and diagnostics status. The station runtime (:mod:`ocpp_users.v16.station`)
changes it as messages go out; the answers to the CSMS (:mod:`ocpp_users.v16.answers`) read and
change it; nothing here sends a message.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from ocpp_users.v16.state.auth import AuthorizationCache, LocalAuthList
from ocpp_users.v16.state.charging_profiles import ProfileStore
from ocpp_users.v16.state.config import Configuration
from ocpp_users.v16.state.connectors import Connector, Reservation
from ocpp_users.v16.state.meter import Meter
from ocpp_users.v16.state.status import OCCUPIED, ChargePointStatus

__all__ = ["OCCUPIED", "ChargePointStatus", "Connector", "Reservation", "StationState"]


class StationState:
    """Connectors 0..N, configuration, authorization data, charging profiles, firmware/diagnostics."""

    def __init__(
        self,
        connectors: int,
        configuration: dict[str, str],
        power_range_w: tuple[float, float],
        time_factor: float,
        rng: random.Random,
    ) -> None:
        self.configuration = Configuration(connectors, configuration)
        self.connectors: dict[int, Connector] = {
            cid: Connector(cid, Meter(power_range_w, time_factor=time_factor, rng=rng)) for cid in range(connectors + 1)
        }
        self.auth_cache = AuthorizationCache()
        self.local_list = LocalAuthList(self.configuration.get_int("LocalAuthListMaxLength", 1000))
        self.profiles = ProfileStore()
        """Installed charging profiles (Smart Charging)."""
        self.firmware_status = "Idle"
        self.diagnostics_status = "Idle"

    def watch_charging(self, listener: Callable[[], object]) -> None:
        """``listener()`` runs whenever a transaction starts or ends on any connector."""
        for connector in self.connectors.values():
            connector.on_charging = listener

    def valid_connector(self, connector_id: object, allow_zero: bool = True) -> bool:
        return (
            isinstance(connector_id, int)
            and not isinstance(connector_id, bool)
            and connector_id in self.connectors
            and (allow_zero or connector_id > 0)
        )

    def connector_for_transaction(self, transaction_id: object) -> int | None:
        for cid, connector in self.connectors.items():
            if connector.transaction_id is not None and connector.transaction_id == transaction_id:
                return cid
        return None

    def occupied(self, connector_id: int) -> bool:
        return self.connectors[connector_id].status in OCCUPIED

    def charging(self) -> bool:
        """Any connector runs a transaction."""
        return any(c.charging for cid, c in self.connectors.items() if cid > 0)

    def apply_limits(self) -> None:
        """Each connector's meter draws no more than its charging profiles allow now."""
        for cid, connector in self.connectors.items():
            connector.meter.limit_w = self.profiles.limit_w(cid)

    def reset_after_reboot(self) -> None:
        """A reboot forgets transient state: statuses come back from availability, reservations end."""
        for connector in self.connectors.values():
            connector.status = ChargePointStatus.available if connector.operative else ChargePointStatus.unavailable
            reservation, connector.reservation = connector.reservation, None
            if reservation is not None and reservation.timer is not None:
                reservation.timer.kill(block=False)
