"""Run the selected OCTT cases in document order on one simulated charge point.

    runner = Runner(options)
    run = runner.run()            # connect, boot, probe, every case, clean-up between cases
    run.by_id()["TC_001_CSMS"].verdict

Between cases the runner brings the charge point back to the document's general
pre-conditions (§1.3): connected, Accepted, no transaction, every connector Available; so a case
that fails half-way (or leaves a transaction open, as TC_003 does by design) does not cascade.
"""

from __future__ import annotations

import math
import time
import traceback
from collections.abc import Callable
from typing import Any, Protocol, TextIO

import gevent

from ocpp_users.ocppj.errors import FrameError, TransportError, VolatileOcppError
from ocpp_users.ocppj.frames import Call, CallError, CallResult, parse
from ocpp_users.ocppj.sink import Recorder
from ocpp_users.v16.settings import Behaviour, ChargePointSettings
from ocpp_users.v16.state.status import ChargePointStatus
from ocpp_users.v16.station import Station
from scenarios import probe
from scenarios.base import PRECONDITIONS, Case, all_cases
from scenarios.context import Context, timestamp
from scenarios.drivers import CommandDriver, Driver, PromptDriver, UrlDriver
from scenarios.heartbeat import Heartbeats
from scenarios.options import RunOptions, redact_url, selected
from scenarios.results import (
    CaseResult,
    Check,
    CheckFailed,
    HarnessError,
    NotApplicable,
    RunResult,
    Support,
    Verdict,
    WireEntry,
)
from scenarios.wire import WireTap

Hook = Callable[[str], Any]


class ConnectionFailed(Exception):
    """The CSMS could not be reached at all (exit code 2)."""


class _CaseTimeout(Exception):
    pass


class Listener(Protocol):
    def support(self, support: dict[str, Support], seconds: float | None) -> None: ...

    def notes(self, notes: list[str]) -> None: ...

    def case(self, result: CaseResult) -> None: ...


def build_driver(
    options: RunOptions, out: TextIO | None, read_line: Callable[[float], str | None] | None = None
) -> Driver | None:
    if options.trigger_url:
        return UrlDriver(options.trigger_url, options.trigger_headers, timeout=max(30.0, options.step_timeout * 4))
    if options.trigger_cmd:
        return CommandDriver(options.trigger_cmd, timeout=max(30.0, options.step_timeout * 4))
    if options.interactive and out is not None:
        if read_line is not None:
            return PromptDriver(options.prompt_timeout, out, read_line)
        return PromptDriver(options.prompt_timeout, out)
    return None


class Runner:
    """Connects one charge point and runs cases; usable from the CLI, Locust and tests."""

    def __init__(
        self,
        options: RunOptions,
        *,
        listener: Listener | None = None,
        out: TextIO | None = None,
        read_line: Callable[[float], str | None] | None = None,
        before_case: Hook | None = None,
        after_case: Hook | None = None,
    ) -> None:
        self.options = options
        self.listener = listener
        self.before_case = before_case
        """Called with the case id right before it runs (tests switch testbed faults here)."""
        self.after_case = after_case
        self.cases: list[type[Case]] = [c for c in all_cases() if selected(c.case_id, options.only, options.exclude)]
        self.driver = build_driver(options, out, read_line)
        self.tap = WireTap()
        self.recorder = Recorder()
        self.cp: Station | None = None
        self.heartbeats: Heartbeats | None = None
        self.result = RunResult(redact_url(options.url), options.cp_id, time.time())

    # ------------------------------------------------------------------ lifecycle

    def settings(self) -> ChargePointSettings:
        o = self.options
        return ChargePointSettings(
            cp_id=o.cp_id,
            url=o.url,
            security=o.security,
            connectors=o.connectors,
            vendor=o.vendor,
            model=o.model,
            call_timeout=o.step_timeout,
            connect_timeout=o.connect_timeout,
            serialize_calls=True,  # OCPP-J §4.1.1: at most one outstanding CALL (the heartbeat included)
            validate=True,
            reconnect=False,
            strict=False,
            behaviour=Behaviour(auto_follow_up=False),
            configuration={"ConnectionTimeOut": str(max(1, math.ceil(o.connection_timeout)))},
        )

    @property
    def charge_point(self) -> Station:
        if self.cp is None:
            raise RuntimeError("Runner.setup() first")
        return self.cp

    def setup(self) -> None:
        """Connect, boot (the Booted state), probe. Raises :class:`ConnectionFailed`."""
        self.cp = Station(self.settings(), sink=self.recorder, wire_log=self.tap)
        self.tap.switch(self.result.setup_wire)
        try:
            self.cp.connect()
        except TransportError as exc:
            raise ConnectionFailed(f"cannot connect to {redact_url(self.cp.url)}: {exc.reason}") from None
        except OSError as exc:  # a TLS file the ssl module cannot load (ssl.SSLError is an OSError)
            raise ConnectionFailed(f"cannot connect to {redact_url(self.cp.url)}: {exc}") from None
        boot = self._boot_quietly()
        self.result.support["BootNotification"] = probe.from_boot(boot)
        if isinstance(boot, dict) and boot.get("status") != "Accepted":
            self.result.notes.append(
                f"the initial BootNotification was answered {boot.get('status')}, not Accepted: is charge point "
                f"{self.options.cp_id} registered in the CSMS?"
            )
        self._statuses_quietly()
        if self.options.probe:
            started = time.perf_counter()
            found = probe.run_probe(
                lambda action, payload, timeout: self.charge_point.call(action, payload, timeout=timeout),
                self.options.tags.unknown,
                self.options.unknown_vendor_id,
                self.options.connector_id,
                self.options.probe_timeout,
            )
            self.result.probe_duration = time.perf_counter() - started
            self.result.support.update(found)
        assumed = self.options.assume_supported
        if assumed:
            for action in [*probe.probe_payloads("x", "x", 1), "BootNotification", "StopTransaction"]:
                if "*" in assumed or action in assumed:
                    self.result.support[action] = Support(action, probe.SUPPORTED, "assumed (--assume-supported)")
        # A charger keeps heartbeating (every HeartbeatInterval from the BootNotification.conf), so
        # a CSMS does not drop it while an operator takes time over a prompt; never ahead of a boot.
        self.heartbeats = Heartbeats(self.cp)
        self.cp.spawn(self.heartbeats.run)
        if self.listener is not None:
            self.listener.support(self.result.support, self.result.probe_duration)
            self.listener.notes(self.result.notes)

    def teardown(self) -> None:
        cp = self.cp
        if cp is not None:
            self.tap.switch(self.result.setup_wire)
            cp.stop(stop_transactions=False)
        self.result.duration = time.time() - self.result.started

    def run(self) -> RunResult:
        """Set up, run every selected case, tear down. Raises :class:`ConnectionFailed`."""
        try:
            self.setup()
            for case in self.cases:
                self.run_case(case)
        finally:
            self.teardown()
        return self.result

    # ------------------------------------------------------------------ cases

    def unsupported_core(self, case: type[Case]) -> list[Support]:
        """Core-profile actions of the case that the probe found unsupported: each one is FAILED
        (a Central System implements the whole Core profile)."""
        return [
            s
            for a in case.cp_actions
            if probe.is_core(a) and (s := self.result.support.get(a)) is not None and s.state == probe.UNSUPPORTED
        ]

    def applicability(self, case: type[Case]) -> str | None:
        """Why the case cannot run (NOT APPLICABLE), or None."""
        unsupported = [
            f"{a} ({s.detail})"
            for a in case.cp_actions
            if not probe.is_core(a) and (s := self.result.support.get(a)) is not None and s.state == probe.UNSUPPORTED
        ]
        if unsupported:
            return "the CSMS does not support " + ", ".join(unsupported)
        for name in case.preconditions:
            if not self.options.tags.for_precondition(name):
                return f"precondition missing: {PRECONDITIONS[name]}"
        if case.csms_actions and self.driver is None:
            needs = ", ".join(case.csms_actions)
            return f"needs {needs} from the CSMS; no driver (--trigger-url/--trigger-cmd) and no terminal"
        return case.not_applicable(self.options)

    def run_case(self, case: type[Case]) -> CaseResult:
        result = CaseResult(case.case_id, case.title, case.section, case.profile, started=time.time())
        self.result.cases.append(result)
        missing = self.unsupported_core(case)
        if missing:
            self._fail_unsupported(result, missing)
            self._report(result)
            return result
        reason = self.applicability(case)
        if reason is not None:
            result.verdict, result.reason = Verdict.not_applicable, reason
            self._report(result)
            return result
        cp = self.charge_point
        self.tap.forget_calls()
        self.tap.switch(result.wire)
        ctx = Context(cp, self.options, self.tap, result, self.driver, self._reconnect, self.heartbeats)
        started = time.perf_counter()
        try:
            if self.before_case is not None:
                self.before_case(case.case_id)
            with gevent.Timeout(self.case_timeout(case), _CaseTimeout):
                case().run(ctx)
            failures = result.failed_checks
            if failures:
                result.verdict, result.reason = Verdict.failed, _one_line(failures[0])
            else:
                result.verdict = Verdict.passed
        except CheckFailed as exc:
            result.verdict, result.reason = Verdict.failed, _one_line(exc.check)
        except NotApplicable as exc:
            result.verdict, result.reason = Verdict.not_applicable, exc.reason
        except HarnessError as exc:
            result.verdict, result.reason = Verdict.error, f"harness fault: {exc}"
        except _CaseTimeout:
            result.verdict = Verdict.error
            result.reason = f"harness fault: case still running after {self.case_timeout(case):g} s"
        except Exception as exc:
            result.verdict, result.reason = Verdict.error, f"harness fault: {type(exc).__name__}: {exc}"
            result.error_detail = traceback.format_exc()
        finally:
            result.duration = time.perf_counter() - started
            for trigger in ctx.triggers:
                if trigger.greenlet is not None:
                    trigger.greenlet.join(timeout=0.5)
                    trigger.greenlet.kill(block=False)
            if self.after_case is not None:
                self.after_case(case.case_id)
            self.tap.switch(result.cleanup_wire)
            self.restore(result)
            self.tap.switch(self.result.setup_wire)
        self._report(result)
        return result

    def _fail_unsupported(self, result: CaseResult, missing: list[Support]) -> None:
        for support in missing:
            action = support.action
            result.checks.append(
                Check("probe", f"{action}.conf", "", f"{action} supported (Core profile)", support.detail, ok=False)
            )
            result.wire.extend(_exchange_of(self.result.setup_wire, action))
        result.verdict, result.reason = Verdict.failed, _one_line(result.checks[0])

    def case_timeout(self, case: type[Case]) -> float:
        """The watchdog, plus the operator's time for each prompt."""
        prompts = len(case.csms_actions) if isinstance(self.driver, PromptDriver) else 0
        return self.options.case_timeout + prompts * self.options.prompt_timeout

    def _report(self, result: CaseResult) -> None:
        if self.listener is not None:
            self.listener.case(result)

    # ------------------------------------------------------------------ clean-up

    def _hold_heartbeats(self) -> None:
        if self.heartbeats is not None:
            self.heartbeats.hold()

    def _release_heartbeats(self) -> None:
        if self.heartbeats is not None:
            self.heartbeats.release()

    def _reconnect(self) -> None:
        """A new connection: no heartbeat until a BootNotification on it is Accepted (or the
        clean-up is over, for a reconnect without a reboot)."""
        self._hold_heartbeats()
        cp = self.charge_point
        if cp.connected:
            cp.close()
        cp.connect(name="reconnect")

    def _call_quietly(self, action: str, payload: dict[str, Any], notes: list[str] | None) -> dict[str, Any] | None:
        try:
            return self.charge_point.call(action, payload, timeout=self.options.step_timeout)
        except VolatileOcppError as exc:
            if notes is not None:
                notes.append(f"clean-up: {action} failed: {exc}")
            return None

    def _boot_quietly(self) -> dict[str, Any] | BaseException:
        payload = {"chargePointVendor": self.options.vendor[:20], "chargePointModel": self.options.model[:20]}
        try:
            answer = self.charge_point.call("BootNotification", payload, timeout=self.options.step_timeout)
        except VolatileOcppError as exc:
            self.result.notes.append(f"BootNotification failed: {exc}")
            return exc
        self.charge_point.registration = answer.get("status")
        interval = answer.get("interval")
        if answer.get("status") == "Accepted" and isinstance(interval, int) and interval > 0:
            self.charge_point.configuration.set_internal("HeartbeatInterval", str(interval))
        return answer

    def _statuses_quietly(self, notes: list[str] | None = None) -> None:
        for cid, connector in sorted(self.charge_point.connectors.items()):
            connector.status = ChargePointStatus.available
            connector.error_code = "NoError"
            payload = {"connectorId": cid, "errorCode": "NoError", "status": "Available", "timestamp": timestamp()}
            self._call_quietly("StatusNotification", payload, notes)

    def restore(self, result: CaseResult) -> None:
        """Back to §1.3: connected and Accepted, no transaction open, every connector Available."""
        self._hold_heartbeats()
        try:
            self._restore(result)
        finally:
            self._release_heartbeats()

    def _restore(self, result: CaseResult) -> None:
        cp = self.charge_point
        notes = result.notes
        cp.settings.behaviour.answers.clear()
        rebooted = False
        if not cp.connected:
            try:
                self._reconnect()
            except TransportError as exc:
                notes.append(f"clean-up: reconnect failed: {exc.reason}")
                return
            rebooted = True
        if rebooted or cp.registration != "Accepted":
            self._boot_quietly()
        for _cid, connector in sorted(cp.connectors.items()):
            if connector.transaction_id is None:
                continue
            payload = {
                "transactionId": connector.transaction_id,
                "meterStop": connector.meter.stop(),
                "timestamp": timestamp(),
                "reason": "Local",
            }
            connector.transaction_id = None
            connector.id_tag = None
            self._call_quietly("StopTransaction", payload, notes)
        dirty = [
            cid
            for cid, c in cp.connectors.items()
            if c.status != ChargePointStatus.available or c.error_code != "NoError"
        ]
        if rebooted:
            self._statuses_quietly(notes)
        else:
            for cid in sorted(dirty):
                connector = cp.connectors[cid]
                connector.status = ChargePointStatus.available
                connector.error_code = "NoError"
                payload = {"connectorId": cid, "errorCode": "NoError", "status": "Available", "timestamp": timestamp()}
                self._call_quietly("StatusNotification", payload, notes)
        self.tap.forget_calls()


def _exchange_of(wire: list[WireEntry], action: str) -> list[WireEntry]:
    """The frames of our ``action`` CALLs in ``wire`` and the CSMS's answers to them (the probe's)."""
    ids: set[str] = set()
    out: list[WireEntry] = []
    for entry in wire:
        try:
            frame = parse(entry.raw)
        except FrameError:
            continue
        if entry.direction == "out" and isinstance(frame, Call) and frame.action == action:
            ids.add(frame.message_id)
            out.append(entry)
        elif entry.direction == "in" and isinstance(frame, (CallResult, CallError)) and frame.message_id in ids:
            out.append(entry)
    return out


def _one_line(check: Any) -> str:
    return f"step {check.step} ({check.message}): expected {check.expected_text}, actual {check.actual}"


def select_cases(only: tuple[str, ...], exclude: tuple[str, ...]) -> list[type[Case]]:
    return [c for c in all_cases() if selected(c.case_id, only, exclude)]
