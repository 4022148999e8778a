"""Configuration keys of the simulated charge point, with 1.6 defaults and read-only flags.

From the specification (§9): "the following configuration keys are defined"; values travel as
strings, booleans as ``true``/``false``, lists as comma-separated values (CSL).

Every key reported here has its behaviour (``tests/test_config_keys.py`` changes each at runtime and
watches the wire); where it lives:

- authorization (§3.5): AllowOfflineTxForUnknownId, LocalAuthorizeOffline, LocalPreAuthorize in
  ``sessions.authorized``; AuthorizationCacheEnabled, LocalAuthListEnabled in ``state/auth.py``;
  AuthorizeRemoteTxRequests in ``answers/core.py``; LocalAuthListMaxLength, SendLocalListMaxLength in
  ``answers/local_auth.py``
- metering (§3.16): MeterValueSampleInterval, MeterValuesSampledData, StopTxnSampledData in
  ``sessions.py`` and ``Station.sample``; ClockAlignedDataInterval, MeterValuesAlignedData,
  StopTxnAlignedData in ``periodic.py`` and ``Station.aligned_readings``
- sessions: ConnectionTimeOut, StopTransactionOnEVSideDisconnect, UnlockConnectorOnEVSideDisconnect,
  StopTransactionOnInvalidId in ``sessions.py``; TransactionMessageAttempts,
  TransactionMessageRetryInterval in ``transactions.py``
- the connection: HeartbeatInterval in ``Station.run_heartbeats``, WebSocketPingInterval in
  ``periodic.py``; GetConfigurationMaxKeys in ``answers/core.py``
- smart charging: ChargeProfileMaxStackLevel, ChargingScheduleMaxPeriods, MaxChargingProfilesInstalled
  in ``answers/smart_charging.py`` (ChargingScheduleAllowedChargingRateUnit lists both units, and both
  are taken); ReserveConnectorZeroSupported in ``answers/reservation.py``
- what the charger is: NumberOfConnectors, SupportedFeatureProfiles (the profiles ``answers/`` implements),
  ConnectorPhaseRotation (reported as set); ResetRetries (a simulated reset never fails, so there is
  nothing to retry); the security whitepaper's keys in ``answers/security.py``
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from ocpp_users.v16.state.meter import SUPPORTED_MEASURANDS

FollowUp = Callable[[], object]
"""Work to do once the ChangeConfiguration.conf is on the wire (e.g. reconnect)."""
Intercept = Callable[[str, str], "tuple[str, FollowUp | None] | None"]
"""``intercept(key, value) -> (status, follow-up)`` for the keys whose change is more than storing a
value, None for the others."""

MEASURANDS = SUPPORTED_MEASURANDS
"""Measurands a measurand-list key may name: those the meter reports (OCPP 1.6 §3.16.4)."""
PROFILES = frozenset(
    {"Core", "FirmwareManagement", "LocalAuthListManagement", "Reservation", "SmartCharging", "RemoteTrigger"}
)


class Kind(Enum):
    boolean = "boolean"
    integer = "integer"
    measurands = "measurand list"
    csl = "comma-separated list"
    string = "string"


@dataclass(slots=True)
class Key:
    name: str
    kind: Kind
    value: str
    readonly: bool = False


#: (name, kind, default, readonly). Defaults are those of a typical AC charger.
_DEFAULTS: tuple[tuple[str, Kind, str, bool], ...] = (
    # Core
    ("AllowOfflineTxForUnknownId", Kind.boolean, "false", False),
    ("AuthorizationCacheEnabled", Kind.boolean, "true", False),
    ("AuthorizeRemoteTxRequests", Kind.boolean, "true", False),
    ("ClockAlignedDataInterval", Kind.integer, "0", False),
    ("ConnectionTimeOut", Kind.integer, "60", False),
    ("ConnectorPhaseRotation", Kind.csl, "0.RST", False),
    ("GetConfigurationMaxKeys", Kind.integer, "50", True),
    ("HeartbeatInterval", Kind.integer, "300", False),
    ("LocalAuthorizeOffline", Kind.boolean, "true", False),
    ("LocalPreAuthorize", Kind.boolean, "false", False),
    ("MeterValuesAlignedData", Kind.measurands, "Energy.Active.Import.Register", False),
    (
        "MeterValuesSampledData",
        Kind.measurands,
        "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage,SoC",
        False,
    ),
    ("MeterValueSampleInterval", Kind.integer, "60", False),
    ("NumberOfConnectors", Kind.integer, "1", True),
    ("ResetRetries", Kind.integer, "3", False),
    ("StopTransactionOnEVSideDisconnect", Kind.boolean, "true", False),
    ("StopTransactionOnInvalidId", Kind.boolean, "true", False),
    ("StopTxnAlignedData", Kind.measurands, "Energy.Active.Import.Register", False),
    ("StopTxnSampledData", Kind.measurands, "Energy.Active.Import.Register", False),
    (
        "SupportedFeatureProfiles",
        Kind.csl,
        "Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger",
        True,
    ),
    ("TransactionMessageAttempts", Kind.integer, "3", False),
    ("TransactionMessageRetryInterval", Kind.integer, "60", False),
    ("UnlockConnectorOnEVSideDisconnect", Kind.boolean, "true", False),
    ("WebSocketPingInterval", Kind.integer, "0", False),
    # Local Auth List Management
    ("LocalAuthListEnabled", Kind.boolean, "true", False),
    ("LocalAuthListMaxLength", Kind.integer, "1000", True),
    ("SendLocalListMaxLength", Kind.integer, "100", True),
    # Reservation
    ("ReserveConnectorZeroSupported", Kind.boolean, "false", True),
    # Smart Charging
    ("ChargeProfileMaxStackLevel", Kind.integer, "10", True),
    ("ChargingScheduleAllowedChargingRateUnit", Kind.csl, "Current,Power", True),
    ("ChargingScheduleMaxPeriods", Kind.integer, "24", True),
    ("MaxChargingProfilesInstalled", Kind.integer, "10", True),
    # The OCPP 1.6 security whitepaper (edition 2), §7
    ("AdditionalRootCertificateCheck", Kind.boolean, "false", True),
    ("AuthorizationKey", Kind.string, "", False),
    ("CertificateSignedMaxChainSize", Kind.integer, "10000", True),
    ("CertificateStoreMaxLength", Kind.integer, "20", True),
    ("CpoName", Kind.string, "", False),
    ("SecurityProfile", Kind.integer, "0", False),
)

WRITE_ONLY = frozenset({"AuthorizationKey"})
"""Whitepaper §7.2: "This configuration key is write-only, so that it cannot be accidentally stored
in plaintext by the Central System when it reads out all configuration keys"."""


DERIVED = {
    "NumberOfConnectors": "it is the number of connectors the charge point has (--connectors)",
    "SupportedFeatureProfiles": "it lists the profiles the charge point implements (all six)",
    "ChargingScheduleAllowedChargingRateUnit": "the charge point takes both units (Current,Power)",
    "SecurityProfile": "it follows the connection's security options (--security-profile)",
}
"""Read-only keys that describe what the charge point is: a start-up value would make GetConfiguration
report what the charger does not do, so they are not settable."""


def check_value(name: str, value: str) -> tuple[str, str]:
    """``name=value`` as a charge point's start-up configuration (read-only keys included, as a
    charger's factory settings): the key's canonical name and the value as it is stored; raise
    ValueError naming the problem (unknown key, write-only key, a value its kind does not allow)."""
    key = _DEFAULT_KEYS.get(name) or _DEFAULT_KEYS.get(_FOLDED.get(name.casefold(), ""))
    if key is None:
        raise ValueError(f"unknown configuration key {name!r}")
    if key.name in WRITE_ONLY:
        raise ValueError(f"{key.name} is write-only (set credentials with their own options)")
    if key.name in DERIVED:
        raise ValueError(f"{key.name} cannot be set: {DERIVED[key.name]}")
    if not _valid(key.kind, value):
        raise ValueError(f"{key.name}: {value!r} is not a valid {key.kind.value}")
    if key.kind is Kind.boolean:
        value = value.lower()
    elif key.kind is Kind.integer:
        value = str(int(value))
    return key.name, value


class ConfigStatus:
    accepted = "Accepted"
    rejected = "Rejected"
    reboot_required = "RebootRequired"
    not_supported = "NotSupported"


def _valid(kind: Kind, value: str) -> bool:
    if len(value) > 500:
        return False
    if kind is Kind.boolean:
        return value.lower() in ("true", "false")
    if kind is Kind.integer:
        return value.isascii() and value.isdigit() and len(value) <= 10
    if kind is Kind.measurands:
        items = [v.strip() for v in value.split(",") if v.strip()]
        return all(item in MEASURANDS for item in items)
    return True


_DEFAULT_KEYS: dict[str, Key] = {name: Key(name, kind, default, ro) for name, kind, default, ro in _DEFAULTS}
"""Shared by every charge point until one changes a key (a fleet holds thousands of them)."""
_FOLDED: dict[str, str] = {name.casefold(): name for name in _DEFAULT_KEYS}


class Configuration:
    """The key-value store behind GetConfiguration and ChangeConfiguration.

    Keys at their default value are shared by every charge point of the process; a key gets its
    own copy when it is first set (copy on write).
    """

    __slots__ = ("_intercept", "_listeners", "_own")

    def __init__(self, number_of_connectors: int = 1, overrides: dict[str, str] | None = None) -> None:
        self._own: dict[str, Key] = {}
        self._listeners: list[Callable[[str, str, bool], None]] = []
        self._intercept: Intercept | None = None
        self._write("NumberOfConnectors", str(number_of_connectors))
        for name, value in (overrides or {}).items():
            existing = self.find(name)
            if existing is not None:
                if existing.name not in WRITE_ONLY:
                    self._write(name, value)
            else:
                self._own[name] = Key(name, Kind.string, value)

    @property
    def keys(self) -> dict[str, Key]:
        """Every key by name, in the specification's order (keys added by overrides last)."""
        merged = {name: self._own.get(name, key) for name, key in _DEFAULT_KEYS.items()}
        merged.update((name, key) for name, key in self._own.items() if name not in merged)
        return merged

    def find(self, name: str) -> Key | None:
        """The key called ``name``; keys are CiString50, compared case-insensitively (OCPP 1.6 §2.1.1)."""
        key = self._own.get(name) or _DEFAULT_KEYS.get(name)
        if key is not None:
            return key
        folded = name.casefold()
        canonical = _FOLDED.get(folded)
        if canonical is not None:
            return self._own.get(canonical) or _DEFAULT_KEYS[canonical]
        for candidate in self._own.values():
            if candidate.name.casefold() == folded:
                return candidate
        return None

    def _write(self, name: str, value: str) -> Key:
        """Set ``name`` (an existing key) on this charge point's own copy."""
        key = self.find(name)
        if key is None:
            raise KeyError(name)
        own = self._own.get(key.name)
        if own is None:
            own = self._own[key.name] = Key(key.name, key.kind, value, key.readonly)
        own.value = value
        return own

    def listen(self, listener: Callable[[str, str, bool], None]) -> None:
        """``listener(key, value, by_csms)`` runs after every accepted change (e.g. to apply a new
        interval); ``by_csms``: the change came from the CSMS's ChangeConfiguration.req."""
        self._listeners.append(listener)

    def get(self, name: str) -> str | None:
        key = self.find(name)
        return key.value if key else None

    def get_int(self, name: str, default: int = 0) -> int:
        value = self.get(name)
        return int(value) if value is not None and value.isascii() and value.isdigit() else default

    def get_bool(self, name: str, default: bool = False) -> bool:
        value = self.get(name)
        return value.lower() == "true" if value is not None else default

    def set_internal(self, name: str, value: str, *, notify: bool = True, by_csms: bool = False) -> None:
        """Set a key from inside the charge point (read-only keys included), notifying listeners
        unless ``notify`` is false (the caller applies the change itself)."""
        key = self._write(name, value)
        if notify:
            for listener in self._listeners:
                listener(key.name, value, by_csms)

    def intercept(self, handler: Intercept) -> None:
        """Let ``handler`` decide the ChangeConfigurations it answers (it stores what it accepts itself)."""
        self._intercept = handler

    def change(self, name: str, value: str) -> str:
        """Apply a ChangeConfiguration.req; return its status."""
        return self.apply(name, value)[0]

    def apply(self, name: str, value: str) -> tuple[str, FollowUp | None]:
        """Apply a ChangeConfiguration.req: its status and the work to do once it is answered."""
        key = self.find(name)
        if key is None:
            return ConfigStatus.not_supported, None
        if self._intercept is not None:
            decided = self._intercept(key.name, value)
            if decided is not None:
                return decided
        if key.readonly or not _valid(key.kind, value):
            return ConfigStatus.rejected, None
        if key.kind is Kind.boolean:
            value = value.lower()
        if key.kind is Kind.integer:
            value = str(int(value))
        self.set_internal(name, value, by_csms=True)
        return ConfigStatus.accepted, None

    def report(self, names: list[str] | None) -> tuple[list[dict[str, object]], list[str]]:
        """configurationKey entries and unknownKey names for a GetConfiguration.req."""
        wanted = list(self.keys) if not names else names
        found: list[dict[str, object]] = []
        unknown: list[str] = []
        for name in wanted:
            key = self.find(name)
            if key is None:
                unknown.append(name[:50])
            elif key.name in WRITE_ONLY:
                found.append({"key": key.name, "readonly": False})
            else:
                found.append({"key": key.name, "readonly": key.readonly, "value": key.value})
        return found, unknown
