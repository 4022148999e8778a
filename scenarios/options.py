"""Everything a compliance run needs to know, independent of the command line or Locust."""

from __future__ import annotations

import fnmatch
import os
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from ocpp_users.ocppj.transport import SecurityConfig


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
        }.get(name)


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
