"""Settings of one simulated charge point: identity, transport, timing and how it answers."""

from __future__ import annotations

from dataclasses import dataclass, field

from ocpp_users import __version__
from ocpp_users.ocppj.transport import DEFAULT_MAX_MESSAGE_SIZE, SecurityConfig


@dataclass
class Behaviour:
    """Which answers the charge point gives, per charge point, because the compliance cases (and
    negative load tests) need each of them."""

    answers: dict[str, str] = field(default_factory=dict)
    """Action -> the ``status`` to answer with, skipping the real behaviour (e.g.
    ``{"RemoteStartTransaction": "Rejected", "UnlockConnector": "UnlockFailed"}``)."""
    fail: frozenset[str] = frozenset()
    """Actions whose handler raises, so the CSMS receives InternalError."""
    unsupported: frozenset[str] = frozenset()
    """Actions answered NotSupported."""
    fixed_cable: bool = False
    """A fixed cable cannot be unlocked: UnlockConnector answers NotSupported."""
    firmware_outcome: str = "Installed"
    """Final FirmwareStatusNotification: Installed, DownloadFailed or InstallationFailed."""
    diagnostics_outcome: str = "Uploaded"
    """Final DiagnosticsStatusNotification: Uploaded or UploadFailed."""
    auto_follow_up: bool = True
    """Act on CSMS requests as a charger does (a remote start runs a session, Reset reboots,
    TriggerMessage sends the message). The compliance runner turns it off and scripts the steps."""
    data_transfer_vendors: frozenset[str] = frozenset({"VolatileOCPP"})
    """vendorIds whose DataTransfer.req is Accepted; others get UnknownVendorId."""
    log_outcome: str = "Uploaded"
    """Final LogStatusNotification of a GetLog: Uploaded, or a failure (UploadFailure, BadMessage,
    PermissionDenied, NotSupportedOperation)."""
    signed_firmware_check: str = "location"
    """How a SignedUpdateFirmware's ``signature`` is checked. The simulated charger downloads
    nothing, so the firmware image it "downloads" is, by convention, the bytes of the ``location``
    URL: ``location`` verifies the signature over them (a CSMS or test signs what it sends;
    a signature made for another image or with another key fails, InvalidSignature).
    ``certificate`` checks only the signing certificate, for a CSMS that signs real images the
    simulator cannot fetch."""


@dataclass(frozen=True)
class Habits:
    """How a charger, the EVs that come to it and their drivers behave on their own: offline replay,
    plug-in, return and battery, injected faults. Frozen: one object serves a whole fleet (a
    setting per charge point is memory times 20,000)."""

    offline_replay_rate: float = 0.0
    """Queued transaction messages delivered per second after a reconnect (0: each as soon as the
    previous one is answered, a burst; 0.5: a trickle, one every two seconds)."""
    offline_queue_max: int = 1000
    """Transaction messages a charge point keeps queued (a real charger has limited storage): when
    full, the oldest MeterValues is dropped, never a Start/StopTransaction (0: no bound)."""
    plug_in_delay: tuple[float, float] = (0.0, 0.0)
    """Seconds (simulated: divided by ``time_factor``) from the driver's identification (or a remote
    start) until the EV is plugged in, drawn per session; ConnectionTimeOut cancels a session whose
    EV is not plugged in by then."""
    driver_return: tuple[float, float] = (60.0, 60.0)
    """Seconds (simulated) until the driver comes back after unplugging at the EV side: to end a
    transaction kept going by StopTransactionOnEVSideDisconnect=false, or to free a connector kept
    locked by UnlockConnectorOnEVSideDisconnect=false."""
    battery_wh: tuple[float, float] = (60000.0, 60000.0)
    """Battery sizes (Wh) of the EVs that come to charge, one drawn per session: a full battery takes
    no more energy (SuspendedEV)."""
    fault_rate_per_hour: float = 0.0
    """Faults per hour (simulated) injected on each charge point, on one of its connectors (0: none)."""
    fault_duration: tuple[float, float] = (30.0, 120.0)
    """Seconds (simulated) an injected fault lasts before the connector recovers."""
    fault_codes: tuple[str, ...] = ("GroundFailure", "HighTemperature", "OverCurrentFailure", "PowerMeterFailure")
    """ChargePointErrorCode values an injected fault draws from."""


DEFAULT_HABITS = Habits()


@dataclass
class ChargePointSettings:
    """Everything one charge point needs to connect and behave."""

    cp_id: str
    url: str
    """CSMS base URL; the charge point id becomes its last path segment."""
    security: SecurityConfig = field(default_factory=SecurityConfig)
    connectors: int = 1
    vendor: str = "VolatileOCPP"
    model: str = "VirtualCP"
    firmware_version: str = __version__
    serial_number: str | None = None
    call_timeout: float = 30.0
    connect_timeout: float = 10.0
    max_frame_size: int = DEFAULT_MAX_MESSAGE_SIZE
    """The largest inbound WebSocket message (a frame, or fragments joined), in bytes: a CSMS that
    announces more is failed with close code 1009 and the charge point reconnects (1 MiB)."""
    serialize_calls: bool = True
    """At most one outstanding CALL per connection, as OCPP-J asks of a charge point."""
    validate: bool = True
    heartbeat_override: float | None = None
    meter_interval_override: float | None = None
    boot_retry_default: float = 10.0
    """Seconds between BootNotifications when the CSMS answers Pending/Rejected with interval 0."""
    power_range_w: tuple[float, float] = (7400.0, 22000.0)
    time_factor: float = 1.0
    reconnect: bool = True
    backoff_initial: float = 1.0
    backoff_max: float = 30.0
    backoff_jitter: float = 0.5
    """Fraction of each backoff delay drawn at random (0 = none, 1 = full jitter)."""
    strict: bool = True
    """Count rejections (Boot Rejected, Authorize not Accepted, ...) as failures of that action."""
    behaviour: Behaviour = field(default_factory=Behaviour)
    configuration: dict[str, str] = field(default_factory=dict)
    """Configuration key overrides applied at start-up."""
    security_events: bool = False
    """Send the critical security events of the charger's own life (StartupOfTheDevice,
    ResetOrReboot, FirmwareUpdated after UpdateFirmware) as SecurityEventNotification; off by default,
    since a CSMS without the security extension answers them with a CALLERROR. Events raised while
    answering a security-extension request are sent either way (see :mod:`..security_events`)."""
    manufacturer_roots: str | None = None
    """A PEM file of ManufacturerRootCertificates installed at the factory (what the signing
    certificate of a SignedUpdateFirmware must be issued by); None: none until the CSMS installs one."""
    tls_url: str | None = None
    """The wss:// URL after an upgrade to security profile 2 or 3 (A00.FR.006 lets a CSMS serve
    each profile on its own port); None: ``url`` with ws:// replaced by wss://."""
    habits: Habits = DEFAULT_HABITS
    """How the charger, its EVs and drivers behave on their own (one object a fleet shares)."""
