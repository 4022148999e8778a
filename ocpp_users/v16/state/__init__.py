"""The charger's state: everything a real OCPP 1.6 charger remembers, with no I/O.

:class:`StationState` holds the connectors (status, transaction, availability, reservation),
the configuration keys, the authorization cache and local list, the installed charging
profiles, the firmware and diagnostics status, and what the security extension adds: the
installed certificates and the charger's own (:mod:`.certificates`), the security log
(:mod:`.security_log`), the signed firmware and log upload status. Those are made on first use,
so that a fleet of charge points that never see a security message pays nothing for them.
The station runtime (:mod:`ocpp_users.v16.station`) changes it as messages go out; the answers
to the CSMS (:mod:`ocpp_users.v16.answers`) read and change it; nothing here sends a message.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from ocpp_users.v16.state.auth import AuthorizationCache, LocalAuthList, LocalAuthorization
from ocpp_users.v16.state.certificates import CertificateStore, ChargePointCertificate
from ocpp_users.v16.state.charging_profiles import ProfileStore
from ocpp_users.v16.state.config import Configuration
from ocpp_users.v16.state.connectors import Connector, Reservation
from ocpp_users.v16.state.meter import Meter
from ocpp_users.v16.state.security_log import SecurityLog
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
        battery_wh: tuple[float, float] = (60000.0, 60000.0),
    ) -> None:
        self.configuration = Configuration(connectors, configuration)
        self.connectors: dict[int, Connector] = {
            cid: Connector(cid, Meter(power_range_w, time_factor=time_factor, rng=rng, capacity_wh=battery_wh))
            for cid in range(connectors + 1)
        }
        self.auth_cache = AuthorizationCache()
        self.local_list = LocalAuthList(self.configuration.get_int("LocalAuthListMaxLength", 1000))
        self.profiles = ProfileStore()
        """Installed charging profiles (Smart Charging)."""
        self.firmware_status = "Idle"
        self.diagnostics_status = "Idle"
        self.ca_file: str | None = None
        """The CA bundle the charger starts with: its factory CentralSystemRootCertificates."""
        self.manufacturer_file: str | None = None
        """The PEM bundle of its factory ManufacturerRootCertificates."""
        self.signed_firmware_status: str | None = None
        """The last SignedFirmwareStatusNotification status sent (None: none yet)."""
        self.signed_firmware_request: int | None = None
        """requestId of the SignedUpdateFirmware in progress or last run (L01.FR.10)."""
        self.log_status: str | None = None
        """The last LogStatusNotification status sent for a GetLog (None: none yet)."""
        self.log_request: int | None = None
        """requestId of the GetLog upload in progress or last run (N01.FR.07)."""
        self._certificates: CertificateStore | None = None
        self._own_certificate: ChargePointCertificate | None = None
        self._security_log: SecurityLog | None = None

    @property
    def authorization(self) -> LocalAuthorization:
        """What the charger knows of an idTag by itself: its local list, then its cache (§3.5.3)."""
        return LocalAuthorization(self.local_list, self.auth_cache, self.configuration.get_bool)

    @property
    def certificates(self) -> CertificateStore:
        """The installed root certificates (made on first use)."""
        if self._certificates is None:
            config = self.configuration
            self._certificates = CertificateStore(
                lambda: config.get_int("CertificateStoreMaxLength", 20),
                lambda: config.get_bool("AdditionalRootCertificateCheck"),
                self.ca_file,
                self.manufacturer_file,
            )
        return self._certificates

    @property
    def own_certificate(self) -> ChargePointCertificate:
        """The charger's key pairs and ChargePointCertificates (made on first use)."""
        if self._own_certificate is None:
            self._own_certificate = ChargePointCertificate()
        return self._own_certificate

    @property
    def security_log(self) -> SecurityLog:
        """The security log (made on first use)."""
        if self._security_log is None:
            self._security_log = SecurityLog()
        return self._security_log

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
            if connector.fault is not None:
                connector.status = ChargePointStatus.faulted  # a fault outlasts a reboot
            else:
                connector.status = ChargePointStatus.available if connector.operative else ChargePointStatus.unavailable
            reservation, connector.reservation = connector.reservation, None
            if reservation is not None and reservation.timer is not None:
                reservation.timer.kill(block=False)
