"""What ``volatileocpp robustness`` prints: one line per case, then for anything but PASSED what was
expected and what happened (and, unless PASSED or NON-STRICT, the wire log), then the counts."""

from __future__ import annotations

from typing import TextIO

from scenarios.console import Console, printable, wire_line
from scenarios.results import CaseResult, RunResult, Support, Verdict

WIRE_LIMIT = 300
MEANING = {
    Verdict.passed: "the outcome the clause asks for",
    Verdict.non_strict: "another acceptable outcome (a different error code, closing the connection, a permitted drop)",
    Verdict.failed: "bad input accepted as valid, a required answer missing, an answer with the wrong id, "
    "or invalid JSON back",
    Verdict.crashed: "afterwards the same connection or a new one no longer answered BootNotification and Heartbeat",
    Verdict.degraded: "the control fleet's p95 or failure ratio broke its bound while the case ran",
    Verdict.not_applicable: "could not run with these options (the reason is given)",
    Verdict.error: "a fault of the harness, never a verdict on the CSMS",
}


class RobustConsole(Console):
    """A runner listener: ``frame.invalid_json .... NON-STRICT  0.36 s`` and the details under it."""

    def __init__(self, out: TextIO, verbose: bool = False) -> None:
        super().__init__(out, verbose)
        self.group = ""

    def support(self, support: dict[str, Support], seconds: float | None) -> None:
        """(No support probe in the robustness suite.)"""

    def case(self, result: CaseResult) -> None:
        if result.profile != self.group:
            self.group = result.profile
            self.write(f"[{self.group}]")
        verdict = str(result.verdict)
        self.write(f"  {result.case_id:<44} {verdict:<14} {result.duration:6.2f} s")
        if result.verdict == Verdict.not_applicable:
            self.write(f"      {printable(result.reason)}")
            return
        if result.verdict == Verdict.passed and not self.verbose:
            return
        if result.verdict == Verdict.error:
            self.write(f"      {printable(result.reason)}")
        answer = next((c for c in result.checks if c.step == "answer"), None)
        if answer is not None and result.verdict != Verdict.passed:
            self.write(f"      sent:     {printable(answer.message)}")
            self.write(f"      expected: {printable(answer.expected)}")
            self.write(f"      actual:   {printable(answer.actual)}")
        for check in result.checks:
            if not check.ok and check.step != "answer":
                self.write(f"      {check.step}: expected {printable(check.expected)}")
                self.write(f"      {' ' * len(check.step)}  actual   {printable(check.actual)}")
        if result.verdict == Verdict.non_strict and result.reason:
            self.write(f"      why acceptable: {printable(result.reason)}")
        elif result.verdict in (Verdict.failed, Verdict.crashed, Verdict.degraded) and result.reason:
            self.write(f"      verdict:  {printable(result.reason)}")
        for note in result.notes:
            self.write(f"      note: {printable(note)}")
        if result.verdict not in (Verdict.passed, Verdict.non_strict) or self.verbose:
            for entry in result.wire:
                self.write("        " + wire_line(entry, WIRE_LIMIT))

    def summary(self, run: RunResult) -> None:
        counts = ", ".join(f"{run.count(v)} {v}" for v in run.verdicts)
        total = len(run.cases)
        self.write(f"{total} case{'' if total == 1 else 's'} in {run.duration:.1f} s: {counts}")
        code = run.exit_code
        if code == 1:
            bad = [v for v in (Verdict.crashed, Verdict.degraded, Verdict.failed, Verdict.error) if run.count(v)]
            self.write(f"exit status 1: {', '.join(f'{run.count(v)} {v}' for v in bad)}")
        else:
            self.write("exit status 0: nothing FAILED, CRASHED, DEGRADED or ERROR")
