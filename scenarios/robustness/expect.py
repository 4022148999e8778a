"""The outcomes a case accepts, and the judgement of what the CSMS did.

A case lists the outcomes that PASS (what its clause asks for) and those that are NON-STRICT
(another acceptable outcome: a different error code, closing the connection, a permitted drop);
anything else FAILS. Whatever the case, an answer that is not valid JSON or not an OCPP-J frame,
and an answer with a message id never sent, FAIL.

OCPP 1.6 spells two error codes its own way (FormationViolation, OccurenceConstraintViolation);
many CSMSs send the OCPP 2.0.1 spellings (FormatViolation, OccurrenceConstraintViolation). Both
match, and the report says which was sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scenarios.results import Verdict
from scenarios.robustness.outcome import MINUS_ONE, Outcome

#: OCPP 2.0.1 spelling -> the OCPP 1.6 code it stands for (OCPP-J 1.6 errata §5.1, §5.2).
SPELLINGS = {"FormatViolation": "FormationViolation", "OccurrenceConstraintViolation": "OccurenceConstraintViolation"}


def canonical(code: str) -> str:
    return SPELLINGS.get(code, code)


class Expect:
    """One acceptable outcome."""

    label = ""
    why = ""
    """For a NON-STRICT outcome: why it is still acceptable (the clause that allows it)."""

    def match(self, outcome: Outcome) -> bool:
        raise NotImplementedError

    def note(self, outcome: Outcome) -> str | None:
        return None


class CallError(Expect):
    """A CALLERROR with one of ``codes`` (any code when empty) for the input's message id (or ``"-1"``
    when ``minus_one``)."""

    def __init__(
        self, *codes: str, minus_one: bool = False, why: str = "", exclude: tuple[str, ...] = (), label: str = ""
    ) -> None:
        self.codes = tuple(canonical(c) for c in codes)
        self.minus_one = minus_one
        self.exclude = tuple(canonical(c) for c in exclude)
        self.why = why
        names = " or ".join(codes) if codes else "with another code"
        if exclude and not codes:
            names = "with a code other than " + " or ".join(exclude)
        where = ' (for the message id, or "-1")' if minus_one else ""
        self.label = label or f"CALLERROR {names}{where}"

    def match(self, outcome: Outcome) -> bool:
        first = outcome.first
        if first is None or first.kind != "error":
            return False
        if first.message_id == MINUS_ONE and not self.minus_one:
            return False
        code = canonical(first.code)
        if code in self.exclude:
            return False
        return not self.codes or code in self.codes

    def note(self, outcome: Outcome) -> str | None:
        first = outcome.first
        if first is not None and first.code in SPELLINGS:
            return f"{first.code} is the OCPP 2.0.1 spelling of the OCPP 1.6 code {SPELLINGS[first.code]}"
        return None


class Result(Expect):
    """A CALLRESULT for the input's message id, optionally one that ``test`` approves."""

    def __init__(self, label: str = "", test: Callable[[Any], bool] | None = None, why: str = "") -> None:
        self.label = f"CALLRESULT {label}".strip()
        self.test = test
        self.why = why

    def match(self, outcome: Outcome) -> bool:
        first = outcome.first
        if first is None or first.kind != "result":
            return False
        return self.test is None or self.test(first.payload if first.payload is not None else {})


class Dropped(Expect):
    """No answer: the CSMS passed over the input and the connection stays open."""

    def __init__(self, why: str = "", label: str = "no answer (the input ignored)") -> None:
        self.label = label
        self.why = why

    def match(self, outcome: Outcome) -> bool:
        return outcome.kind == "silence"


class Closed(Expect):
    """The CSMS closed the connection (with one of ``codes``, when given)."""

    def __init__(self, *codes: int, why: str = "", label: str = "") -> None:
        self.codes = codes
        self.why = why
        self.label = label or "the connection closed" + (f" with {' or '.join(str(c) for c in codes)}" if codes else "")

    def match(self, outcome: Outcome) -> bool:
        if outcome.kind != "closed":
            return False
        if not self.codes:
            return True
        return outcome.closed is not None and outcome.closed.close_code in self.codes


class Refused(Expect):
    """The handshake was refused (with one of ``statuses``, when given)."""

    def __init__(self, *statuses: int, why: str = "") -> None:
        self.statuses = statuses
        self.why = why
        self.label = "the handshake refused" + (f" (HTTP {' or '.join(map(str, statuses))})" if statuses else "")

    def match(self, outcome: Outcome) -> bool:
        if outcome.refused is None:
            return False
        return not self.statuses or outcome.http_status in self.statuses


class Custom(Expect):
    """An outcome a case recognises itself (multi-step cases)."""

    def __init__(self, label: str, test: Callable[[Outcome], bool], why: str = "") -> None:
        self.label = label
        self.test = test
        self.why = why

    def match(self, outcome: Outcome) -> bool:
        return self.test(outcome)


# ---------------------------------------------------------------- the usual sets

DROP_ALLOWED = (
    "OCPP 2.0.1 part 4 §4.2.3 (a rule OCPP-J 1.6 leaves implicit): a message with invalid OCPP or not conform "
    "the JSON schema may be dropped"
)
CLOSE_ALLOWED = "closing the connection is a permitted way to reject input it cannot process"
FORMAT_CODES = ("FormationViolation", "ProtocolError", "RpcFrameworkError")
"""What a malformed frame gets: OCPP-J 1.6 §4.2.3 FormationViolation ("syntactically incorrect or not
conform the PDU structure") or ProtocolError; OCPP 2.0.1 part 4 §4.3 FormatViolation or
RpcFrameworkError ("not a valid RPC Request, for example: MessageId could not be read")."""

OTHER_CALLERROR = CallError(
    minus_one=True, why="a CALLERROR, with a less precise code", label="CALLERROR with another code"
)
DROPPED = Dropped(why=DROP_ALLOWED)
CLOSED = Closed(why=CLOSE_ALLOWED)
LENIENT = (OTHER_CALLERROR, DROPPED, CLOSED)
"""NON-STRICT for most bad input: another error code, a permitted drop, closing the connection."""


@dataclass
class Judgement:
    verdict: Verdict
    expected: str
    actual: str
    note: str | None = None
    reason: str = ""


def expected_text(passed: tuple[Expect, ...], non_strict: tuple[Expect, ...]) -> str:
    text = "PASSED: " + "; or ".join(e.label for e in passed)
    if non_strict:
        text += " | NON-STRICT: " + "; or ".join(e.label for e in non_strict)
    return text


def judge(passed: tuple[Expect, ...], non_strict: tuple[Expect, ...], outcome: Outcome, bad_input: bool) -> Judgement:
    """PASSED, NON-STRICT or FAILED for ``outcome``; garbage or a stray answer always FAILS."""
    expected = expected_text(passed, non_strict)
    actual = outcome.describe()
    if outcome.garbage:
        return Judgement(
            Verdict.failed, expected, actual, reason=f"invalid JSON or not OCPP-J back: {outcome.garbage[0]}"
        )
    if outcome.stray:
        return Judgement(Verdict.failed, expected, actual, reason="an answer with a message id that was never sent")
    for option in passed:
        if option.match(outcome):
            return Judgement(Verdict.passed, expected, actual, option.note(outcome))
    for option in non_strict:
        if option.match(outcome):
            note = option.note(outcome)
            why = f"{option.label}: {option.why}" if option.why else option.label
            return Judgement(Verdict.non_strict, expected, actual, note, reason=why)
    if bad_input and outcome.kind == "result":
        reason = "bad input accepted as valid"
    elif outcome.kind == "silence":
        reason = "no answer where one is required"
    else:
        reason = "not an outcome the clause allows"
    return Judgement(Verdict.failed, expected, actual, reason=reason)
