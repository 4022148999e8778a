"""Run the selected robustness cases against a CSMS, each followed by a liveness probe and a fleet check.

    runner = RobustRunner(options)
    run = runner.run()        # reachability, control fleet, every case, tear-down
    run.by_id()["frame.invalid_json"].verdict

Per case: a fresh connection (booted, unless the case opens its own), the hostile input, the
judgement of what came back (PASSED, NON-STRICT or FAILED, :mod:`scenarios.robustness.expect`),
then the liveness probe (CRASHED when the CSMS no longer answers), then the control fleet's
window (DEGRADED when it broke a bound). The verdict is the worst of the three, in the order
CRASHED, DEGRADED, FAILED, NON-STRICT, PASSED; a fault of ours is ERROR. Once a case CRASHED the
CSMS and it does not come back, the remaining cases are NOT APPLICABLE with that reason.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from typing import Any

import gevent

from ocpp_users.ocppj.errors import TransportError
from scenarios.options import redact_url, selected
from scenarios.results import (
    ROBUSTNESS_VERDICTS,
    CaseResult,
    Check,
    HarnessError,
    NotApplicable,
    RunResult,
    Skip,
    Verdict,
)
from scenarios.robustness import liveness
from scenarios.robustness.base import RobustCase, all_cases
from scenarios.robustness.context import BOOT, RobustContext, SetupFailed
from scenarios.robustness.fleet import ControlFleet
from scenarios.robustness.options import RobustOptions
from scenarios.robustness.outcome import SentinelIds

Hook = Callable[[str], Any]
SEVERITY = (Verdict.crashed, Verdict.degraded, Verdict.failed, Verdict.non_strict, Verdict.passed)


class ConnectionFailed(Exception):
    """The CSMS cannot be reached, or never answers a BootNotification (exit status 2)."""


class _CaseTimeout(Exception):
    pass


def select_cases(options: RobustOptions) -> list[type[RobustCase]]:
    return [c for c in all_cases() if c.group in options.groups and selected(c.case_id, options.only, options.exclude)]


class RobustRunner:
    def __init__(
        self,
        options: RobustOptions,
        *,
        listener: Any = None,
        before_case: Hook | None = None,
        after_case: Hook | None = None,
    ) -> None:
        self.options = options
        self.listener = listener
        self.before_case = before_case
        """Called with the case id right before its input (tests switch testbed faults here)."""
        self.after_case = after_case
        """Called with the case id right after the judgement, before the liveness probe."""
        self.cases = select_cases(options)
        self.fleet = ControlFleet(options)
        self.sentinels = SentinelIds()
        self.down: str | None = None
        """Why the CSMS is considered down (a case CRASHED it and it did not come back)."""
        self.result = RunResult(
            redact_url(options.url),
            options.cp_id,
            time.time(),
            kind="robustness",
            suite="OCPP 1.6J robustness (hostile charge point)",
            verdicts=ROBUSTNESS_VERDICTS,
        )

    # ------------------------------------------------------------------ lifecycle

    def setup(self) -> None:
        """Reach the CSMS (connect, BootNotification answered), then start the control fleet."""
        result = CaseResult("setup", "set-up", "", "")
        ctx = RobustContext(self.options, result, self.sentinels)
        try:
            conn = ctx.open()
        except TransportError as exc:
            raise ConnectionFailed(f"cannot connect to {redact_url(self.options.url)}: {exc}") from None
        outcome = ctx.call(conn, "BootNotification", BOOT)
        ctx.close_all()
        self.result.setup_wire.extend(result.wire)
        if not outcome.answers:
            raise ConnectionFailed(
                f"the CSMS at {redact_url(self.options.url)} accepted the WebSocket connection but did not answer "
                f"a BootNotification: {outcome.describe()}"
            )
        status = outcome.first.payload.get("status") if outcome.first and outcome.first.kind == "result" else None
        if status != "Accepted":
            self.result.notes.append(
                f"the charge point {self.options.cp_id} was not Accepted ({outcome.describe()}); cases run anyway: "
                "liveness asks only that the CSMS answers"
            )
        self.fleet.start()
        self.result.notes.extend(self.fleet.notes)
        if self.listener is not None:
            self.listener.notes(self.result.notes)

    def teardown(self) -> None:
        self.fleet.stop()
        self.result.duration = time.time() - self.result.started
        self.result.details = {
            "groups": list(self.options.groups),
            "control_fleet": self.fleet.summary(),
            "timeouts": {"answer_s": self.options.answer_timeout, "quick_s": self.options.quick},
        }

    def run(self) -> RunResult:
        """Set up, run every selected case, tear down. Raises :class:`ConnectionFailed`."""
        try:
            self.setup()
            for case in self.cases:
                self.run_case(case)
        finally:
            self.teardown()
        return self.result

    # ------------------------------------------------------------------ one case

    def run_case(self, case: type[RobustCase]) -> CaseResult:
        result = CaseResult(case.case_id, case.title, case.clause, case.group, started=time.time())
        result.requirement = case.requirement
        self.result.cases.append(result)
        reason = case.not_applicable(self.options) or (f"not run: {self.down}" if self.down else None)
        if reason:
            result.verdict, result.reason = Verdict.not_applicable, reason
            result.skip_kind, result.skip_detail = Skip.option, reason
            self._report(result)
            return result
        ctx = RobustContext(self.options, result, self.sentinels)
        started = time.perf_counter()
        window = time.monotonic()
        instance = case()
        judged = False
        try:
            with gevent.Timeout(self.options.case_timeout, _CaseTimeout):
                if case.connect:
                    ctx.open_primary(case.boot)
                if self.before_case is not None:
                    self.before_case(case.case_id)
                outcome = instance.run(ctx)
                judgement = instance.judge(outcome)
                result.checks.append(
                    Check(
                        "answer",
                        case.sends,
                        "",
                        judgement.expected,
                        judgement.actual,
                        ok=judgement.verdict != Verdict.failed,
                        warning=judgement.note,
                    )
                )
                if judgement.note:
                    result.notes.append(judgement.note)
                result.verdict = judgement.verdict
                if judgement.verdict == Verdict.failed:
                    result.reason = f"{judgement.reason}: {judgement.actual}"
                elif judgement.verdict == Verdict.non_strict:
                    result.reason = judgement.reason
                judged = True
        except NotApplicable as exc:
            result.verdict, result.reason = Verdict.not_applicable, exc.reason
            result.skip_kind, result.skip_detail = exc.kind, exc.detail
        except SetupFailed as exc:
            result.checks.append(Check("setup", "BootNotification.req", "", "answered", str(exc), ok=False))
            result.verdict, result.reason = Verdict.failed, f"set-up: {exc}"
            judged = True
        except HarnessError as exc:
            result.verdict, result.reason = Verdict.error, f"harness fault: {exc}"
        except _CaseTimeout:
            result.verdict = Verdict.error
            result.reason = f"harness fault: case still running after {self.options.case_timeout:g} s"
        except Exception as exc:
            result.verdict, result.reason = Verdict.error, f"harness fault: {type(exc).__name__}: {exc}"
            result.error_detail = traceback.format_exc()
        finally:
            if self.after_case is not None:
                self.after_case(case.case_id)
        if judged:
            self._aftermath(instance, ctx, result, window)
        else:
            ctx.close_all()
        ctx.finish_wire()
        result.duration = time.perf_counter() - started
        self._report(result)
        return result

    def _aftermath(self, case: RobustCase, ctx: RobustContext, result: CaseResult, window: float) -> None:
        """Liveness probe, clean-up, control fleet; the verdict becomes the worst of them."""
        found: list[tuple[Verdict, str]] = [(result.verdict, result.reason)]
        probe = liveness.probe(ctx, self.options.probe_attempts)
        result.checks.append(probe.check)
        if not probe.alive:
            found.append((Verdict.crashed, probe.check.actual))
            if not probe.new_connection_ok:
                self.down = f"the CSMS stopped answering new connections after {result.case_id} (CRASHED)"
        else:
            try:
                case.cleanup(ctx)
            except Exception as exc:  # a clean-up is ours; it must not change the verdict
                result.notes.append(f"clean-up failed: {type(exc).__name__}: {exc}")
            ctx.close_all()
        fleet = self.fleet.check(window)
        if fleet is not None:
            result.checks.append(fleet)
            if not fleet.ok:
                found.append((Verdict.degraded, f"control fleet {fleet.actual} (bound: {fleet.expected})"))
        ctx.close_all()
        found.sort(key=lambda item: SEVERITY.index(item[0]))
        result.verdict = found[0][0]
        if len(found) == 1:
            return
        result.reason = "; ".join(f"{verdict}: {text}" for verdict, text in found if text and verdict != Verdict.passed)

    def _report(self, result: CaseResult) -> None:
        if self.listener is not None:
            self.listener.case(result)
