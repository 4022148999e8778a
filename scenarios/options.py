"""Everything a compliance run needs to know, independent of the command line or Locust."""

from __future__ import annotations

import base64
import binascii
import fnmatch
import os
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from ocpp_users.ocppj.transport import SecurityConfig

#: The OCPP 1.6 feature profiles (SupportedFeatureProfiles, §3) and the security extension of the
#: OCPP 1.6 security whitepaper, as a CSMS declares them with ``--profiles``.
CORE = "Core"
FEATURE_PROFILES: tuple[str, ...] = (
    CORE,
    "FirmwareManagement",
    "LocalAuthListManagement",
    "Reservation",
    "SmartCharging",
    "RemoteTrigger",
    "Security",
)
_PROFILE_ALIASES = {
    "localauthlist": "LocalAuthListManagement",
    "firmware": "FirmwareManagement",
    "remotetriggers": "RemoteTrigger",
}


def parse_profiles(text: str) -> frozenset[str]:
    """``--profiles Core,Reservation``: known names, case-insensitive (Core always included);
    raises ValueError naming an unknown one."""
    known = {name.casefold(): name for name in FEATURE_PROFILES}
    chosen = {CORE}
    for part in text.split(","):
        word = part.strip().replace(" ", "")
        if not word:
            continue
        name = known.get(word.casefold()) or _PROFILE_ALIASES.get(word.casefold())
        if name is None:
            raise ValueError(f"unknown feature profile {part.strip()!r} (known: {', '.join(FEATURE_PROFILES)})")
        chosen.add(name)
    return frozenset(chosen)


def check_authorization_key(text: str) -> None:
    """An AuthorizationKey value: 16 to 20 bytes in hexadecimal (whitepaper A00.FR.205); ValueError
    (without the value) otherwise."""
    value = text.strip()
    if not 32 <= len(value) <= 40 or len(value) % 2:
        raise ValueError("an AuthorizationKey must be 32 to 40 hexadecimal digits (16 to 20 bytes)")
    try:
        bytes.fromhex(value)
    except ValueError:
        raise ValueError("an AuthorizationKey must be hexadecimal") from None


def check_signature(text: str) -> None:
    """A firmware signature: base64, at most 800 characters (SignedUpdateFirmware's schema)."""
    value = text.strip()
    if not value or len(value) > 800:
        raise ValueError(f"a firmware signature must have 1 to 800 characters, not {len(value)}")
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a firmware signature must be base64") from None


def random_unknown_tag() -> str:
    """An idTag no CSMS has configured (CiString20)."""
    return "VOCPP-UNK-" + secrets.token_hex(5).upper()


@dataclass
class Tags:
    """The idTags the CSMS has configured, for the cases' preconditions."""

    valid: str | None = None
    invalid: str | None = None
    """An idTag unknown to the CSMS; a random one when not given."""
    expired: str | None = None
    blocked: str | None = None
    group: str | None = None
    """An idTag other than ``valid`` with the same parentIdTag (TC_053)."""
    parent: str | None = None
    """The parentIdTag of ``valid`` and ``group`` in the CSMS (TC_053)."""
    random_invalid: str = field(default_factory=random_unknown_tag)

    @property
    def unknown(self) -> str:
        return self.invalid or self.random_invalid

    def for_precondition(self, name: str) -> str | None:
        return {
            "valid_tag": self.valid,
            "invalid_tag": self.unknown,
            "expired_tag": self.expired,
            "blocked_tag": self.blocked,
            "group_tag": self.group,
            "parent_tag": self.parent,
        }.get(name)


@dataclass
class TestData:
    """The document's configured test data (<Firmware Download URL>, <Configured Expiry Date
    Offset>, <Configured stackLevel>, ...): what the Tool asks the CSMS to send and checks it sent."""

    __test__ = False  # (not a pytest test class)

    firmware_url: str = "https://firmware.example.com/volatileocpp/firmware-2.0.bin"
    """<Firmware Download URL from test data> (TC_044_1)."""
    diagnostics_url: str = "ftp://diagnostics.example.com/volatileocpp/"
    """Where the CSMS asks for the diagnostics log (TC_045_x)."""
    expiry_offset: float = 2.0
    """<Configured Expiry Date Offset> in seconds: ReserveNow.req expiryDate = now + this (TC_047);
    the Tool waits for it to pass."""
    expiry_tolerance: float = 2.0
    """How far the expiryDate may lie from now + offset (clock skew, transit)."""
    reservation_hold: float = 3600.0
    """expiryDate offset the Tool asks for in the other reservation cases (not checked)."""
    stack_level: int = 0
    """<Configured stackLevel> (TC_056, TC_067: and +1, +2)."""
    charging_rate_unit: str = "A"
    """<Configured chargingRateUnit>: A or W (TC_056, TC_066)."""
    duration: int = 3600
    """<Configured duration> of a charging schedule, seconds (TC_056, TC_066)."""
    start_period: int = 0
    """<Configured startPeriod> (TC_056)."""
    number_phases: int = 3
    """<Configured numberPhases> (TC_056; with 3 the field may be omitted)."""
    cpo_name: str = "VolatileOCPP OCTT"
    """The Tool's CpoName configuration key: the O of its certificate signing requests (TC_074,
    TC_077; the whitepaper's A02 needs it set before a SignChargePointCertificate trigger)."""
    authorization_key: str | None = field(default=None, repr=False)
    """The new AuthorizationKey TC_073 asks the CSMS to send (hexadecimal, 16 to 20 bytes; None: a
    random one per run). The CSMS expects it from then on: the Tool keeps using it for the run."""
    root_certificate: str | None = None
    """<Configured root certificate>: a PEM file with one root (CA) certificate the CSMS installs in
    TC_075_1, TC_075_2, TC_076 and TC_078 (None: the Tool makes a fresh one per case)."""
    log_location: str = "ftp://logs.example.com/volatileocpp/"
    """<Configured log location>: log.remoteLocation of TC_079's GetLog.req."""
    manufacturer_root: str | None = None
    """A PEM file of the Tool's factory ManufacturerRootCertificates: the root the firmware signing
    certificate of TC_080/TC_081 chains to (without it those cases are NOT APPLICABLE)."""
    signing_certificate: str | None = None
    """<Configured signingCertificate>: a PEM file, the firmware signing certificate the CSMS sends in
    TC_080/TC_081."""
    firmware_signature: str | None = None
    """<Configured signature>: the base64 firmware signature the CSMS sends in TC_080."""
    invalid_firmware_signature: str = "SW52YWxpZCBmaXJtd2FyZSBzaWduYXR1cmUgKE9DVFQgVENfMDgxKQ=="
    """<An invalid signature.>: the base64 signature the CSMS sends in TC_081 (by default the
    base64 of the text "Invalid firmware signature (OCTT TC_081)", which signs nothing)."""

    @property
    def limit(self) -> float:
        """The limit the document names: 6.0 (A) or 6000.0 (W)."""
        return 6000.0 if self.charging_rate_unit == "W" else 6.0


@dataclass
class RunOptions:
    """Options of one compliance run (the CLI and the Locust file both build one)."""

    url: str
    """CSMS URL; ``{cp_id}`` is replaced by the charge point id, else the id is appended."""
    cp_id: str = "VOCPP-OCTT-CP"
    security: SecurityConfig = field(default_factory=SecurityConfig)
    tags: Tags = field(default_factory=Tags)
    connectors: int = 1
    connector_id: int = 1
    """<Configured ConnectorId>."""
    vendor: str = "VolatileOCPP"
    """<Configured Vendor Name>."""
    model: str = "OCTT-Tool"
    """<Configured Model>."""
    unknown_vendor_id: str = "org.volatileocpp.unknown"
    """A DataTransfer vendorId the CSMS does not support (TC_064 and the probe)."""
    step_timeout: float = 5.0
    """Seconds to wait for each CSMS answer, and for each request the CSMS must send."""
    connect_timeout: float = 10.0
    connection_timeout: float = 1.0
    """The Tool's ConnectionTimeOut (TC_004_2, TC_011_2): seconds before Preparing falls back."""
    heartbeat_wait: float = 0.0
    """TC_001: seconds to wait before the Heartbeat (0 = send it at once)."""
    offline_time: float = 0.3
    """Seconds without connectivity in the offline cases (TC_037_x, TC_039)."""
    reboot_delay: float = 0.2
    """Seconds between dropping the connection and reconnecting on a reset or power loss."""
    max_frame_size: int = 4 << 20
    """The largest WebSocket message the Tool accepts from the CSMS (bytes): 4 MiB, room for a
    SendLocalList.req of the 10,000 entries the Tool's LocalAuthListMaxLength allows (about
    150 bytes each); a larger one fails the connection (close code 1009)."""
    probe_timeout: float = 2.0
    """Seconds to wait for the answer to each probe call (they go out one at a time)."""
    probe: bool = True
    assume_supported: frozenset[str] = frozenset()
    """Actions treated as supported whatever the probe says; ``"*"`` = all."""
    swap_order: bool = False
    """Send the message pairs §1.2 lets the Tool swap in the other order (StatusNotification(Charging)
    and StartTransaction; StatusNotification(Finishing) and StopTransaction)."""
    trigger_url: str | None = None
    trigger_cmd: str | None = None
    trigger_headers: tuple[str, ...] = field(default=(), repr=False)
    """Extra HTTP headers for --trigger-url (e.g. an API token); never printed."""
    interactive: bool = False
    """Prompt an operator at a terminal for CSMS-initiated steps when there is no driver."""
    prompt_timeout: float = 300.0
    only: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    case_timeout: float = 120.0
    """Watchdog per case: a case still running after this long is an ERROR of the harness."""
    profiles: frozenset[str] | None = None
    """Feature profiles the CSMS declares (``--profiles``); None: every profile the probe does not
    rule out."""
    require_all: bool = False
    """Any NOT APPLICABLE case makes the run fail (exit status 3)."""
    test_data: TestData = field(default_factory=TestData)

    @property
    def has_driver(self) -> bool:
        return bool(self.trigger_url or self.trigger_cmd)


def _matches(case_id: str, pattern: str) -> bool:
    pattern = pattern.strip().upper()
    cid = case_id.upper()
    short = cid[: -len("_CSMS")] if cid.endswith("_CSMS") else cid
    return fnmatch.fnmatchcase(cid, pattern) or fnmatch.fnmatchcase(short, pattern)


def selected(case_id: str, only: tuple[str, ...], exclude: tuple[str, ...]) -> bool:
    """``--only``/``--exclude`` globs (case-insensitive; ``TC_001`` matches ``TC_001_CSMS``)."""
    if only and not any(_matches(case_id, p) for p in only):
        return False
    return not any(_matches(case_id, p) for p in exclude)


def split_patterns(values: list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """Comma-separated and repeated option values, flattened."""
    out: list[str] = []
    for value in values or ():
        out.extend(part.strip() for part in value.split(",") if part.strip())
    return tuple(out)


def file_problem(path: str) -> str | None:
    """Why ``path`` cannot be read as a certificate/key file, or None when it can."""
    if not os.path.exists(path):
        return "no such file"
    if not os.path.isfile(path):
        return "not a regular file"
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    return None


def security_file_errors(
    ca_file: str | None, client_cert: str | None, client_key: str | None, prefix: str = "--"
) -> list[str]:
    """One line per unusable TLS file option (``--ca-file /x: no such file``); empty when all are fine.
    ``prefix`` starts the option names (``--octt-`` in the Locust file)."""
    errors = []
    for option, path in (("ca-file", ca_file), ("client-cert", client_cert), ("client-key", client_key)):
        if path and (problem := file_problem(path)) is not None:
            errors.append(f"{prefix}{option} {path}: {problem}")
    if client_key and not client_cert:
        errors.append(f"{prefix}client-key needs {prefix}client-cert")
    return errors


def redact_url(url: str) -> str:
    """The URL without user:password@ (secrets never printed)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit((parts.scheme, "***@" + host, parts.path, parts.query, parts.fragment))
