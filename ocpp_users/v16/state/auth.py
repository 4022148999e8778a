"""Authorization cache and local authorization list (OCPP 1.6 §3.5)."""

from __future__ import annotations

from typing import Any


class AuthorizationCache:
    """From the specification: "a Charge Point MAY implement an Authorization Cache that
    autonomously maintains a record of previously presented identifiers"."""

    def __init__(self) -> None:
        self.entries: dict[str, dict[str, Any]] = {}

    def update(self, id_tag: str, id_tag_info: dict[str, Any]) -> None:
        self.entries[id_tag] = dict(id_tag_info)

    def lookup(self, id_tag: str) -> dict[str, Any] | None:
        return self.entries.get(id_tag)

    def clear(self) -> None:
        self.entries.clear()


class LocalAuthList:
    """The list the CSMS manages with SendLocalList, with its version number."""

    def __init__(self, max_length: int = 1000) -> None:
        self.version = 0
        self.entries: dict[str, dict[str, Any]] = {}
        self.max_length = max_length

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
        for item in items:
            id_tag = item.get("idTag")
            if not isinstance(id_tag, str):
                return "Failed"
            info = item.get("idTagInfo")
            if info is None:
                new.pop(id_tag, None)
            else:
                new[id_tag] = dict(info)
        if len(new) > self.max_length:
            return "Failed"
        self.entries = new
        self.version = version
        return "Accepted"

    def lookup(self, id_tag: str) -> dict[str, Any] | None:
        return self.entries.get(id_tag)
