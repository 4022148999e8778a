"""The idTag authorisation store (IdTagInfo for Authorize/StartTransaction/StopTransaction)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from testbed.validation import is_date_time

STATUSES = ("Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx")
PAST_EXPIRY = "2000-01-01T00:00:00Z"
MAX_ID_TAG_LEN = 20


@dataclass(frozen=True)
class TagEntry:
    tag: str
    status: str
    expiry_date: str | None = None
    parent_id_tag: str | None = None


DEFAULT_TAGS: tuple[TagEntry, ...] = (
    TagEntry("VOCPP-VALID", "Accepted"),
    TagEntry("VOCPP-VALID-2", "Accepted"),
    TagEntry("VOCPP-VALID-3", "Accepted"),
    TagEntry("VOCPP-BLOCKED", "Blocked"),
    TagEntry("VOCPP-EXPIRED", "Expired", expiry_date=PAST_EXPIRY),
    TagEntry("VOCPP-INVALID", "Invalid"),
    TagEntry("VOCPP-CONCURRENT", "ConcurrentTx"),
    TagEntry("VOCPP-GROUP", "Accepted", parent_id_tag="VOCPP-PARENT"),
)


def canonical_status(text: str) -> str:
    """Case-insensitive AuthorizationStatus lookup; raises ValueError for anything else."""
    for status in STATUSES:
        if status.lower() == text.strip().lower():
            return status
    raise ValueError(f"unknown authorization status {text!r} (expected one of {', '.join(STATUSES)})")


def make_entry(tag: str, status: str, expiry_date: str | None = None, parent_id_tag: str | None = None) -> TagEntry:
    """Validated TagEntry; Expired tags get an expiryDate in the past unless one is given."""
    tag = tag.strip()
    if not tag:
        raise ValueError("empty idTag")
    if len(tag) > MAX_ID_TAG_LEN:
        raise ValueError(f"idTag {tag!r} is longer than {MAX_ID_TAG_LEN} characters")
    status = canonical_status(status)
    if parent_id_tag is not None and not 0 < len(parent_id_tag) <= MAX_ID_TAG_LEN:
        raise ValueError(f"parentIdTag must be 1..{MAX_ID_TAG_LEN} characters")
    if expiry_date is not None and not is_date_time(expiry_date):
        raise ValueError(f"expiryDate {expiry_date!r} is not an RFC 3339 date-time")
    if status == "Expired" and expiry_date is None:
        expiry_date = PAST_EXPIRY
    return TagEntry(tag, status, expiry_date, parent_id_tag)


def parse_assignment(text: str) -> TagEntry:
    """``TAG=STATUS`` as given to ``--tag``."""
    tag, sep, status = text.partition("=")
    if not sep:
        raise ValueError(f"expected TAG=STATUS, got {text!r}")
    return make_entry(tag, status)


def load_file(path: str) -> list[TagEntry]:
    """Lines ``TAG STATUS``; blank lines and ``#`` comments are ignored."""
    entries = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        parts = text.split()
        if len(parts) != 2:
            raise ValueError(f"{path}:{number}: expected 'TAG STATUS', got {line.strip()!r}")
        try:
            entries.append(make_entry(parts[0], parts[1]))
        except ValueError as exc:
            raise ValueError(f"{path}:{number}: {exc}") from None
    return entries


class TagStore:
    """idTags are CiString20 (case-insensitive), so lookups ignore case."""

    def __init__(self, entries: list[TagEntry], accept_prefix: str) -> None:
        self._initial = list(entries)
        self._initial_prefix = accept_prefix
        self._entries: dict[str, TagEntry] = {}
        self.accept_prefix = accept_prefix
        self.reset()

    def reset(self) -> None:
        self._entries = {e.tag.casefold(): e for e in self._initial}
        self.accept_prefix = self._initial_prefix

    def put(self, entry: TagEntry) -> None:
        self._entries[entry.tag.casefold()] = entry

    def remove(self, tag: str) -> bool:
        return self._entries.pop(tag.casefold(), None) is not None

    def lookup(self, tag: str) -> TagEntry:
        entry = self._entries.get(tag.casefold())
        if entry is not None:
            return entry
        if self.accept_prefix and tag.casefold().startswith(self.accept_prefix.casefold()):
            return TagEntry(tag, "Accepted")
        return TagEntry(tag, "Invalid")

    def statuses(self) -> dict[str, str]:
        return {e.tag: e.status for e in self._entries.values()}
