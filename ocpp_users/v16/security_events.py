"""Security events (OCPP 1.6 security whitepaper, edition 2, use case A04 and §8).

Every event is stored in the charger's security log (A04.FR.04, N01.FR.05). It is also sent to the
CSMS as a SecurityEventNotification.req

* when the charger raises it while handling a security-extension request: the OCTT cases expect
  the notification then even for events §8 calls non-critical (TC_077: InvalidChargePointCertificate
  after a bad CertificateSigned.req; TC_078: InvalidCentralSystemCertificate after a bad
  InstallCertificate.req; L01.FR.02/03: InvalidFirmwareSigningCertificate, InvalidFirmwareSignature;
  TC_080: FirmwareUpdated after a SignedUpdateFirmware);
* when it is critical (§8: "Security events that are critical should be pushed to the Central
  System") and comes from the charger's own life (StartupOfTheDevice, ResetOrReboot, FirmwareUpdated
  after UpdateFirmware) *and* the settings ask for them (``security_events``): a CSMS without the
  security extension would answer those with a CALLERROR, so a load test must opt in.

A04.FR.02: "Security event notifications MUST be queued with a guaranteed delivery at the Central
System": an event raised while the charger is offline (or not yet Accepted) waits in a queue sent
after the next Accepted boot or reconnect, oldest first; one cut short by a dropped connection is
sent again. The events a simulated charger cannot meet (SettingSystemTime, SecurityLogWasCleared,
MemoryExhaustion, TamperDetectionActivated, AttemptedReplayAttacks) are named, never raised.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING

import gevent

from ocpp_users.ocppj.errors import (
    AuthenticationFailed,
    CallCancelled,
    ConnectionLost,
    TransportError,
    VolatileOcppError,
)
from ocpp_users.v16.state.meter import utc_now
from ocpp_users.v16.state.security_log import SecurityLogEntry

if TYPE_CHECKING:
    from ocpp_users.v16.station import Station

log = logging.getLogger(__name__)

MAX_QUEUED = 1000
"""Events waiting for the CSMS, per charger; beyond it the oldest are dropped (and counted)."""


class SecurityEvent(StrEnum):
    """The security events of whitepaper §8."""

    firmware_updated = "FirmwareUpdated"
    failed_to_authenticate_at_central_system = "FailedToAuthenticateAtCentralSystem"
    central_system_failed_to_authenticate = "CentralSystemFailedToAuthenticate"
    setting_system_time = "SettingSystemTime"
    startup_of_the_device = "StartupOfTheDevice"
    reset_or_reboot = "ResetOrReboot"
    security_log_was_cleared = "SecurityLogWasCleared"
    reconfiguration_of_security_parameters = "ReconfigurationOfSecurityParameters"
    memory_exhaustion = "MemoryExhaustion"
    invalid_messages = "InvalidMessages"
    attempted_replay_attacks = "AttemptedReplayAttacks"
    tamper_detection_activated = "TamperDetectionActivated"
    invalid_firmware_signature = "InvalidFirmwareSignature"
    invalid_firmware_signing_certificate = "InvalidFirmwareSigningCertificate"
    invalid_central_system_certificate = "InvalidCentralSystemCertificate"
    invalid_charge_point_certificate = "InvalidChargePointCertificate"
    invalid_tls_version = "InvalidTLSVersion"
    invalid_tls_cipher_suite = "InvalidTLSCipherSuite"


E = SecurityEvent

CRITICAL: frozenset[SecurityEvent] = frozenset(
    {
        E.firmware_updated,
        E.setting_system_time,
        E.startup_of_the_device,
        E.reset_or_reboot,
        E.security_log_was_cleared,
        E.memory_exhaustion,
        E.tamper_detection_activated,
    }
)
"""The events §8 marks critical ("Yes")."""


def transport_event(exc: TransportError) -> SecurityEvent | None:
    """The security event a failed connection attempt means, if any: credentials refused
    (FailedToAuthenticateAtCentralSystem), the CSMS's certificate not verified
    (InvalidCentralSystemCertificate, A00.FR.309/413), an old TLS version or unacceptable cipher
    suites (InvalidTLSVersion A00.FR.315/419, InvalidTLSCipherSuite A00.FR.322/426)."""
    if isinstance(exc, AuthenticationFailed):
        return E.failed_to_authenticate_at_central_system
    reason = exc.reason.lower()
    if "certificate verification failed" in reason:
        return E.invalid_central_system_certificate
    if "protocol version" in reason or "unsupported protocol" in reason or "wrong version number" in reason:
        return E.invalid_tls_version
    if "no ciphers" in reason or "no shared cipher" in reason or "handshake failure" in reason:
        return E.invalid_tls_cipher_suite
    return None


class SecurityEvents:
    """One charger's security events: its log, the queue of notifications, their delivery."""

    __slots__ = ("_after_boot", "_queue", "_sender", "dropped", "startup_pending", "station")

    def __init__(self, station: Station) -> None:
        self.station = station
        self._queue: deque[dict[str, str]] | None = None
        self._after_boot: list[Callable[[], object]] | None = None
        self._sender: gevent.Greenlet | None = None
        self.dropped = 0
        """Notifications dropped because the queue was full (the CSMS was away too long)."""
        self.startup_pending = True
        """The next Accepted boot is the start of the device (StartupOfTheDevice)."""

    @property
    def queued(self) -> int:
        return len(self._queue) if self._queue else 0

    def raise_event(
        self, kind: SecurityEvent, tech_info: str | None = None, *, notify: bool = False, defer: bool = False
    ) -> None:
        """Log ``kind``; notify the CSMS when ``notify`` (a security-extension request is being
        handled) or when it is critical and the settings ask for life-cycle events. ``defer`` holds
        the notification until the next Accepted boot (an event announced by the charger that
        rebooted, e.g. ResetOrReboot)."""
        timestamp = utc_now()
        info = tech_info[:255] if tech_info else None
        self.station.state.security_log.add(SecurityLogEntry(timestamp, str(kind), info))
        if not (notify or (kind in CRITICAL and self.station.settings.security_events)):
            return
        payload = {"type": str(kind), "timestamp": timestamp}
        if info:
            payload["techInfo"] = info
        queue = self._queue
        if queue is None:
            queue = self._queue = deque()
        if len(queue) >= MAX_QUEUED:
            queue.popleft()
            self.dropped += 1
        queue.append(payload)
        if not defer:
            self.flush()

    def after_boot(self, func: Callable[[], object]) -> None:
        """Run ``func`` (in its own greenlet) once the charger is booted and Accepted again."""
        if self._after_boot is None:
            self._after_boot = []
        self._after_boot.append(func)

    def on_booted(self) -> None:
        """The charger's boot was Accepted: StartupOfTheDevice if it just started, then the work
        waiting for the boot and the queued notifications."""
        if self.startup_pending:
            self.startup_pending = False
            self.raise_event(E.startup_of_the_device, defer=True)
        waiting, self._after_boot = self._after_boot or [], None
        station = self.station
        for func in waiting:
            station.spawn(station.quietly, func)
        self.flush()

    def on_connect_failed(self, exc: TransportError) -> None:
        kind = transport_event(exc)
        if kind is not None:
            self.raise_event(kind, exc.reason)

    def flush(self) -> None:
        """Send the queued notifications, oldest first, unless a sender runs already or the charger
        cannot send now (offline, or not Accepted: A04.FR.02 keeps them queued)."""
        station = self.station
        if not self._queue or station.stopping or not station.connected or station.registration != "Accepted":
            return
        if self._sender is not None and not self._sender.dead:
            return
        self._sender = station.spawn(self._send_queued)

    def _send_queued(self) -> None:
        station = self.station
        queue = self._queue
        while queue and station.connected and not station.stopping:
            payload = queue[0]
            try:
                station.call("SecurityEventNotification", payload)
            except (ConnectionLost, CallCancelled):
                return  # still queued: sent after the next reconnect (A04.FR.02)
            except VolatileOcppError:
                pass  # the CSMS answered (with an error, counted as a failure): delivered
            except Exception as exc:  # a bug must not lose the queue silently
                log.error("security event notification failed: %s: %s", type(exc).__name__, exc)
                return
            if queue and queue[0] is payload:
                queue.popleft()
