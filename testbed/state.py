"""In-memory state of the CSMS: configuration, charge points, message log, transactions."""

from __future__ import annotations

import copy
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

from testbed.ca import CertificateAuthority
from testbed.passwords import Passwords
from testbed.tags import TagStore

BOOT_STATUSES = ("Accepted", "Pending", "Rejected")
MAX_INTERVAL = 2**31 - 1


@dataclass
class Config:
    heartbeat_interval: int = 60
    boot_status: str = "Accepted"
    boot_retry_interval: int = 10
    close_replaced: bool = True
    """Close a charge point's older connection when it opens a new one (many CSMSs leave it open:
    false, so a charge point that leaks connections shows it in GET /connections)."""
    auto_sign: bool = True
    """With a CA (``--ca-cert``): answer a valid SignCertificate.req Accepted and send the signed
    certificate in a CertificateSigned.req at once."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def check_interval(name: str, value: object) -> int:
    if type(value) is not int or not 0 <= value <= MAX_INTERVAL:
        raise ValueError(f"{name} must be an integer between 0 and {MAX_INTERVAL}")
    return value


def canonical_boot_status(value: object) -> str:
    for status in BOOT_STATUSES:
        if isinstance(value, str) and status.lower() == value.strip().lower():
            return status
    raise ValueError(f"boot_status must be one of {', '.join(BOOT_STATUSES)}")


@dataclass
class Message:
    ts: float
    direction: str
    type: int | None
    id: str | None
    action: str | None
    payload: Any
    raw: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CpRecord:
    cp_id: str
    max_messages: int
    connected: bool = False
    connections: int = 0
    booted: bool = False
    counts: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, str] = field(default_factory=dict)
    last_boot: dict[str, Any] | None = None
    basic_auth_user: str | None = None
    subprotocol: str | None = None
    closes: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=20))
    """How its last connections ended: the close code the charge point sent (None: it dropped TCP
    without a close frame), its reason, and whether the CSMS had started the close."""
    bomb_bytes: int = 0
    """Bytes of length-bomb filler the charge point took before closing (fault length_bomb)."""
    security_profile: int | None = None
    """The security profile of the current (or last) connection: 0 ws, 1 ws + Basic auth,
    2 wss + Basic auth, 3 wss + client certificate."""
    highest_profile: int = 0
    """The highest security profile the charge point connected with."""
    upgraded_profile: int | None = None
    """The security profile this CSMS ordered with a ChangeConfiguration(SecurityProfile) the charge
    point Accepted (whitepaper A05): once it connected with it, never again with a lower one (A05.FR.09)."""
    client_certificate: dict[str, Any] | None = None
    """Serial, SHA-256 fingerprint and CN of the client certificate of the current connection."""
    security_events: list[dict[str, Any]] = field(default_factory=list)
    """SecurityEventNotification.req payloads received, in order."""
    signed_firmware_statuses: list[dict[str, Any]] = field(default_factory=list)
    log_statuses: list[dict[str, Any]] = field(default_factory=list)
    csr: str | None = None
    """The last CSR of a SignCertificate.req."""
    certificates_signed: list[dict[str, Any]] = field(default_factory=list)
    """What the CA sent back (the chain, how it was made) and the CertificateSigned.conf status."""
    pings: deque[float] = field(default_factory=lambda: deque(maxlen=200))
    """When each WebSocket ping from the charge point arrived (time.time()), the last 200."""
    connected_at: deque[float] = field(default_factory=lambda: deque(maxlen=200))
    """When each of its connections was opened (time.time()), the last 200."""
    messages: deque[Message] = field(init=False)

    def __post_init__(self) -> None:
        self.messages = deque(maxlen=self.max_messages)

    def to_json(self) -> dict[str, Any]:
        return {
            "connected": self.connected,
            "connections": self.connections,
            "booted": self.booted,
            "counts": dict(self.counts),
            "statuses": dict(self.statuses),
            "last_boot": copy.deepcopy(self.last_boot),
            "basic_auth_user": self.basic_auth_user,
            "subprotocol": self.subprotocol,
            "closes": list(self.closes),
            "bomb_bytes": self.bomb_bytes,
            "security_profile": self.security_profile,
            "highest_profile": self.highest_profile,
            "upgraded_profile": self.upgraded_profile,
            "client_certificate": copy.deepcopy(self.client_certificate),
            "security_events": copy.deepcopy(self.security_events),
            "signed_firmware_statuses": copy.deepcopy(self.signed_firmware_statuses),
            "log_statuses": copy.deepcopy(self.log_statuses),
            "csr": self.csr,
            "certificates_signed": copy.deepcopy(self.certificates_signed),
            "pings": list(self.pings),
            "connected_at": list(self.connected_at),
        }

    def forget_security(self) -> None:
        self.highest_profile = 0
        self.upgraded_profile = None
        self.security_events.clear()
        self.signed_firmware_statuses.clear()
        self.log_statuses.clear()
        self.csr = None
        self.certificates_signed.clear()


@dataclass
class Transaction:
    id: int
    cp_id: str
    connector_id: int
    id_tag: str
    meter_start: int
    start: str
    meter_stop: int | None = None
    stop: str | None = None
    reason: str | None = None
    active: bool = True

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Store:
    """Everything the control API can see.  Only touched from the event loop thread."""

    def __init__(
        self,
        config: Config,
        tags: TagStore,
        max_messages: int,
        passwords: Passwords | None = None,
        ca: CertificateAuthority | None = None,
    ) -> None:
        self.passwords = passwords or Passwords()
        self.ca = ca
        self._initial_config = copy.copy(config)
        self.config = config
        self.tags = tags
        self.max_messages = max_messages
        self.cps: dict[str, CpRecord] = {}
        self.transactions: dict[int, Transaction] = {}
        self._next_tx_id = 1

    def cp(self, cp_id: str) -> CpRecord:
        record = self.cps.get(cp_id)
        if record is None:
            record = self.cps[cp_id] = CpRecord(cp_id, self.max_messages)
        return record

    def patch_config(self, changes: dict[str, Any]) -> None:
        """Apply a PATCH /config body atomically; raises ValueError on bad input."""
        new = copy.copy(self.config)
        prefix = self.tags.accept_prefix
        for key, value in changes.items():
            if key in ("heartbeat_interval", "boot_retry_interval"):
                setattr(new, key, check_interval(key, value))
            elif key == "boot_status":
                new.boot_status = canonical_boot_status(value)
            elif key == "close_replaced":
                if not isinstance(value, bool):
                    raise ValueError("close_replaced must be true or false")
                new.close_replaced = value
            elif key == "auto_sign":
                if not isinstance(value, bool):
                    raise ValueError("auto_sign must be true or false")
                new.auto_sign = value
            elif key == "accept_prefix":
                if not isinstance(value, str):
                    raise ValueError("accept_prefix must be a string")
                prefix = value
            else:
                raise ValueError(f"unknown config key {key!r}")
        self.config = new
        self.tags.accept_prefix = prefix

    def config_json(self) -> dict[str, Any]:
        return {**self.config.to_json(), "accept_prefix": self.tags.accept_prefix}

    def start_transaction(self, cp_id: str, connector_id: int, id_tag: str, meter_start: int, timestamp: str) -> int:
        tx_id = self._next_tx_id
        self._next_tx_id += 1
        self.transactions[tx_id] = Transaction(tx_id, cp_id, connector_id, id_tag, meter_start, timestamp)
        return tx_id

    def stop_transaction(self, tx_id: int, meter_stop: int, timestamp: str, reason: str | None) -> bool:
        tx = self.transactions.get(tx_id)
        if tx is None:
            return False
        tx.meter_stop = meter_stop
        tx.stop = timestamp
        tx.reason = reason
        tx.active = False
        return True

    def reset(self) -> None:
        """POST /reset: clear logs, transactions; restore config and tags.  Connections stay.

        Transaction ids keep counting up so ids never repeat within one process.
        """
        for record in self.cps.values():
            record.messages.clear()
            record.pings.clear()
            record.forget_security()
        self.passwords.reset()
        self.transactions.clear()
        self.config = copy.copy(self._initial_config)
        self.tags.reset()
