"""The fleet's configuration: its options, checked.

Option values stay plain strings, numbers and booleans in ``parsed_options`` (the web UI edits
them in place); :func:`fleet_config` turns them into a checked :class:`FleetConfig`, raising
:class:`OptionError` with one line that names the option. The options themselves are declared
in :mod:`ocpp_users.fleet.options`.
"""

from __future__ import annotations

import argparse
import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ocpp_users.fleet.ids import DEFAULT_TEMPLATE, check_template, read_credentials
from ocpp_users.ocppj.pacing import MODES
from ocpp_users.ocppj.redact import redact_url
from ocpp_users.ocppj.text import frame_size
from ocpp_users.ocppj.transport import DEFAULT_MAX_MESSAGE_SIZE, SecurityConfig
from ocpp_users.v16.settings import DEFAULT_HABITS, Behaviour, ChargePointSettings, Habits
from ocpp_users.v16.state.config import check_value

STOP_REASONS = ("Local", "EVDisconnected", "mixed")
PACING_MODES = MODES
"""``--pacing``: timed messages leave at their due time, those due together one event-loop turn apart
(``exact``) or back to back (``batch``), or on the event loop's millisecond tick (``tick``)."""
DEFAULT_ID_TAG = "VOCPP-VALID"
"""Accepted by the embedded testbed; a foreign CSMS must know it (or pass --id-tag)."""
DEFAULT_SESSION = "10-20"
DEFAULT_IDLE = "2-8"
EMBEDDED_METER_INTERVAL = 5
"""MeterValueSampleInterval the charge points start with against the embedded testbed, so that a
30 s run sees MeterValues (a configuration value, not an override: ChangeConfiguration still applies)."""
EMBEDDED_HEARTBEAT_INTERVAL = 10
"""Heartbeat interval the embedded testbed hands out in BootNotification.conf."""
MAX_ID_TAG = 20  # CiString20Type
DEFAULT_SIZE_TEXT = "1MiB"
"""--max-frame-size by default: :data:`~ocpp_users.ocppj.transport.DEFAULT_MAX_MESSAGE_SIZE`."""
FIRMWARE_SIGNATURE_CHECKS = ("location", "certificate")
ERROR_CODES = (
    "ConnectorLockFailure",
    "EVCommunicationError",
    "GroundFailure",
    "HighTemperature",
    "InternalError",
    "OtherError",
    "OverCurrentFailure",
    "OverVoltage",
    "PowerMeterFailure",
    "PowerSwitchFailure",
    "ReaderFailure",
    "ResetFailure",
    "UnderVoltage",
    "WeakSignal",
)
"""ChargePointErrorCode values a fault may carry (OCPP 1.6 §7.6; NoError and LocalListConflict are
no hardware fault)."""
DEFAULT_FAULT_CODES = "GroundFailure,HighTemperature,OverCurrentFailure,PowerMeterFailure"
DEFAULT_FAULT_DURATION = "30-120"
DEFAULT_DRIVER_RETURN = "60"
DEFAULT_BATTERY = "60"


class OptionError(ValueError):
    """A bad option value; ``str()`` is one line naming the option."""


# ---------------------------------------------------------------- value parsers


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def parse_range(value: Any, option: str) -> tuple[float, float]:
    """``MIN-MAX`` (or one number) in seconds."""
    text = _text(value)
    lo_text, sep, hi_text = text.partition("-")
    try:
        lo = float(lo_text)
        hi = float(hi_text) if sep else lo
    except ValueError:
        raise OptionError(f"{option}: expected MIN-MAX seconds (e.g. 10-20), not {text!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo < 0:
        raise OptionError(f"{option}: durations must be finite and not negative, not {text!r}")
    if lo > hi:
        raise OptionError(f"{option}: MIN must not exceed MAX in {text!r}")
    return lo, hi


def parse_number(value: Any, option: str, *, minimum: float = 0.0, strict: bool = True) -> float:
    text = _text(value)
    try:
        number = float(text)
    except ValueError:
        raise OptionError(f"{option}: expected a number, not {text!r}") from None
    if not math.isfinite(number) or number < minimum or (strict and number <= minimum):
        relation = "greater than" if strict else "at least"
        raise OptionError(f"{option}: must be {relation} {minimum:g}, not {text!r}")
    return number


def parse_optional_interval(value: Any, option: str) -> float | None:
    """An interval override; empty means "no override"."""
    if _text(value) == "":
        return None
    return parse_number(value, option)


def parse_int(value: Any, option: str, lo: int, hi: int) -> int:
    text = _text(value)
    try:
        number = int(text)
    except ValueError:
        raise OptionError(f"{option}: expected a whole number, not {text!r}") from None
    if not lo <= number <= hi:
        raise OptionError(f"{option}: must be between {lo} and {hi}, not {number}")
    return number


def parse_id_tags(value: Any, option: str = "--id-tag") -> tuple[str, ...]:
    """Comma-separated id tags, or ``@FILE`` with one tag per line (``#`` comments)."""
    text = _text(value)
    if text.startswith("@"):
        path = text[1:]
        try:
            raw = Path(path).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise OptionError(f"{option}: cannot read {path!r}: {exc.strerror or exc}") from None
        items = [line.split("#", 1)[0].strip() for line in raw]
    else:
        items = [item.strip() for item in text.split(",")]
    tags = tuple(item for item in items if item)
    if not tags:
        raise OptionError(f"{option}: no id tag given")
    for tag in tags:
        if len(tag) > MAX_ID_TAG:
            raise OptionError(f"{option}: id tag {tag!r} is longer than {MAX_ID_TAG} characters (CiString20)")
    return tags


def parse_size(value: Any, option: str) -> int:
    """A size in bytes: ``1048576``, ``1MiB``, ``512 KiB``, ``4M`` (K/M/G are powers of 1024)."""
    try:
        return frame_size(_text(value))
    except ValueError as exc:
        raise OptionError(f"{option}: {exc}") from None


def parse_configuration(value: Any, option: str = "--configuration") -> dict[str, str]:
    """``KEY=VALUE,KEY=VALUE`` (or ``;`` between pairs): configuration keys every charge point starts
    with, checked against the keys it reports (read-only ones included: a charger's factory
    settings). A measurand list keeps its commas: in ``MeterValuesAlignedData=Energy.Active.Import.Register,SoC``
    the item without ``=`` belongs to the value before it."""
    text = _text(value)
    if not text:
        return {}
    pairs: list[list[str]] = []
    for chunk in text.split(";"):
        for item in chunk.split(","):
            name, sep, setting = item.partition("=")
            if sep:
                pairs.append([name.strip(), setting.strip()])
            elif not item.strip():
                continue
            elif pairs and chunk.count("=") >= 1:
                pairs[-1][1] += "," + item.strip()
            else:
                raise OptionError(f"{option}: expected KEY=VALUE, not {item.strip()!r}")
    result: dict[str, str] = {}
    for name, setting in pairs:
        try:
            key, stored = check_value(name, setting)
        except ValueError as exc:
            raise OptionError(f"{option}: {exc}") from None
        result[key] = stored
    return result


def parse_error_codes(value: Any, option: str = "--fault-codes") -> tuple[str, ...]:
    """Comma-separated ChargePointErrorCode values (at least one)."""
    codes = tuple(item.strip() for item in _text(value).split(",") if item.strip())
    if not codes:
        raise OptionError(f"{option}: no error code given")
    for code in codes:
        if code not in ERROR_CODES:
            raise OptionError(
                f"{option}: {code!r} is not a ChargePointErrorCode fault (one of {', '.join(ERROR_CODES)})"
            )
    return codes


def existing_file(value: Any, option: str) -> str | None:
    text = _text(value)
    if not text:
        return None
    if not os.path.isfile(text):
        raise OptionError(f"{option}: no such file: {text!r}")
    return text


def certificate_files(directory: str, cp_id: str) -> tuple[str | None, str | None]:
    """(``<dir>/<id>.pem``, ``<dir>/<id>.key``), each None when it is not there (the key may be
    in the .pem)."""
    cert = os.path.join(directory, f"{cp_id}.pem")
    key = os.path.join(directory, f"{cp_id}.key")
    return (cert if os.path.isfile(cert) else None), (key if os.path.isfile(key) else None)


def existing_dir(value: Any, option: str) -> str | None:
    text = _text(value)
    if not text:
        return None
    if not os.path.isdir(text):
        raise OptionError(f"{option}: no such directory: {text!r}")
    return text


def check_host(host: str) -> str:
    """A ws:// or wss:// CSMS URL."""
    parts = urlsplit(host)
    if parts.scheme not in ("ws", "wss") or not parts.netloc:
        raise OptionError(f"--host: expected a ws:// or wss:// CSMS URL, not {redact_url(host)!r}")
    return host


# ---------------------------------------------------------------- the checked configuration


@dataclass(frozen=True)
class FleetConfig:
    """The fleet's options, checked."""

    id_tags: tuple[str, ...] = (DEFAULT_ID_TAG,)
    id_tag_given: bool = False
    connectors: int = 1
    cp_id_template: str = DEFAULT_TEMPLATE
    cp_ids: tuple[str, ...] | None = None
    security: SecurityConfig = field(default_factory=SecurityConfig)
    heartbeat_interval: float | None = None
    """Override of the CSMS's interval; None: the BootNotification/ChangeConfiguration value."""
    meter_interval: float | None = None
    """Override of MeterValueSampleInterval; None: the configuration key (60 s unless changed)."""
    configuration: dict[str, str] = field(default_factory=dict)
    """Initial configuration key values of every charge point."""
    session_duration: tuple[float, float] = (10.0, 20.0)
    idle_duration: tuple[float, float] = (2.0, 8.0)
    time_factor: float = 1.0
    validate: bool = True
    call_timeout: float = 30.0
    connect_timeout: float = 10.0
    backoff_max: float = 30.0
    max_frame_size: int = DEFAULT_MAX_MESSAGE_SIZE
    """The largest inbound WebSocket message a charge point accepts (bytes)."""
    stop_reason: str = "Local"
    pacing: str = "exact"
    """``exact``: timed messages leave at their due time (``ocpp_users.ocppj.pacing``), those due
    together one event-loop turn apart; ``batch``: at their due time, those due together back to back;
    ``tick``: on the event loop's millisecond tick."""
    vendor: str = "VolatileOCPP"
    model: str = "VirtualCP"
    firmware_version: str | None = None
    embedded: bool = False
    passwords: dict[str, str] = field(default_factory=dict, repr=False)
    """Per charge point Basic auth passwords (``--cp-ids-file`` lines ``id,password``); on a worker
    filled as the master lends ids (:class:`~ocpp_users.fleet.ids.LeasedIdPool`)."""
    client_cert_dir: str | None = None
    """A client certificate and key per charge point: ``<dir>/<id>.pem`` and ``<dir>/<id>.key``."""
    tls_url: str | None = None
    security_events: bool = False
    cpo_name: str | None = None
    signed_firmware_check: str = "location"
    manufacturer_roots: str | None = None
    habits: Habits = DEFAULT_HABITS
    """How the charge points, their EVs and drivers behave on their own (one object for the fleet)."""

    def security_for(self, cp_id: str) -> SecurityConfig:
        """The charge point's own credentials: its password from the ids file, its certificate from
        ``--client-cert-dir`` (else the fleet's); raise :class:`OptionError` (no secret in it)."""
        security = self.security
        password = self.passwords.get(cp_id)
        if password is not None:
            security = replace(security, password=password)
        if self.client_cert_dir:
            cert, key = certificate_files(self.client_cert_dir, cp_id)
            if cert is not None:
                security = replace(security, client_cert=cert, client_key=key)
            elif not security.client_cert:
                raise OptionError(f"--client-cert-dir: no {cp_id}.pem in {self.client_cert_dir}")
        if security.profile in (1, 2) and not security.password:
            raise OptionError(f"--cp-ids-file: no password for charge point {cp_id} (and no --basic-auth-password)")
        return security

    def settings_for(self, cp_id: str, url: str) -> ChargePointSettings:
        configuration = dict(self.configuration)
        if self.cpo_name:
            configuration["CpoName"] = self.cpo_name
        settings = ChargePointSettings(
            cp_id=cp_id,
            url=url,
            security=self.security_for(cp_id),
            connectors=self.connectors,
            vendor=self.vendor,
            model=self.model,
            call_timeout=self.call_timeout,
            connect_timeout=self.connect_timeout,
            validate=self.validate,
            heartbeat_override=self.heartbeat_interval,
            meter_interval_override=self.meter_interval,
            configuration=configuration,
            time_factor=self.time_factor,
            backoff_max=self.backoff_max,
            backoff_initial=min(1.0, self.backoff_max),
            max_frame_size=self.max_frame_size,
            security_events=self.security_events,
            tls_url=self.tls_url,
            behaviour=Behaviour(signed_firmware_check=self.signed_firmware_check),
            manufacturer_roots=self.manufacturer_roots,
            habits=self.habits,
        )
        if self.firmware_version:
            settings.firmware_version = self.firmware_version
        return settings

    def describe(self) -> str:
        """One line for the log; never includes the password."""
        hb = f"{self.heartbeat_interval:g} s" if self.heartbeat_interval else "from the CSMS"
        sample = self.configuration.get("MeterValueSampleInterval", "60")
        meter = f"{self.meter_interval:g} s" if self.meter_interval else f"MeterValueSampleInterval ({sample} s)"
        ids = f"{len(self.cp_ids)} ids from file" if self.cp_ids else self.cp_id_template
        if self.passwords:
            ids += f" ({len(self.passwords)} with a password of their own)"
        if self.client_cert_dir:
            ids += f", client certificates from {self.client_cert_dir}"
        text = (
            f"{self.connectors} connector(s) per charge point, ids {ids}, security profile {self.security.profile}, "
            f"heartbeat {hb}, meter values {meter}, idle {self.idle_duration[0]:g}-{self.idle_duration[1]:g} s, "
            f"sessions {self.session_duration[0]:g}-{self.session_duration[1]:g} s, time factor {self.time_factor:g}, "
            f"pacing {self.pacing}"
        )
        habits = self.habits
        if habits.offline_replay_rate:
            text += f", offline replay {habits.offline_replay_rate:g}/s per charge point"
        if habits.fault_rate_per_hour:
            text += f", {habits.fault_rate_per_hour:g} fault(s) per charge point-hour"
        return text


def _get(options: argparse.Namespace | None, name: str, default: Any = None) -> Any:
    value = getattr(options, name, default) if options is not None else default
    return default if value is None else value


def fleet_config(
    options: argparse.Namespace | None, host: str | None, *, embedded: bool = False, read_ids: bool = True
) -> FleetConfig:
    """Check the parsed options (a Namespace, or None for all defaults) against ``host``.

    ``read_ids=False`` leaves ``--cp-ids-file`` unread (a worker: the master lends it the ids)."""
    given_tags = _text(_get(options, "id_tag", ""))
    id_tags = parse_id_tags(given_tags) if given_tags else (DEFAULT_ID_TAG,)
    template = _text(_get(options, "cp_id_template", DEFAULT_TEMPLATE)) or DEFAULT_TEMPLATE
    try:
        check_template(template)
    except ValueError as exc:
        raise OptionError(f"--cp-id-template: {exc}") from None
    ids_file = _text(_get(options, "cp_ids_file", ""))
    try:
        credentials = read_credentials(ids_file) if ids_file and read_ids else None
    except ValueError as exc:
        raise OptionError(f"--cp-ids-file: {exc}") from None
    cp_ids = credentials.ids if credentials is not None else None
    passwords = dict(credentials.passwords) if credentials is not None else {}
    cert_dir = existing_dir(_get(options, "client_cert_dir"), "--client-cert-dir")

    profile = parse_int(_get(options, "security_profile", 0), "--security-profile", 0, 3)
    password = _text(_get(options, "basic_auth_password", "")) or None
    security = SecurityConfig(
        profile=profile,
        password=password,
        ca_file=existing_file(_get(options, "ca_file"), "--ca-file"),
        client_cert=existing_file(_get(options, "client_cert"), "--client-cert"),
        client_key=existing_file(_get(options, "client_key"), "--client-key"),
        verify=not bool(_get(options, "insecure", False)),
    )
    if host:
        check_host(host)
        # Per-station credentials stand in for the fleet's: passwords of the ids file (lent by the
        # master to a worker), certificates of --client-cert-dir.
        probe = replace(
            security,
            password=security.password or ("(per station)" if passwords or (ids_file and not read_ids) else None),
            client_cert=security.client_cert or ("(per station)" if cert_dir else None),
        )
        try:
            probe.check(host)
        except ValueError as exc:
            hint = " (--basic-auth-password or passwords in --cp-ids-file)" if "password" in str(exc) else ""
            hint = " (--client-cert or --client-cert-dir)" if "certificate" in str(exc) else hint
            raise OptionError(f"--security-profile: {exc}{hint}") from None
        if security.profile in (1, 2) and not security.password and cp_ids is not None:
            missing = [cp_id for cp_id in cp_ids if cp_id not in passwords]
            if missing:
                raise OptionError(
                    f"--cp-ids-file: {len(missing)} charge point(s) without a password (first: {missing[0]}) "
                    "and no --basic-auth-password"
                )
    if security.client_key and not security.client_cert:
        raise OptionError("--client-key: needs --client-cert")
    if cert_dir and cp_ids is not None and not security.client_cert:
        missing = [cp_id for cp_id in cp_ids if certificate_files(cert_dir, cp_id)[0] is None]
        if missing:
            raise OptionError(
                f"--client-cert-dir: {len(missing)} charge point(s) without a certificate (first: {missing[0]}.pem)"
            )
    tls_url = _text(_get(options, "tls_url", "")) or None
    if tls_url is not None and urlsplit(tls_url).scheme != "wss":
        raise OptionError(f"--tls-url: expected a wss:// URL, not {redact_url(tls_url)!r}")
    firmware_check = _text(_get(options, "firmware_signature", "location")) or "location"
    if firmware_check not in FIRMWARE_SIGNATURE_CHECKS:
        raise OptionError(f"--firmware-signature: must be one of {', '.join(FIRMWARE_SIGNATURE_CHECKS)}")
    cpo_name = _text(_get(options, "cpo_name", "")) or None
    if cpo_name is not None and len(cpo_name) > 64:
        raise OptionError("--cpo-name: at most 64 characters (the certificate's organizationName)")

    heartbeat = parse_optional_interval(_get(options, "heartbeat_interval"), "--heartbeat-interval")
    meter = parse_optional_interval(_get(options, "meter_interval"), "--meter-interval")
    configuration = {"MeterValueSampleInterval": str(EMBEDDED_METER_INTERVAL)} if meter is None and embedded else {}
    configuration.update(parse_configuration(_get(options, "configuration", "")))
    stop_reason = _text(_get(options, "stop_reason", "Local")) or "Local"
    if stop_reason not in STOP_REASONS:
        raise OptionError(f"--stop-reason: must be one of {', '.join(STOP_REASONS)}, not {stop_reason!r}")
    pacing = _text(_get(options, "pacing", "exact")) or "exact"
    if pacing not in PACING_MODES:
        raise OptionError(f"--pacing: must be one of {', '.join(PACING_MODES)}, not {pacing!r}")
    vendor = _text(_get(options, "vendor", "VolatileOCPP")) or "VolatileOCPP"
    model = _text(_get(options, "model", "VirtualCP")) or "VirtualCP"
    if len(vendor) > 20:
        raise OptionError(f"--vendor: at most 20 characters (CiString20), not {len(vendor)}")
    if len(model) > 20:
        raise OptionError(f"--model: at most 20 characters (CiString20), not {len(model)}")
    firmware = _text(_get(options, "firmware_version", "")) or None
    if firmware is not None and len(firmware) > 50:
        raise OptionError("--firmware-version: at most 50 characters (CiString50)")
    return FleetConfig(
        id_tags=id_tags,
        id_tag_given=bool(given_tags),
        connectors=parse_int(_get(options, "connectors", 1), "--connectors", 1, 100),
        cp_id_template=template,
        cp_ids=cp_ids,
        security=security,
        heartbeat_interval=heartbeat,
        meter_interval=meter,
        configuration=configuration,
        session_duration=parse_range(_get(options, "session_duration", DEFAULT_SESSION), "--session-duration"),
        idle_duration=parse_range(_get(options, "idle_duration", DEFAULT_IDLE), "--idle-duration"),
        time_factor=parse_number(_get(options, "time_factor", 1.0), "--time-factor"),
        validate=not bool(_get(options, "no_validation", False)),
        call_timeout=parse_number(_get(options, "call_timeout", 30.0), "--call-timeout"),
        connect_timeout=parse_number(_get(options, "connect_timeout", 10.0), "--connect-timeout"),
        backoff_max=parse_number(_get(options, "backoff_max", 30.0), "--backoff-max"),
        max_frame_size=parse_size(_get(options, "max_frame_size", DEFAULT_SIZE_TEXT), "--max-frame-size"),
        stop_reason=stop_reason,
        pacing=pacing,
        vendor=vendor,
        model=model,
        firmware_version=firmware,
        embedded=embedded,
        passwords=passwords,
        client_cert_dir=cert_dir,
        tls_url=tls_url,
        security_events=bool(_get(options, "security_events", False)),
        cpo_name=cpo_name,
        signed_firmware_check=firmware_check,
        manufacturer_roots=existing_file(_get(options, "manufacturer_root"), "--manufacturer-root"),
        habits=Habits(
            offline_replay_rate=parse_number(
                _get(options, "offline_replay_rate", 0.0), "--offline-replay-rate", strict=False
            ),
            offline_queue_max=parse_int(_get(options, "offline_queue_max", 1000), "--offline-queue-max", 0, 10_000_000),
            plug_in_delay=parse_range(_get(options, "plug_in_delay", "0"), "--plug-in-delay"),
            driver_return=parse_range(_get(options, "driver_return", DEFAULT_DRIVER_RETURN), "--driver-return"),
            battery_wh=_kwh(parse_range(_get(options, "ev_battery", DEFAULT_BATTERY), "--ev-battery")),
            fault_rate_per_hour=parse_number(_get(options, "fault_rate", 0.0), "--fault-rate", strict=False),
            fault_duration=parse_range(_get(options, "fault_duration", DEFAULT_FAULT_DURATION), "--fault-duration"),
            fault_codes=parse_error_codes(_get(options, "fault_codes", DEFAULT_FAULT_CODES)),
        ),
    )


def _kwh(bounds: tuple[float, float]) -> tuple[float, float]:
    if bounds[0] <= 0:
        raise OptionError("--ev-battery: a battery holds more than 0 kWh")
    return bounds[0] * 1000.0, bounds[1] * 1000.0
