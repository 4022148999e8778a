"""Run the selected OCTT cases in document order on one simulated charge point.

    runner = Runner(options)
    run = runner.run()            # connect, boot, probe, every case, clean-up between cases
    run.by_id()["TC_001_CSMS"].verdict

Set-up: connect, and boot until the CSMS answers Accepted (Pending/Rejected: again after the
interval it gives), all within ``--connect-timeout``; a CSMS that never answers the
BootNotification ends the run (exit 2), one that never accepts FAILS every case at set-up (OCTT
§1.3: "Charge Point is Accepted by the Central System"; OCPP 1.6 §4.2: nothing but
BootNotification goes out before that). Then the probe, and the feature profiles the CSMS
declares (``--profiles``, else those the probe does not rule out).

Between cases the runner brings the charge point back to the document's general
pre-conditions (§1.3): connected, Accepted, no transaction, every connector Available and
operative, no reservation, no charging profile, no local list, an empty authorization cache, the
configuration keys as they were; so a case that fails half-way (or leaves a transaction open, as
TC_003 does by design) does not cascade.
"""

from __future__ import annotations

import math
import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol, TextIO

import gevent

from ocpp_users.ocppj.errors import (
    AuthenticationFailed,
    CallTimeout,
    ConnectionLost,
    FrameError,
    TransportError,
    VolatileOcppError,
)
from ocpp_users.ocppj.frames import Call, CallError, CallResult, parse
from ocpp_users.ocppj.sink import Recorder
from ocpp_users.v16.answers import InboundCall
from ocpp_users.v16.settings import Behaviour, ChargePointSettings
from ocpp_users.v16.state.status import ChargePointStatus
from ocpp_users.v16.station import Station
from scenarios import handshake, probe
from scenarios.base import PRECONDITIONS, Case, all_cases
from scenarios.context import Context, option_of, timestamp
from scenarios.drivers import CommandDriver, Driver, PromptDriver, UrlDriver
from scenarios.heartbeat import Heartbeats
from scenarios.invalid_frames import InvalidFrames
from scenarios.options import CORE, FEATURE_PROFILES, RunOptions, redact_url, selected
from scenarios.results import (
    CaseResult,
    Check,
    CheckFailed,
    DriverError,
    HarnessError,
    InvalidFrame,
    NotApplicable,
    RunResult,
    Skip,
    Support,
    Verdict,
    WireEntry,
)
from scenarios.wire import WireTap

Hook = Callable[[str], Any]


TEARDOWN_GRACE = 2.0
"""Seconds the charge point gets to end its calls in flight when the run is over."""


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
        driver: Driver | None = None,
    ) -> None:
        self.options = options
        self.listener = listener
        self.before_case = before_case
        """Called with the case id right before it runs (tests switch testbed faults here)."""
        self.after_case = after_case
        self.cases: list[type[Case]] = [c for c in all_cases() if selected(c.case_id, options.only, options.exclude)]
        self.driver = driver if driver is not None else build_driver(options, out, read_line)
        """How CSMS-initiated steps are driven (``driver``, else from the options)."""
        self.tap = WireTap()
        self.recorder = Recorder()
        self.invalid = InvalidFrames(self.recorder)
        """The charge point's sink: the recorder, and every invalid frame filed per case."""
        self.cp: Station | None = None
        self.heartbeats: Heartbeats | None = None
        self.result = RunResult(redact_url(options.url), options.cp_id, time.time(), require_all=options.require_all)
        self.declared: frozenset[str] = frozenset(FEATURE_PROFILES)
        self.ruled_out: dict[str, Support] = {}
        self.boot_problem: Check | None = None
        """Set when the set-up's BootNotification was never Accepted: every case FAILS with it."""
        self._configuration: dict[str, str] = {}
        self._noted: dict[int, int] = {}
        self._security = options.security
        """The run's credentials: a case may connect with others (a security profile 3 case), the
        clean-up comes back to these; a new AuthorizationKey the CSMS set (TC_073) replaces the
        password, since the CSMS refuses the old one from then on (A01.FR.03)."""

    # ------------------------------------------------------------------ lifecycle

    def settings(self) -> ChargePointSettings:
        o = self.options
        data = o.test_data
        return ChargePointSettings(
            cp_id=o.cp_id,
            url=o.url,
            security=o.security,
            connectors=o.connectors,
            vendor=o.vendor,
            model=o.model,
            call_timeout=o.step_timeout,
            connect_timeout=o.connect_timeout,
            max_frame_size=o.max_frame_size,
            serialize_calls=True,  # OCPP-J §4.1.1: at most one outstanding CALL (the heartbeat included)
            validate=True,
            reconnect=False,
            strict=False,
            behaviour=Behaviour(auto_follow_up=False),
            configuration={
                "ConnectionTimeOut": str(max(1, math.ceil(o.connection_timeout))),
                # Room for whatever the CSMS's test data hold (TC_043_x lists, TC_067 stack levels):
                # the Tool must not refuse what the document's Tool accepts.
                "LocalAuthListMaxLength": "10000",
                "SendLocalListMaxLength": "10000",
                "ChargeProfileMaxStackLevel": str(max(10, data.stack_level + 2)),
                "MaxChargingProfilesInstalled": "100",
                # The whitepaper's A02 needs CpoName set before a certificate signing request (TC_074, TC_077).
                "CpoName": data.cpo_name,
            },
            manufacturer_roots=data.manufacturer_root,
        )

    @property
    def charge_point(self) -> Station:
        if self.cp is None:
            raise RuntimeError("Runner.setup() first")
        return self.cp

    def setup(self) -> None:
        """Connect, boot (the Booted state), probe. Raises :class:`ConnectionFailed`."""
        self.cp = Station(self.settings(), sink=self.invalid, wire_log=self.tap)
        self.cp.observers.append(self._observe)
        self.tap.switch(self.result.setup_wire)
        self.invalid.switch(self.result.invalid_frames)
        started = time.perf_counter()
        deadline = time.monotonic() + self.options.connect_timeout
        try:
            try:
                self.cp.connect()
            except TransportError as exc:
                raise ConnectionFailed(f"cannot connect to {redact_url(self.cp.url)}: {self._explain(exc)}") from None
            except OSError as exc:  # a TLS file the ssl module cannot load (ssl.SSLError is an OSError)
                raise ConnectionFailed(f"cannot connect to {redact_url(self.cp.url)}: {exc}") from None
            accepted = self._first_boot(deadline)
            if accepted:
                self._statuses_quietly()
        finally:
            self.result.setup_duration = time.perf_counter() - started
        if accepted:
            self._probe()
        self._note_invalid_frames(self.result.invalid_frames, self.result.notes, "during the set-up and probe")
        self._declare_profiles()
        self._configuration = {name: key.value for name, key in self.cp.configuration.keys.items()}
        # A charger keeps heartbeating (every HeartbeatInterval from the BootNotification.conf), so
        # a CSMS does not drop it while an operator takes time over a prompt; never ahead of a boot.
        self.heartbeats = Heartbeats(self.cp)
        self.cp.spawn(self.heartbeats.run)
        if self.listener is not None:
            self.listener.support(self.result.support, self.result.probe_duration)
            self.listener.notes(self.result.notes)

    def _explain(self, exc: TransportError) -> str:
        cp = self.charge_point
        return handshake.explain(cp.url, cp.cp_id, self.options.security, self.options.connect_timeout, exc)

    def _first_boot(self, deadline: float) -> bool:
        """BootNotification until Accepted: after a Pending or Rejected one the Tool waits the
        interval the CSMS gave (OCPP 1.6 §4.2) and tries again, while ``--connect-timeout`` lasts.
        No answer at all: :class:`ConnectionFailed`. Never Accepted: :attr:`boot_problem`."""
        started = time.monotonic()
        attempts = 0
        # What is left of --connect-timeout after the handshake, but never less than a step (or
        # the whole connect timeout when that is shorter): a slow TLS handshake must not make a
        # CSMS that answers look silent.
        floor = min(self.options.step_timeout, self.options.connect_timeout)
        while True:
            attempts += 1
            wait_answer = max(floor, deadline - time.monotonic())
            outcome = self._boot_quietly(timeout=wait_answer, note=False)
            if attempts == 1:
                self.result.support["BootNotification"] = probe.from_boot(outcome)
            if isinstance(outcome, (CallTimeout, ConnectionLost)):
                url = redact_url(self.charge_point.url)
                what = (
                    f"did not answer the BootNotification within {round(wait_answer, 1):g} s (--connect-timeout "
                    f"{self.options.connect_timeout:g})"
                    if isinstance(outcome, CallTimeout)
                    else f"closed the connection on the BootNotification ({outcome})"
                )
                raise ConnectionFailed(f"the CSMS at {url} accepted the WebSocket connection but {what}")
            if isinstance(outcome, BaseException):
                actual = f"{outcome} (BootNotification {attempts})"
                interval = None
            else:
                status = outcome.get("status")
                if status == "Accepted":
                    return True
                interval = outcome.get("interval")
                wait = float(interval) if isinstance(interval, int) and interval > 0 else 1.0
                if time.monotonic() + wait < deadline:
                    gevent.sleep(wait)
                    continue
                spent = time.monotonic() - started
                actual = (
                    f"{show_status(status)} ({attempts} BootNotification{'s' if attempts > 1 else ''} in "
                    f"{spent:.1f} s; the last one asked to wait {interval} s, past --connect-timeout)"
                )
            self.boot_problem = Check(
                "setup",
                "BootNotification.conf",
                "status",
                "Accepted (OCTT §1.3: the Charge Point is Accepted by the Central System)",
                actual,
                ok=False,
            )
            self.result.notes.append(
                f"the charge point {self.options.cp_id} was never Accepted: BootNotification answered {actual}; "
                "every case FAILS at set-up (nothing but BootNotification may go out before Accepted, OCPP 1.6 §4.2). "
                "Is the charge point registered in the CSMS?"
            )
            return False

    def _probe(self) -> None:
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

    def _declare_profiles(self) -> None:
        """--profiles, or every profile but those the probe rules out."""
        if self.options.profiles is not None:
            self.declared = frozenset(self.options.profiles) | {CORE}
            self.result.profiles_source = "--profiles"
        else:
            self.ruled_out = probe.ruled_out(self.result.support)
            self.declared = frozenset(p for p in FEATURE_PROFILES if p not in self.ruled_out)
            self.result.profiles_source = "probe" if self.result.probe_duration is not None else "no probe"
        self.result.profiles = [p for p in FEATURE_PROFILES if p in self.declared]

    def _observe(self, call: InboundCall) -> None:
        """The charge point answered a CSMS call. A reservation's expiry is the case's to act on
        (TC_047 waits for it and sends the StatusNotification itself): disarm the charger's timer."""
        if call.action == "ReserveNow":
            for connector in self.charge_point.connectors.values():
                reservation = connector.reservation
                if reservation is not None and reservation.timer is not None:
                    reservation.timer.kill(block=False)
                    reservation.timer = None

    def teardown(self) -> None:
        cp = self.cp
        if cp is not None:
            self.tap.switch(self.result.setup_wire)
            cp.stop(stop_transactions=False, deadline=time.monotonic() + TEARDOWN_GRACE)
        self._note_invalid_frames(self.result.invalid_frames, self.result.notes, "between cases")
        self.result.duration = time.time() - self.result.started

    def _note_invalid_frames(self, frames: list[InvalidFrame], notes: list[str], when: str) -> None:
        """One note per invalid frame not noted yet (their ``to_json`` goes to the JSON report)."""
        noted = self._noted.get(id(frames), 0)
        for frame in frames[noted:]:
            notes.append(frame.note(when))
        self._noted[id(frames)] = len(frames)

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

    def unsupported_required(self, case: type[Case]) -> list[Support]:
        """Actions of the case, of Core or of a declared profile, that the probe found unsupported:
        each one is FAILED (a Central System implements the whole of every profile it declares)."""
        return [
            s
            for a in case.cp_actions
            if probe.profile_of(a) in self.declared
            and (s := self.result.support.get(a)) is not None
            and s.state == probe.UNSUPPORTED
        ]

    def profile_not_declared(self, case: type[Case]) -> NotApplicable | None:
        for profile in (case.profile, *case.also_profiles):
            why = self._undeclared(profile)
            if why is not None:
                return why
        return None

    def _undeclared(self, profile: str) -> NotApplicable | None:
        if profile in self.declared:
            return None
        if self.result.profiles_source == "--profiles":
            listed = ",".join(self.result.profiles)
            return NotApplicable(
                f"the {profile} profile is not declared (--profiles {listed})", Skip.profile, f"{profile} not declared"
            )
        found = self.ruled_out.get(profile)
        why = f"the CSMS does not support {found.action} ({found.detail})" if found else "not declared"
        return NotApplicable(
            f"{why}: the {profile} profile counts as not claimed",
            Skip.profile,
            f"{profile}: the probe found {found.action if found else 'it'} unsupported",
        )

    def applicability(self, case: type[Case]) -> NotApplicable | None:
        """Why the case cannot run (NOT APPLICABLE), or None."""
        undeclared = self.profile_not_declared(case)
        if undeclared is not None:
            return undeclared
        unsupported = [
            (a, s)
            for a in case.cp_actions
            if probe.profile_of(a) not in self.declared
            and (s := self.result.support.get(a)) is not None
            and s.state == probe.UNSUPPORTED
        ]
        if unsupported:
            text = ", ".join(f"{a} ({s.detail})" for a, s in unsupported)
            profiles = sorted({probe.profile_of(a) for a, _ in unsupported})
            return NotApplicable(
                f"the CSMS does not support {text}",
                Skip.profile,
                f"{', '.join(profiles)}: the probe found {', '.join(a for a, _ in unsupported)} unsupported",
            )
        for name in case.preconditions:
            if not self.options.tags.for_precondition(name):
                text = PRECONDITIONS[name]
                return NotApplicable(f"precondition missing: {text}", Skip.tag, option_of(text))
        if case.csms_actions and self.driver is None:
            needs = ", ".join(case.csms_actions)
            return NotApplicable(
                f"needs {needs} from the CSMS; no driver (--trigger-url/--trigger-cmd) and no terminal", Skip.driver
            )
        reason = case.not_applicable(self.options)
        return NotApplicable(reason, Skip.option, reason) if reason else None

    def _skip(self, result: CaseResult, why: NotApplicable) -> None:
        result.verdict, result.reason = Verdict.not_applicable, why.reason
        result.skip_kind, result.skip_detail = why.kind, why.detail

    def run_case(self, case: type[Case]) -> CaseResult:
        result = CaseResult(case.case_id, case.title, case.section, case.profile, started=time.time())
        self.result.cases.append(result)
        undeclared = self.profile_not_declared(case)
        missing = self.unsupported_required(case) if undeclared is None else []
        if missing:
            self._fail_unsupported(result, missing)
            self._report(result)
            return result
        why = self.applicability(case)
        if why is not None:
            self._skip(result, why)
            self._report(result)
            return result
        problem = self.not_ready()
        if problem is not None:
            result.checks.append(problem)
            result.wire.extend(self.result.setup_wire if self.boot_problem is not None else [])
            result.verdict, result.reason = Verdict.failed, _one_line(problem)
            self._report(result)
            return result
        cp = self.charge_point
        self.tap.forget_calls()
        self.tap.switch(result.wire)
        self._note_invalid_frames(self.result.invalid_frames, self.result.notes, "between cases")
        self.invalid.switch(result.invalid_frames)
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
            self._skip(result, exc)
        except DriverError as exc:
            result.verdict, result.reason = Verdict.error, f"driver error: {exc}"
        except HarnessError as exc:
            result.verdict, result.reason = Verdict.error, f"harness fault: {exc}"
        except _CaseTimeout:
            result.verdict = Verdict.error
            result.reason = f"harness fault: case still running after {self.case_timeout(case):g} s"
        except Exception as exc:
            result.verdict, result.reason = Verdict.error, f"harness fault: {type(exc).__name__}: {exc}"
            result.error_detail = traceback.format_exc()
        finally:
            for trigger in ctx.triggers:
                if trigger.greenlet is not None:
                    trigger.greenlet.join(timeout=0.5)
                    trigger.greenlet.kill(block=False)
            if self.after_case is not None:
                self.after_case(case.case_id)
            self._note_invalid_frames(result.invalid_frames, result.notes, "during the case")
            self.tap.switch(result.cleanup_wire)
            cleanup = time.perf_counter()
            try:
                self.restore(result)
            finally:
                now = time.perf_counter()
                result.cleanup_duration = now - cleanup
                result.duration = now - started  # the clean-up's waits count too
                self.tap.switch(self.result.setup_wire)
                self._note_invalid_frames(result.invalid_frames, result.notes, "during the clean-up")
                self.invalid.switch(self.result.invalid_frames)
        self._report(result)
        return result

    def not_ready(self) -> Check | None:
        """§1.3 does not hold (the charge point is not connected and Accepted): a failed check."""
        if self.boot_problem is not None:
            return self.boot_problem
        cp = self.charge_point
        if cp.connected and cp.registration == "Accepted":
            return None
        actual = (
            f"not connected: {cp.last_error or 'the connection was lost'}"
            if not cp.connected
            else f"the last BootNotification was answered {cp.registration}"
        )
        return Check(
            "setup",
            "BootNotification.conf",
            "status",
            "the Charge Point connected and Accepted (OCTT §1.3)",
            actual,
            ok=False,
        )

    def _fail_unsupported(self, result: CaseResult, missing: list[Support]) -> None:
        for support in missing:
            action = support.action
            profile = probe.profile_of(action)
            label = f"{profile} profile" if profile == CORE else f"{profile} profile, declared"
            result.checks.append(
                Check("probe", f"{action}.conf", "", f"{action} supported ({label})", support.detail, ok=False)
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

    def _boot_quietly(self, timeout: float | None = None, note: bool = True) -> dict[str, Any] | BaseException:
        payload = {"chargePointVendor": self.options.vendor[:20], "chargePointModel": self.options.model[:20]}
        cp = self.charge_point
        try:
            answer = cp.call("BootNotification", payload, timeout=timeout or self.options.step_timeout)
        except VolatileOcppError as exc:
            if note:
                self.result.notes.append(f"BootNotification failed: {exc}")
            cp.registration = None
            return exc
        cp.registration = answer.get("status")
        interval = answer.get("interval")
        if answer.get("status") == "Accepted" and isinstance(interval, int) and interval > 0:
            cp.configuration.set_internal("HeartbeatInterval", str(interval))
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
            self._reset_model()
            self._restore(result)
        finally:
            self._release_heartbeats()

    def _reset_model(self) -> None:
        """What a case may have changed in the charge point, back as it was (OCTT §1.3): scripted
        answers, reservations and their timers, charging profiles, the local list, the
        authorization cache, availability, configuration keys, firmware and diagnostics state."""
        cp = self.charge_point
        cp.settings.behaviour.answers.clear()
        for connector in cp.connectors.values():
            reservation, connector.reservation = connector.reservation, None
            if reservation is not None and reservation.timer is not None:
                reservation.timer.kill(block=False)
            connector.operative = True
            connector.scheduled_operative = None
            connector.stop_reason = None
            connector.stop_event.clear()
            connector.meter.limit_w = None
        cp.state.profiles.by_connector.clear()
        cp.state.profiles.tx_start.clear()
        cp.state.local_list.entries.clear()
        cp.state.local_list.version = 0
        cp.state.auth_cache.clear()
        cp.state.firmware_status = "Idle"
        cp.state.diagnostics_status = "Idle"
        cp.state.signed_firmware_status = cp.state.signed_firmware_request = None
        cp.state.log_status = cp.state.log_request = None
        self._restore_credentials()
        for name, value in self._configuration.items():
            key = cp.configuration.keys.get(name)
            if key is not None and key.value != value:
                cp.configuration.set_internal(name, value)

    def _restore_credentials(self) -> None:
        """The run's credentials for the next connection (a case may have switched to others, or the
        CSMS installed roots the charger then trusts); when the current connection was made with
        another security profile or client certificate, it is closed so that the clean-up
        reconnects (and boots) with the run's."""
        cp = self.charge_point
        link = cp.link
        current = link.security
        if current.password is not None and current.password != self._security.password and current.profile in (1, 2):
            self._security = replace(self._security, password=current.password)  # TC_073's new AuthorizationKey
        other = (
            current.profile != self._security.profile
            or current.identity is not self._security.identity
            or current.client_cert != self._security.client_cert
            or link.base_url != self.options.url
        )
        link.use(self._security, self.options.url)
        if other and cp.connected:
            cp.close()

    def _first_password_again(self, exc: TransportError, notes: list[str]) -> bool:
        """A CSMS that set a new AuthorizationKey but refuses it (TC_073 FAILED) may still take the
        run's password: the clean-up tries it, so that the cases after it do not fail for that."""
        first = self.options.security.password
        if not isinstance(exc, AuthenticationFailed) or not first or self._security.password == first:
            return False
        link = self.charge_point.link
        link.use(replace(self._security, password=first))
        try:
            self._reconnect()
        except TransportError:
            link.use(self._security)
            return False
        self._security = link.security
        notes.append("clean-up: the CSMS refused the new AuthorizationKey; the run's own password connected again")
        return True

    def _deliver_security_events(self, notes: list[str]) -> None:
        """Security events a handler queued during the case go out now, in the clean-up (A04.FR.02:
        guaranteed delivery), not in the next case's wire log."""
        cp = self.charge_point
        events = cp.security_events
        if not events.queued:
            return
        events.flush()
        deadline = time.monotonic() + self.options.step_timeout
        while events.queued and cp.connected and time.monotonic() < deadline:
            gevent.sleep(0.02)
        if events.queued:
            notes.append(f"clean-up: {events.queued} security event notification(s) not delivered")

    def _restore(self, result: CaseResult) -> None:
        cp = self.charge_point
        notes = result.notes
        if self.boot_problem is not None:
            return  # never Accepted: nothing but BootNotification may go out
        rebooted = False
        if not cp.connected and cp.reconnecting:
            # The charger's own reconnect (after a renewed connection failed, e.g. TC_074's) first.
            cp.wait_connected(self.options.connect_timeout)
        if not cp.connected:
            try:
                self._reconnect()
            except TransportError as exc:
                if not self._first_password_again(exc, notes):
                    notes.append(f"clean-up: reconnect failed: {exc.reason}")
                    return
            rebooted = True
        if rebooted or cp.registration != "Accepted":
            self._boot_quietly()
            if cp.registration != "Accepted":
                notes.append(f"clean-up: the BootNotification was answered {cp.registration}, not Accepted")
                return
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
        self._deliver_security_events(notes)
        self.tap.forget_calls()


def show_status(status: object) -> str:
    return status if isinstance(status, str) else repr(status)


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
