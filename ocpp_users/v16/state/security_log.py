"""The charger's security log: every security event, critical or not (whitepaper A04.FR.04,
N01.FR.05), in a rolling format as A04.FR.04 recommends. GetLog(SecurityLog) uploads it.

The log never holds a secret: A01.FR.12 forbids disclosing the AuthorizationKey "in its logging",
so an event says *that* the key changed, never to what.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

MAX_ENTRIES = 500
"""Entries kept per charger; older ones roll off."""


@dataclass(frozen=True, slots=True)
class SecurityLogEntry:
    timestamp: str
    """RFC 3339, UTC: when the event happened."""
    type: str
    tech_info: str | None = None


def parse_timestamp(text: str) -> datetime | None:
    """An RFC 3339 timestamp as an aware datetime (None when unreadable)."""
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


class SecurityLog:
    """A rolling list of security events."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self.entries: list[SecurityLogEntry] = []
        """Oldest first (a list, not a deque: most chargers log one event, at start-up)."""

    def add(self, entry: SecurityLogEntry) -> None:
        entries = self.entries
        entries.append(entry)
        if len(entries) > self.max_entries + self.max_entries // 10:
            del entries[: len(entries) - self.max_entries]

    def __len__(self) -> int:
        return len(self.entries)

    def between(self, oldest: str | None = None, latest: str | None = None) -> list[SecurityLogEntry]:
        """The entries from ``oldest`` to ``latest`` (GetLog's LogParametersType), timestamps compared
        as instants."""
        low = parse_timestamp(oldest) if oldest else None
        high = parse_timestamp(latest) if latest else None
        chosen: list[SecurityLogEntry] = []
        for entry in self.entries:
            when = parse_timestamp(entry.timestamp)
            if when is None or (low is not None and when < low) or (high is not None and when > high):
                continue
            chosen.append(entry)
        return chosen

    def render(self, entries: list[SecurityLogEntry]) -> str:
        """The log file's text: one line per event."""
        return "".join(f"{e.timestamp} {e.type}{' ' + e.tech_info if e.tech_info else ''}\n" for e in entries)
