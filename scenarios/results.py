"""Verdicts, checks and wire log entries of a compliance run, and the exceptions that end a case."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class Verdict(StrEnum):
    """The conformance-tester verdicts."""

    passed = "PASSED"
    failed = "FAILED"
    not_applicable = "NOT APPLICABLE"
    error = "ERROR"
    """A fault of the harness (an exception in our code), never a verdict on the CSMS."""


MISSING = "<missing>"


def show(value: Any) -> str:
    """A field value as a reader wants it: strings bare, everything else as compact JSON."""
    if value is _Missing:
        return MISSING
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return repr(value)


class _MissingType:
    def __repr__(self) -> str:
        return MISSING


_Missing: Any = _MissingType()


def lookup(payload: Any, path: str) -> Any:
    """``payload["a"]["b"]`` for ``path`` ``"a.b"`` (list indices allowed); a marker when absent."""
    value = payload
    if not path:
        return value
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _Missing
    return value


def is_missing(value: Any) -> bool:
    return value is _Missing


@dataclass
class Check:
    """One tool validation: what the document expects of a message and what was on the wire."""

    step: str
    """The document's step number ("4"), or the reusable state's ("Charging 4")."""
    message: str
    """The message checked, in the document's notation: ``Authorize.conf``, ``Reset.req``."""
    field: str
    """Dotted path of the field checked ("idTagInfo.status"); empty for whole-message checks."""
    expected: str
    actual: str
    ok: bool
    side: str = "csms"
    """``csms``: a check on what the CSMS sent (the verdict). ``tool``: on our own message."""
    warning: str | None = None

    @property
    def expected_text(self) -> str:
        return f"{self.field} {self.expected}".strip() if self.field else self.expected

    def to_json(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "message": self.message,
            "field": self.field,
            "expected": self.expected,
            "actual": self.actual,
            "ok": self.ok,
            "side": self.side,
            "warning": self.warning,
        }


@dataclass(slots=True)
class WireEntry:
    """One frame on the wire: ``out`` = charge point to CSMS, ``in`` = CSMS to charge point."""

    at: float
    direction: str
    raw: str

    @property
    def arrow(self) -> str:
        return "-->" if self.direction == "out" else "<--"

    @property
    def clock(self) -> str:
        return datetime.fromtimestamp(self.at, UTC).strftime("%H:%M:%S.%f")[:-3]

    @property
    def iso(self) -> str:
        return datetime.fromtimestamp(self.at, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def to_json(self) -> dict[str, Any]:
        return {"at": self.iso, "direction": self.direction, "raw": self.raw}


class CheckFailed(Exception):
    """A tool validation on the CSMS failed; the case ends FAILED (the check is already recorded)."""

    def __init__(self, check: Check) -> None:
        super().__init__(f"step {check.step}: expected {check.expected_text}, actual {check.actual}")
        self.check = check


class NotApplicable(Exception):
    """The case cannot run against this CSMS or with these options; the reason says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class HarnessError(Exception):
    """Our own side broke a rule (a message we built is invalid): ERROR, not a verdict on the CSMS."""


@dataclass
class CaseResult:
    case_id: str
    title: str
    section: str
    profile: str
    verdict: Verdict = Verdict.error
    reason: str = ""
    """NOT APPLICABLE reason, ERROR description, or the failing check in one line."""
    started: float = 0.0
    duration: float = 0.0
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Warnings and remarks (e.g. TC_064: "Accepted is allowed, but ...")."""
    wire: list[WireEntry] = field(default_factory=list)
    cleanup_wire: list[WireEntry] = field(default_factory=list)
    """Frames of the clean-up after the case (stop transactions, connectors back to Available)."""
    error_detail: str = ""
    """Traceback of a harness fault."""

    @property
    def failed_checks(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    @property
    def first_failure(self) -> Check | None:
        failures = self.failed_checks
        return failures[0] if failures else None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.case_id,
            "title": self.title,
            "section": self.section,
            "profile": self.profile,
            "verdict": str(self.verdict),
            "reason": self.reason,
            "started": datetime.fromtimestamp(self.started, UTC).isoformat(timespec="milliseconds")
            if self.started
            else None,
            "duration_s": round(self.duration, 3),
            "checks": [c.to_json() for c in self.checks],
            "notes": list(self.notes),
            "wire": [w.to_json() for w in self.wire],
            "cleanup_wire": [w.to_json() for w in self.cleanup_wire],
            "error_detail": self.error_detail,
        }


@dataclass
class Support:
    """What the probe found for one charge-point-initiated action."""

    action: str
    state: str
    """``supported``, ``unsupported`` or ``unknown``."""
    detail: str = ""


@dataclass
class RunResult:
    url: str
    cp_id: str
    started: float
    duration: float = 0.0
    probe_duration: float | None = None
    support: dict[str, Support] = field(default_factory=dict)
    cases: list[CaseResult] = field(default_factory=list)
    setup_wire: list[WireEntry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def count(self, verdict: Verdict) -> int:
        return sum(1 for c in self.cases if c.verdict == verdict)

    @property
    def ok(self) -> bool:
        return not any(c.verdict in (Verdict.failed, Verdict.error) for c in self.cases)

    def by_id(self) -> dict[str, CaseResult]:
        return {c.case_id: c for c in self.cases}
