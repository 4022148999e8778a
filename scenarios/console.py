"""What the runner prints: support lines, one line per case, FAILED details with the wire log."""

from __future__ import annotations

from typing import TextIO

from scenarios.results import CaseResult, RunResult, Support, Verdict, WireEntry

WIRE_LINE_LIMIT = 400


def printable(text: str) -> str:
    """CSMS-provided text made safe for a terminal (control characters escaped)."""
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)


def wire_line(entry: WireEntry, limit: int = WIRE_LINE_LIMIT) -> str:
    raw = printable(entry.raw)
    if len(raw) > limit:
        raw = raw[:limit] + "..."
    return f"{entry.clock} {entry.arrow} {raw}"


def _took(result: CaseResult) -> str:
    """A case's time as printed: its whole duration, and the clean-up's share when it waited."""
    if result.cleanup_duration >= 0.1:
        return f"{result.duration:.2f} s, clean-up {result.cleanup_duration:.2f} s"
    return f"{result.duration:.2f} s"


class Console:
    """A :class:`scenarios.runner.Listener` that prints in the seed's form, with more detail."""

    def __init__(self, out: TextIO, verbose: bool = False) -> None:
        self.out = out
        self.verbose = verbose

    def write(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def support(self, support: dict[str, Support], seconds: float | None) -> None:
        for action in sorted(support):
            item = support[action]
            if item.state == "supported":
                self.write(f"Supports method: {action}")
            elif item.state == "unsupported":
                self.write(f"Does not support method: {action}")
            else:
                self.write(f"Unknown support: {action} ({printable(item.detail)})")
        if seconds is not None:
            self.write(f"(probe took {seconds:.2f} s)")

    def notes(self, notes: list[str]) -> None:
        for note in notes:
            self.write(f"note: {printable(note)}")

    def case(self, result: CaseResult) -> None:
        name = f"{result.case_id:<15}"
        if result.verdict == Verdict.not_applicable:
            self.write(f"Skipping incompatible test {result.case_id} ({printable(result.reason)})")
            return
        if result.verdict == Verdict.passed:
            self.write(f"Running scenario: {name} -- PASSED!  ({_took(result)})")
            for note in result.notes:
                self.write(f"    note: {printable(note)}")
            if self.verbose:
                self._wire(result.wire)
            return
        word = f"{result.verdict}!"
        self.write(f"Running scenario: {name} -- {word}  ({_took(result)})")
        failures = result.failed_checks
        if result.verdict != Verdict.error and failures:
            for check in failures:
                self.write(f"    step {check.step} ({printable(check.message)}):")
                self.write(f"    expected: {printable(check.expected_text)}   actual: {printable(check.actual)}")
        else:
            self.write(f"    {printable(result.reason)}")
        for note in result.notes:
            self.write(f"    note: {printable(note)}")
        self._wire(result.wire)

    def _wire(self, wire: list[WireEntry]) -> None:
        if not wire:
            self.write("        (no frames)")
        for entry in wire:
            self.write("        " + wire_line(entry))

    def summary(self, run: RunResult) -> None:
        """The counts, then every reason cases did not run with what would make them run, then
        what the exit status means, so that a run with nothing FAILED but much NOT APPLICABLE is
        never read as compliant."""
        counts = ", ".join(f"{run.count(v)} {v}" for v in run.verdicts)
        total = len(run.cases)
        self.write(f"{total} case{'' if total == 1 else 's'} in {run.duration:.1f} s: {counts}")
        in_cases = sum(c.duration for c in run.cases)
        cleanup = sum(c.cleanup_duration for c in run.cases)
        probe = f", probe {run.probe_duration:.1f} s" if run.probe_duration is not None else ""
        self.write(
            f"time: set-up {run.setup_duration:.1f} s{probe}, cases {in_cases:.1f} s "
            f"(their clean-up {cleanup:.1f} s included)"
        )
        if run.profiles:
            source = {
                "--profiles": "declared with --profiles",
                "probe": "claimed (probe)",
            }.get(run.profiles_source, "taken as claimed (no probe ran)")
            self.write(f"feature profiles {source}: {', '.join(run.profiles)}")
        skipped = run.count(Verdict.not_applicable)
        if skipped:
            self.write(f"{skipped} of {len(run.cases)} cases did not run:")
            for line in run.not_run():
                self.write(f"  {printable(line)}")
        code = run.exit_code
        if code == 1:
            self.write("exit status 1: a case FAILED or ended ERROR")
        elif code == 3:
            self.write(f"exit status 3: --require-all, and {skipped} case{'' if skipped == 1 else 's'} did not run")
        elif skipped:
            self.write(
                f"exit status 0: every case that ran PASSED, but {skipped} did not run; "
                "--require-all makes that exit status 3"
            )
        else:
            self.write("exit status 0: every case ran and PASSED")
