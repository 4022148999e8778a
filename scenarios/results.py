"""Verdicts, checks and wire log entries of a compliance run, and the exceptions that end a case."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class Verdict(StrEnum):
    """The conformance-tester verdicts (the robustness suite adds NON-STRICT, CRASHED and DEGRADED)."""

    passed = "PASSED"
    failed = "FAILED"
    not_applicable = "NOT APPLICABLE"
    error = "ERROR"
    """A fault of the harness (an exception in our code), never a verdict on the CSMS."""
    non_strict = "NON-STRICT"
    """Robustness: another acceptable outcome than the one the clause asks for (a different error code,
    closing the connection, a permitted drop)."""
    crashed = "CRASHED"
    """Robustness: after the case the same connection, or a new one, no longer answers BootNotification
    and Heartbeat."""
    degraded = "DEGRADED"
    """Robustness: the control fleet running beside the case saw its p95 or its failure rate break a bound."""


#: The verdicts of a compliance run, in report order.
COMPLIANCE_VERDICTS = (Verdict.passed, Verdict.failed, Verdict.not_applicable, Verdict.error)
#: The verdicts of a robustness run, in report order.
ROBUSTNESS_VERDICTS = (
    Verdict.passed,
    Verdict.non_strict,
    Verdict.failed,
    Verdict.crashed,
    Verdict.degraded,
    Verdict.not_applicable,
    Verdict.error,
)
#: Verdicts that make a run exit 1.
FAILING_VERDICTS = frozenset({Verdict.failed, Verdict.error, Verdict.crashed, Verdict.degraded})


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


@dataclass(slots=True)
class InvalidFrame:
    """A frame the CSMS sent that is not valid OCPP-J (or WebSocket): not JSON, not an array, a
    binary frame, an answer with an unknown or repeated id, a frame too big, a masked one."""

    at: float
    reason: str
    """What is wrong with it, in the engine's words."""
    frame: str
    """The frame as received (control characters escaped, cut at 300 characters)."""

    def note(self, when: str) -> str:
        shown = f": {self.frame}" if self.frame else ""
        return f"the CSMS sent an invalid frame {when}: {self.reason}{shown}"

    def to_json(self) -> dict[str, Any]:
        at = datetime.fromtimestamp(self.at, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return {"at": at, "reason": self.reason, "frame": self.frame}


class CheckFailed(Exception):
    """A tool validation on the CSMS failed; the case ends FAILED (the check is already recorded)."""

    def __init__(self, check: Check) -> None:
        super().__init__(f"step {check.step}: expected {check.expected_text}, actual {check.actual}")
        self.check = check


class Skip:
    """Why cases were not run, grouped in the closing line: ``kind`` -> (what they need, the hint)."""

    driver = "driver"
    tag = "tag"
    profile = "profile"
    option = "option"

    HINTS: dict[str, tuple[str, str]] = {
        driver: ("need a driver", "give --trigger-url or --trigger-cmd (or run at a terminal)"),
        tag: ("need an idTag configured in the CSMS", "give {detail}"),
        profile: ("are of a feature profile not declared", "{detail}; declare it with --profiles"),
        option: ("need another set-up", "{detail}"),
    }


class NotApplicable(Exception):
    """The case cannot run against this CSMS or with these options; the reason says why.

    ``kind`` (a :class:`Skip` value) and ``detail`` group the reason in the closing line."""

    def __init__(self, reason: str, kind: str = Skip.option, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind
        self.detail = detail or reason


class HarnessError(Exception):
    """Our own side broke a rule (a message we built is invalid): ERROR, not a verdict on the CSMS."""


class DriverError(HarnessError):
    """The trigger driver could not deliver a request (connection refused, HTTP 4xx/5xx, a command
    that exited non-zero): ERROR at once, with the driver's own words, never a CSMS failure."""


def step_key(step: str) -> tuple[int, int, str, int]:
    """Sort key of a check's step: "4" -> (4, 0, "", 0); "5 (Charging 3)" -> (5, 1, "Charging", 3);
    a step of a reusable state run before the case's steps ("Charging 3", "Booted 1") or of the
    set-up ("probe", "setup") sorts first."""
    text = step.strip()
    head, _, rest = text.partition(" ")
    if head.isdigit():
        inner = rest.strip("() ")
        name, _, number = inner.rpartition(" ")
        return int(head), 1 if inner else 0, name if number.isdigit() else inner, int(number) if number.isdigit() else 0
    name, _, number = text.rpartition(" ")
    if number.isdigit():
        return -1, 0, name, int(number)
    return -2, 0, text, 0


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
    """Seconds the case took, its clean-up included (every wait on the CSMS counts)."""
    cleanup_duration: float = 0.0
    """Seconds of that spent bringing the charge point back to the general pre-conditions."""
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Warnings and remarks (e.g. TC_064: "Accepted is allowed, but ...")."""
    wire: list[WireEntry] = field(default_factory=list)
    cleanup_wire: list[WireEntry] = field(default_factory=list)
    """Frames of the clean-up after the case (stop transactions, connectors back to Available)."""
    invalid_frames: list[InvalidFrame] = field(default_factory=list)
    """Frames the CSMS sent during the case or its clean-up that are not valid OCPP-J (each also
    in :attr:`notes`)."""
    error_detail: str = ""
    """Traceback of a harness fault."""
    skip_kind: str = ""
    """NOT APPLICABLE: a :class:`Skip` value, for the closing line."""
    skip_detail: str = ""
    requirement: str = ""
    """Robustness: the clause's words the case checks (compliance cases quote theirs in their steps)."""

    @property
    def failed_checks(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    @property
    def first_failure(self) -> Check | None:
        failures = self.failed_checks
        return failures[0] if failures else None

    def to_json(self) -> dict[str, Any]:
        extra = {"requirement": self.requirement} if self.requirement else {}
        return {
            **extra,
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
            "cleanup_s": round(self.cleanup_duration, 3),
            "checks": [c.to_json() for c in self.checks],
            "notes": list(self.notes),
            "invalid_frames": [f.to_json() for f in self.invalid_frames],
            "wire": [w.to_json() for w in self.wire],
            "cleanup_wire": [w.to_json() for w in self.cleanup_wire],
            "error_detail": self.error_detail,
            "not_applicable": {"kind": self.skip_kind, "detail": self.skip_detail} if self.skip_kind else None,
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
    setup_duration: float = 0.0
    """Seconds of the set-up before the probe: connect, BootNotification(s) until Accepted (the
    intervals a Pending or Rejected one asks for included), the first StatusNotifications."""
    probe_duration: float | None = None
    support: dict[str, Support] = field(default_factory=dict)
    cases: list[CaseResult] = field(default_factory=list)
    setup_wire: list[WireEntry] = field(default_factory=list)
    invalid_frames: list[InvalidFrame] = field(default_factory=list)
    """Invalid frames outside any case: set-up, probe, between cases (each also in :attr:`notes`)."""
    notes: list[str] = field(default_factory=list)
    profiles: list[str] = field(default_factory=list)
    """The feature profiles the run treated as declared by the CSMS."""
    profiles_source: str = ""
    """Where they came from: ``--profiles`` or the probe."""
    require_all: bool = False
    kind: str = "compliance"
    """``compliance`` (the OCTT cases) or ``robustness`` (the hostile charge point)."""
    suite: str = "OCTT 1.6 TC_xxx_CSMS"
    """What the run is, for the reports' titles."""
    verdicts: tuple[Verdict, ...] = COMPLIANCE_VERDICTS
    """The verdicts this kind of run gives, in report order."""
    details: dict[str, Any] = field(default_factory=dict)
    """Facts of this kind of run for the JSON report (robustness: groups, control fleet, bounds)."""

    def count(self, verdict: Verdict) -> int:
        return sum(1 for c in self.cases if c.verdict == verdict)

    @property
    def ok(self) -> bool:
        return not any(c.verdict in FAILING_VERDICTS for c in self.cases)

    def not_run(self) -> list[str]:
        """The NOT APPLICABLE cases, grouped by why, each line with what would make them run:
        "21 need a driver: give --trigger-url or --trigger-cmd (or run at a terminal)"."""
        groups: dict[tuple[str, str], list[str]] = {}
        for case in self.cases:
            if case.verdict != Verdict.not_applicable:
                continue
            kind = case.skip_kind or Skip.option
            detail = case.skip_detail or case.reason
            key = (kind, "" if kind in (Skip.driver, Skip.tag) else detail)
            groups.setdefault(key, []).append(detail)
        lines = []
        for (kind, detail), details in groups.items():
            what, hint = Skip.HINTS.get(kind, Skip.HINTS[Skip.option])
            if kind == Skip.tag:
                detail = ", ".join(dict.fromkeys(details))
            count = len(details)
            if count == 1:
                what = what.replace("need ", "needs ", 1).replace("are of", "is of", 1)
            lines.append(f"{count} {'case' if count == 1 else 'cases'} {what}: {hint.format(detail=detail)}")
        return lines

    @property
    def exit_code(self) -> int:
        """0: every case that ran PASSED (and, with --require-all, every case ran); 1: a case
        FAILED or ERRORed; 3: --require-all and a case was NOT APPLICABLE."""
        if not self.ok:
            return 1
        if self.require_all and self.count(Verdict.not_applicable):
            return 3
        return 0

    def by_id(self) -> dict[str, CaseResult]:
        return {c.case_id: c for c in self.cases}
