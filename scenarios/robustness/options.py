"""Everything a robustness run needs to know, independent of the command line."""

from __future__ import annotations

from dataclasses import dataclass, field

from ocpp_users.ocppj.transport import SecurityConfig

#: The groups of the catalogue, in run order.
GROUPS = ("frame", "payload", "action", "semantics", "session", "size", "abuse")
#: Groups that run only when asked for (``--include size,abuse``): large frames and load.
OPT_IN = ("size", "abuse")
DEFAULT_GROUPS = tuple(g for g in GROUPS if g not in OPT_IN)


@dataclass
class Bounds:
    """What the control fleet must keep while a case runs, else the case is DEGRADED."""

    max_p95_ms: float = 1000.0
    max_failure_ratio: float = 0.0


@dataclass
class RobustOptions:
    url: str = ""
    cp_id: str = "VOCPP-ROBUST-CP"
    security: SecurityConfig = field(default_factory=SecurityConfig)
    connectors: int = 1
    """How many connectors the hostile charge point claims (the one past the last is connectors + 1)."""
    id_tag: str = "VOCPP-VALID"
    """The idTag of the transactions the semantics cases start (need not be Accepted)."""
    fresh_cp_id: str | None = None
    """A charge point id that has never booted, for the calls before BootNotification (default: a random one)."""
    pending_cp_id: str | None = None
    """A charge point id the CSMS answers Pending (the call-while-Pending case needs one)."""
    unknown_transaction_id: int = 2_000_000_001
    groups: tuple[str, ...] = DEFAULT_GROUPS
    only: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    answer_timeout: float = 5.0
    """How long to wait for an answer to a hostile input (and for each liveness answer)."""
    quick: float = 0.25
    """After this long without an answer, send the sentinel Heartbeat."""
    grace: float = 0.1
    """After the sentinel's answer, wait this long for a late answer to the input."""
    connect_timeout: float = 10.0
    case_timeout: float = 120.0
    probe_attempts: int = 2
    """Attempts of the new-connection liveness probe (0.5 s apart) before a case is CRASHED."""
    fleet_size: int = 3
    fleet_interval: float = 0.5
    """Seconds between the control fleet's Heartbeats (per charge point)."""
    fleet_warmup: float = 1.0
    fleet_cp_id_template: str = "VOCPP-ROBUST-CTRL-{n}"
    bounds: Bounds = field(default_factory=Bounds)
    flood_count: int = 500
    slow_seconds: float = 3.0
    idle_sockets: int = 100
    idle_seconds: float = 2.0
    size_timeout: float = 60.0
    """Seconds to send one of the size group's large frames."""

    @property
    def has_password(self) -> bool:
        """The CSMS is tested with HTTP Basic auth (security profile 1 or 2 with a password)."""
        return self.security.profile in (1, 2) and bool(self.security.password)
