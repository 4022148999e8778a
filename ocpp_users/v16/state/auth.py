"""Authorization cache and local authorization list (OCPP 1.6 §3.5), and what they say about an idTag.

Both are looked up case-insensitively: an idTag is a CiString20 (errata 3.73). An entry whose
``expiryDate`` has passed counts as Expired: §3.5.1 "When the validity of a Cache entry expires,
it SHALL be changed to expired in the Cache"; §3.5.4 "Identifiers that were valid but are
apparently expired due to passage of time MUST also be rejected".
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

CACHE_SIZE = 250
"""Entries the authorization cache holds (1.6 names no key for it); a full cache makes room as
§3.5.1 says: NOT-valid entries first, then the oldest valid ones."""


def _expired(info: dict[str, Any], now: datetime) -> bool:
    expiry = info.get("expiryDate")
    if not isinstance(expiry, str):
        return False
    try:
        when = datetime.fromisoformat(expiry.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when <= now


def effective_status(info: dict[str, Any] | None, now: datetime | None = None) -> str | None:
    """The status an entry stands for now: its ``status``, or Expired once its expiryDate passed.
    ConcurrentTx stands for Accepted: §3.5.2, identifiers "can be marked as valid, expired, (temporarily)
    blocked, or blacklisted, corresponding to IdTagInfo status values Accepted/ConcurrentTx, Expired,
    Blocked, and Invalid"."""
    if info is None:
        return None
    status = info.get("status")
    if status in ("Accepted", "ConcurrentTx"):
        return "Expired" if _expired(info, now or datetime.now(UTC)) else "Accepted"
    return status if isinstance(status, str) else None


class AuthorizationCache:
    """From the specification: "a Charge Point MAY implement an Authorization Cache that
    autonomously maintains a record of previously presented identifiers" (valid and NOT-valid),
    updated from every IdTagInfo received (Authorize, StartTransaction, StopTransaction)."""

    __slots__ = ("entries", "max_entries")

    def __init__(self, max_entries: int = CACHE_SIZE) -> None:
        self.entries: dict[str, dict[str, Any]] = {}
        """idTag (case-folded) -> IdTagInfo, oldest first."""
        self.max_entries = max_entries

    def update(self, id_tag: str, id_tag_info: dict[str, Any]) -> None:
        """§3.5.1: "When an IdTagInfo is received for an identifier in the Cache, it SHALL be updated";
        a new one goes in, room made by dropping NOT-valid entries, then the oldest valid ones."""
        key = id_tag.casefold()
        entries = self.entries
        entries.pop(key, None)  # re-inserted last: the newest
        if len(entries) >= self.max_entries:
            now = datetime.now(UTC)
            for old in [k for k, v in entries.items() if effective_status(v, now) != "Accepted"]:
                del entries[old]
            while len(entries) >= self.max_entries:
                del entries[next(iter(entries))]
        entries[key] = dict(id_tag_info)

    def lookup(self, id_tag: str) -> dict[str, Any] | None:
        """The cached IdTagInfo; an Accepted one whose expiryDate has passed is changed to Expired
        in the cache (§3.5.1)."""
        info = self.entries.get(id_tag.casefold())
        if info is not None and effective_status(info) == "Expired" and info.get("status") != "Expired":
            info["status"] = "Expired"
        return info

    def clear(self) -> None:
        self.entries.clear()


class LocalAuthList:
    """The list the CSMS manages with SendLocalList, with its version number."""

    def __init__(self, max_length: int = 1000) -> None:
        self.version = 0
        self.entries: dict[str, dict[str, Any]] = {}
        self.max_length = max_length
        self._folded: dict[str, str] | None = None
        """Case-folded idTag -> the idTag as listed (None while the list is empty)."""

    def apply(self, version: int, update_type: str, items: list[dict[str, Any]]) -> str:
        """Apply a SendLocalList.req; return its UpdateStatus."""
        if update_type == "Full":
            new: dict[str, dict[str, Any]] = {}
        elif update_type == "Differential":
            if version <= self.version:
                return "VersionMismatch"
            new = dict(self.entries)
        else:
            return "Failed"
        folded = {tag.casefold(): tag for tag in new}
        for item in items:
            id_tag = item.get("idTag")
            if not isinstance(id_tag, str):
                return "Failed"
            present = folded.pop(id_tag.casefold(), None)
            if present is not None:
                del new[present]
            info = item.get("idTagInfo")
            if info is not None:
                new[id_tag] = dict(info)
                folded[id_tag.casefold()] = id_tag
        if len(new) > self.max_length:
            return "Failed"
        self.entries = new
        self._folded = folded or None
        self.version = version
        return "Accepted"

    def lookup(self, id_tag: str) -> dict[str, Any] | None:
        found = self.entries.get(id_tag)
        if found is not None:
            return found
        folded = self._folded
        original = folded.get(id_tag.casefold()) if folded is not None else None
        return self.entries.get(original) if original is not None else None

    def clear(self) -> None:
        self.entries = {}
        self._folded = None
        self.version = 0


class LocalAuthorization:
    """What the charger itself knows about an idTag (§3.5.3): the Local Authorization List first
    ("Local Authorization List entries as having priority over Authorization Cache entries"),
    then the Authorization Cache, each only while its configuration key enables it."""

    __slots__ = ("cache", "enabled", "local_list")

    def __init__(self, local_list: LocalAuthList, cache: AuthorizationCache, enabled: Callable[[str], bool]) -> None:
        self.local_list = local_list
        self.cache = cache
        self.enabled = enabled
        """``enabled(key)``: the boolean configuration key ``key`` (LocalAuthListEnabled, ...)."""

    def in_local_list(self, id_tag: str) -> bool:
        return self.enabled("LocalAuthListEnabled") and self.local_list.lookup(id_tag) is not None

    def status(self, id_tag: str) -> str | None:
        """The idTag's status from the list, else the cache (Expired once an expiryDate passed);
        None when neither knows it (an "unknown" identifier, §3.5.4)."""
        if self.enabled("LocalAuthListEnabled"):
            entry = self.local_list.lookup(id_tag)
            if entry is not None:
                return effective_status(entry)
        if self.enabled("AuthorizationCacheEnabled"):
            cached = self.cache.lookup(id_tag)
            if cached is not None:
                return effective_status(cached)
        return None

    def remember(self, id_tag: str, id_tag_info: object) -> None:
        """An IdTagInfo from Authorize/StartTransaction/StopTransaction.conf updates the cache (§4.1,
        §4.8, §4.10), "if the idTag is not in the Local Authorization List" (§3.5.3: list entries
        "SHALL NOT be added to the Authorization Cache")."""
        if not isinstance(id_tag_info, dict) or not self.enabled("AuthorizationCacheEnabled"):
            return
        if self.local_list.lookup(id_tag) is not None:
            return
        self.cache.update(id_tag, id_tag_info)
