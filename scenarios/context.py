"""What a case sees: the charge point, the checks, the CSMS's requests, the reusable states.

Every message the Tool sends goes through :meth:`Context.send`, which validates our own payload
first (an invalid one is a harness fault, ERROR) and turns whatever goes wrong with the CSMS's
answer (CALLERROR, schema violation, invalid frame, no answer within the step timeout, the
connection dropped) into a recorded failed check: FAILED with expected and actual.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, NoReturn, TypeVar

import gevent

from ocpp_users.ocppj.errors import (
    CallTimeout,
    ConnectionLost,
    FrameError,
    OcppCallError,
    SchemaViolation,
    TransportError,
    VolatileOcppError,
)
from ocpp_users.v16.protocol import SCHEMAS
from ocpp_users.v16.state.status import ChargePointStatus
from ocpp_users.v16.station import Station
from scenarios.base import PRECONDITIONS
from scenarios.drivers import Driver, Trigger, describe
from scenarios.heartbeat import Heartbeats
from scenarios.options import RunOptions, Tags
from scenarios.results import (
    CaseResult,
    Check,
    CheckFailed,
    DriverError,
    HarnessError,
    NotApplicable,
    Skip,
    is_missing,
    lookup,
    show,
)
from scenarios.wire import InboundCall, WireTap

T = TypeVar("T")
U = TypeVar("U")

DRIVER_GRACE = 0.2
"""Seconds a case still waits for a request after its driver reported a failure."""


def _state_step(at: object, state: str, number: int) -> str:
    """A reusable state's step: "Charging 3", or "5 (Charging 3)" when the case's step 5 runs it."""
    return f"{state} {number}" if at is None else f"{at} ({state} {number})"


def option_of(text: str) -> str:
    """``--expired-tag`` from "an idTag with status Expired in the CSMS (--expired-tag)"."""
    return text[text.rfind("(") + 1 : -1] if text.endswith(")") and "(" in text else text


def response_step(step: object) -> str:
    """The step of the answer to a request: 4 for 3, "Charging 4" for "Charging 3"."""
    text = str(step)
    head, _, last = text.rpartition(" ")
    if last.isdigit():
        return f"{head} {int(last) + 1}".strip()
    return text


def casefold(value: Any) -> Any:
    """Strings (also inside lists) folded for a case-insensitive comparison (OCPP CiString)."""
    if isinstance(value, str):
        return value.casefold()
    if isinstance(value, list):
        return [casefold(v) for v in value]
    return value


def timestamp(at: float | None = None) -> str:
    """RFC 3339 UTC with milliseconds (``at`` = epoch seconds, default now)."""
    moment = datetime.now(UTC) if at is None else datetime.fromtimestamp(at, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Exchange:
    """One Tool-initiated call: what we sent and what the CSMS answered."""

    action: str
    request: dict[str, Any]
    response: dict[str, Any]


class Context:
    """Handed to :meth:`scenarios.base.Case.run`; one per case run."""

    def __init__(
        self,
        cp: Station,
        options: RunOptions,
        tap: WireTap,
        result: CaseResult,
        driver: Driver | None,
        reconnect: Callable[[], None],
        heartbeats: Heartbeats | None = None,
    ) -> None:
        self.cp = cp
        self.options = options
        self.tags: Tags = options.tags
        self.connector_id = options.connector_id
        self.tap = tap
        self.result = result
        self.driver = driver
        self.triggers: list[Trigger] = []
        self.transaction_id: int | None = None
        """The transaction of the Charging state (its StartTransaction.conf)."""
        self._reconnect = reconnect
        self.heartbeats = heartbeats
        """The run's heartbeat: held while the charge point is (re)connecting and booting."""

    # ------------------------------------------------------------------ checks

    def record(self, check: Check, soft: bool = False) -> Check:
        self.result.checks.append(check)
        if not check.ok and not soft:
            if check.side == "tool":
                raise HarnessError(
                    f"step {check.step}: our own {check.message} broke the document: expected "
                    f"{check.expected_text}, actual {check.actual}"
                )
            raise CheckFailed(check)
        return check

    def fail(self, step: object, message: str, expected: str, actual: str, field: str = "") -> NoReturn:
        """Record a failed check on the CSMS and end the case FAILED."""
        check = Check(str(step), message, field, expected, actual, ok=False)
        self.result.checks.append(check)
        raise CheckFailed(check)

    def expect(self, field: str, expected: Any, payload: Any, *, step: object, message: str, soft: bool = False) -> Any:
        """The CSMS's ``message`` must carry ``expected`` at ``field`` (else FAILED, or recorded if soft)."""
        actual = lookup(payload, field)
        ok = not is_missing(actual) and actual == expected
        self.record(Check(str(step), message, field, show(expected), show(actual), ok), soft=soft)
        return actual

    def expect_ci(
        self, field: str, expected: Any, payload: Any, *, step: object, message: str, own: bool = False
    ) -> Any:
        """As :meth:`expect` (or :meth:`expect_own`), for a CiString (a configuration key): compared
        case-insensitively, reported as sent."""
        actual = lookup(payload, field)
        ok = not is_missing(actual) and casefold(actual) == casefold(expected)
        self.record(Check(str(step), message, field, show(expected), show(actual), ok, side="tool" if own else "csms"))
        return actual

    def expect_in(
        self,
        field: str,
        allowed: Iterable[Any],
        payload: Any,
        *,
        step: object,
        message: str,
        warn: dict[Any, str] | None = None,
    ) -> Any:
        """``field`` must be one of ``allowed``; values in ``warn`` pass with that warning."""
        allowed = list(allowed)
        warn = warn or {}
        actual = lookup(payload, field)
        ok = not is_missing(actual) and (actual in allowed or actual in warn)
        warning = warn.get(actual) if ok and actual not in allowed else None
        expected = " OR ".join(show(a) for a in allowed)
        self.record(Check(str(step), message, field, expected, show(actual), ok, warning=warning))
        if warning:
            self.note(f"step {step}: {warning}")
        return actual

    def expect_present(self, field: str, payload: Any, *, step: object, message: str, what: str = "present") -> Any:
        """``field`` must be in the CSMS's ``message`` ("<Not omitted>")."""
        actual = lookup(payload, field)
        self.record(Check(str(step), message, field, what, show(actual), not is_missing(actual)))
        return actual

    def expect_absent(self, field: str, payload: Any, *, step: object, message: str) -> None:
        """``field`` must not be in the CSMS's ``message`` ("should be omitted")."""
        actual = lookup(payload, field)
        self.record(Check(str(step), message, field, "omitted", show(actual), is_missing(actual)))

    def expect_that(self, field: str, ok: bool, payload: Any, *, step: object, message: str, expected: str) -> Any:
        """A check on the CSMS's ``message`` that is not an equality ("does not equal 0", "matches
        step 1"): ``expected`` says what the document asks, the actual value is reported as sent."""
        actual = lookup(payload, field)
        self.record(Check(str(step), message, field, expected, show(actual), ok and not is_missing(actual)))
        return actual

    def expect_own(self, field: str, expected: Any, payload: Any, *, step: object, message: str) -> None:
        """A check on the Tool's own message (the document's left column); a mismatch is ERROR."""
        actual = lookup(payload, field)
        ok = not is_missing(actual) and actual == expected
        self.record(Check(str(step), message, field, show(expected), show(actual), ok, side="tool"))

    def note(self, text: str) -> None:
        self.result.notes.append(text)

    # ------------------------------------------------------------------ Tool -> CSMS

    @property
    def step_timeout(self) -> float:
        return self.options.step_timeout

    def send(self, action: str, payload: dict[str, Any], *, step: object) -> dict[str, Any]:
        """Send a CALL; return the CSMS's CALLRESULT payload, or end the case FAILED."""
        try:
            SCHEMAS.validate_request(action, payload)
        except SchemaViolation as exc:
            raise HarnessError(f"step {step}: our own {action}.req is invalid: {exc.reason}") from None
        conf = f"{action}.conf"
        timeout = self.step_timeout
        step = response_step(step)
        try:
            answer = self.cp.call(action, payload, timeout=timeout)
        except SchemaViolation as exc:
            got = f"; payload {show(exc.payload)}" if exc.payload is not None else ""
            self.fail(step, conf, f"a schema-valid {conf}", f"{exc.reason}{got}")
        except OcppCallError as exc:
            text = f"CALLERROR {exc.code}" + (f": {exc.description}" if exc.description else "")
            self.fail(step, conf, f"{conf} (a CALLRESULT)", text)
        except CallTimeout:
            self.fail(step, conf, conf, f"no answer within {timeout:g} s")
        except FrameError as exc:
            self.fail(step, conf, conf, f"invalid frame: {exc.reason}")
        except ConnectionLost as exc:
            self.fail(step, conf, conf, exc.reason)
        except VolatileOcppError as exc:
            self.fail(step, conf, conf, exc.reason)
        self.record(Check(step, conf, "", f"a schema-valid {conf}", show(answer), True))
        return answer

    def exchange(self, action: str, payload: dict[str, Any], *, step: object) -> Exchange:
        return Exchange(action, payload, self.send(action, payload, step=step))

    def boot(self, *, step: object) -> Exchange:
        """BootNotification.req with <Configured Vendor Name> and <Configured Model>."""
        payload = {"chargePointVendor": self.options.vendor[:20], "chargePointModel": self.options.model[:20]}
        ex = self.exchange("BootNotification", payload, step=step)
        self.cp.registration = ex.response.get("status")
        interval = ex.response.get("interval")
        if self.cp.registration == "Accepted" and isinstance(interval, int) and interval > 0:
            self.cp.configuration.set_internal("HeartbeatInterval", str(interval))
        if self.cp.registration == "Accepted" and self.heartbeats is not None:
            self.heartbeats.release()
        return ex

    def status(self, connector_id: int, status: str, *, step: object, error_code: str = "NoError") -> Exchange:
        payload = {
            "connectorId": connector_id,
            "errorCode": error_code,
            "status": status,
            "timestamp": timestamp(),
        }
        connector = self.cp.connectors[connector_id]
        connector.status = ChargePointStatus(status)
        connector.error_code = error_code
        return self.exchange("StatusNotification", payload, step=step)

    def statuses(
        self, *, step: object, special: dict[int, str] | None = None, skip: Iterable[int] = ()
    ) -> list[Exchange]:
        """ "[Send per connector and connectorId=0.]": connector 0 first, then 1..N (but ``skip``)."""
        special = special or {}
        skipped = set(skip)
        return [
            self.status(cid, special.get(cid, "Available"), step=step)
            for cid in sorted(self.cp.connectors)
            if cid not in skipped
        ]

    def authorize(self, id_tag: str, *, step: object) -> Exchange:
        return self.exchange("Authorize", {"idTag": id_tag}, step=step)

    def heartbeat(self, *, step: object) -> Exchange:
        return self.exchange("Heartbeat", {}, step=step)

    def start_transaction(
        self,
        connector_id: int,
        id_tag: str,
        *,
        step: object,
        at: float | None = None,
        meter_start: int | None = None,
        reservation_id: int | None = None,
    ) -> Exchange:
        """StartTransaction.req; ``at``/``meter_start`` date it (e.g. in an offline period);
        ``reservation_id`` names the reservation it uses (which then ends)."""
        connector = self.cp.connectors[connector_id]
        reading = connector.meter.start()
        payload: dict[str, Any] = {
            "connectorId": connector_id,
            "idTag": id_tag,
            "meterStart": reading if meter_start is None else meter_start,
            "timestamp": timestamp(at),
        }
        if reservation_id is not None:
            payload["reservationId"] = reservation_id
            self.end_reservations()
        ex = self.exchange("StartTransaction", payload, step=step)
        tx = ex.response.get("transactionId")
        connector.transaction_id = tx if isinstance(tx, int) else None
        connector.id_tag = id_tag
        return ex

    def stop_transaction(
        self,
        connector_id: int,
        reason: str,
        *,
        step: object,
        at: float | None = None,
        transaction_id: int | None = None,
        meter_stop: int | None = None,
        id_tag: str | None = None,
    ) -> Exchange:
        """StopTransaction.req; ``at``/``meter_stop`` date it (e.g. before a power loss). The idTag
        "which requested to stop the charging" is sent for a Local stop only: the driver's, or
        ``id_tag`` (another card of the same group, TC_053)."""
        connector = self.cp.connectors[connector_id]
        tx = transaction_id if transaction_id is not None else connector.transaction_id
        if tx is None:
            raise HarnessError(f"step {step}: no transaction to stop on connector {connector_id}")
        reading = connector.meter.stop()
        payload: dict[str, Any] = {
            "transactionId": tx,
            "meterStop": reading if meter_stop is None else meter_stop,
            "timestamp": timestamp(at),
            "reason": reason,
        }
        stopper = id_tag or connector.id_tag
        if stopper and reason == "Local":
            payload["idTag"] = stopper
        connector.transaction_id = None
        connector.id_tag = None
        return self.exchange("StopTransaction", payload, step=step)

    def either_order(self, first: Callable[[], T], second: Callable[[], U]) -> tuple[T, U]:
        """Two messages §1.2 lets the Tool swap (StatusNotification(Charging) and StartTransaction;
        StatusNotification(Finishing) and StopTransaction): the document's order, or the other one
        with ``--swap-order``. Returns the outcomes in the document's order either way."""
        if self.options.swap_order:
            later = second()
            return first(), later
        earlier = first()
        return earlier, second()

    # ------------------------------------------------------------------ connectivity

    def disconnect(self, clean: bool = True) -> None:
        """Close the connection (clean) or cut it like a power or network loss would. The heartbeat
        stays held until a BootNotification is Accepted (or the case is over)."""
        self.hold_heartbeats()
        if clean:
            self.cp.close()
        else:
            self.cp.drop()

    def hold_heartbeats(self) -> None:
        if self.heartbeats is not None:
            self.heartbeats.hold()

    def connect(self, *, step: object, expected: str = "the CSMS accepts the connection (HTTP 101, ocpp1.6)") -> None:
        """Open a new WebSocket connection; a refused one is FAILED (``expected`` says what the
        document asks)."""
        self.hold_heartbeats()
        try:
            self._reconnect()
        except TransportError as exc:
            self.fail(step, "WebSocket connection", expected, exc.reason)

    def use_client_certificate(self, *, step: object) -> None:
        """Security profile 3 for this case: when the run uses profile 2 and has a client
        certificate too (``--client-cert`` beside ``--basic-auth-password``: a CSMS that serves both
        profiles to this charge point, A00.FR.006), the Tool reconnects with the certificate, boots
        (the general pre-condition: Accepted, OCTT §1.3) and goes on; the runner's clean-up comes
        back to the run's profile."""
        link = self.cp.link
        if link.security.profile == 3:
            return
        self.disconnect(clean=True)
        link.use(replace(link.security, profile=3))
        self.connect(step=step)
        boot = self.boot(step=step)
        self.expect("status", "Accepted", boot.response, step=step, message="BootNotification.conf")

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            gevent.sleep(seconds)

    # ------------------------------------------------------------------ CSMS -> Tool

    def answer(self, action: str, status: str) -> None:
        """Answer the CSMS's ``action`` with this status (the runner clears it after the case)."""
        self.cp.settings.behaviour.answers[action] = status

    def trigger(self, action: str, payload: dict[str, Any]) -> Trigger:
        """Ask the driver (or the operator) to make the CSMS send ``action`` with ``payload``."""
        if self.driver is None:
            raise NotApplicable(f"needs {action} from the CSMS; no driver and no terminal", Skip.driver)
        trigger = self.driver.request(self.cp.cp_id, action, payload, self.tap)
        self.triggers.append(trigger)
        return trigger

    def wait_for_call(self, action: str, timeout: float | None = None, since: float = 0.0) -> InboundCall | None:
        """The CSMS's next ``action`` CALL (received at or after ``since``), or None after the timeout."""
        return self.tap.wait_for(action, self.step_timeout if timeout is None else timeout, since)

    def csms_call(
        self,
        action: str,
        payload: dict[str, Any],
        *,
        step: object,
        answer: str | None = None,
    ) -> InboundCall:
        """Make the CSMS send ``action`` and wait for it: "The Central System sends a X.req".

        Returns the request as received, once our answer is on the wire. No request within the
        step timeout, or a schema-invalid one, is FAILED.
        """
        if answer is not None:
            self.answer(action, answer)
        since = time.time()
        trigger = self.trigger(action, payload)
        timeout = self.step_timeout
        call = self.tap.wait_for(action, timeout, since, give_up=lambda: trigger.failed)
        if call is None and trigger.failed:
            # The request may still be on its way (an API that failed after sending it): a moment.
            call = self.tap.wait_for(action, DRIVER_GRACE, since)
        req = f"{action}.req"
        if call is None and trigger.failed:
            driver = self.driver.name if self.driver is not None else "driver"
            raise DriverError(
                f"step {step}: the {driver} driver could not make the CSMS send {req}: {trigger.summary()}"
            )
        if call is None:
            gevent.sleep(0)
            self.fail(
                step,
                req,
                f"{req} from the CSMS ({describe(action, payload)})",
                f"none within {timeout:g} s (trigger: {trigger.summary()})",
            )
        return self._received(call, step)

    def await_call(self, action: str, *, step: object, since: float, what: str) -> InboundCall:
        """A request the CSMS sends by itself, not at the Tool's request (the CertificateSigned.req
        that follows an accepted SignCertificate.req): received at or after ``since`` within the
        step timeout, schema-valid, and answered; ``what`` says what the document expects."""
        call = self.tap.wait_for(action, self.step_timeout, since)
        if call is None:
            gevent.sleep(0)
            self.fail(step, f"{action}.req", what, f"none within {self.step_timeout:g} s")
        return self._received(call, step)

    def _received(self, call: InboundCall, step: object) -> InboundCall:
        """A request from the CSMS: schema-valid (else FAILED), recorded, and answered by the Tool."""
        action = call.action
        req = f"{action}.req"
        try:
            SCHEMAS.validate_request(action, call.payload)
        except SchemaViolation as exc:
            self.fail(step, req, f"a schema-valid {req}", f"{exc.reason}; payload {show(call.payload)}")
        self.record(Check(str(step), req, "", f"{req} from the CSMS", f"received {show(call.payload)}", True))
        if not call.answered.is_set():
            if not self.cp.connected:
                self.fail(
                    response_step(step),
                    f"{action}.conf",
                    "the connection to stay open for the Tool's answer",
                    f"the CSMS closed it: {self.cp.last_error or 'connection lost'}",
                )
            raise HarnessError(f"step {step}: the Tool did not answer the {req}")
        return call

    def charger_answer(
        self,
        call: InboundCall,
        expected: Any,
        *,
        step: object,
        field: str,
        wanted: str,
        answer_field: str = "status",
    ) -> Any:
        """The charge point answered the CSMS's request from its real state (its own handler, as a
        charger would), and the document expects ``expected`` at ``answer_field`` of the answer.

        When it answered otherwise, the CSMS asked for something a real charger refuses (a
        transaction it does not run, a connector it does not have): FAILED at the request's
        ``step``, naming the request's ``field`` (``wanted`` says what the charger could accept)
        and the charger's answer. Returns the answer's value."""
        answer = call.answer if call.answer is not None else {}
        got = lookup(answer, answer_field)
        if call.error is None and not is_missing(got) and got == expected:
            conf = f"{call.action}.conf"
            self.record(Check(response_step(step), conf, answer_field, show(expected), show(got), True, side="tool"))
            return got
        said = f"CALLERROR {call.error}" if call.error is not None else f"{answer_field} {show(got)}"
        value = show(lookup(call.payload, field)) if field else show(call.payload)
        self.fail(
            step,
            f"{call.action}.req",
            wanted,
            f"{value} (the charge point answered {said}, not {show(expected)})",
            field=field,
        )

    @property
    def connector_range(self) -> str:
        """The connector ids of the charge point, as text: "1" or "1..3"."""
        top = max(self.cp.connectors)
        return "1" if top == 1 else f"1..{top}"

    def remote_start_accepted(self, call: InboundCall, *, step: object) -> tuple[int, str]:
        """RemoteStartTransaction.conf Accepted, as a charger answers it: for a connector it has
        (not 0) that is free or plugged in, or none named. Returns :meth:`remote_start_target`."""
        wanted = f"a connector the charge point has, not 0 ({self.connector_range}; <Configured ConnectorId> is "
        self.charger_answer(call, "Accepted", step=step, field="connectorId", wanted=wanted + f"{self.connector_id})")
        return self.remote_start_target(call)

    def remote_start_target(self, call: InboundCall) -> tuple[int, str]:
        """Connector and idTag of an Accepted RemoteStartTransaction.req: its idTag is the one the
        Tool then presents; its connectorId, or <Configured ConnectorId> when it names none (the
        connector where the EV is, or will be, plugged in)."""
        requested = call.payload.get("connectorId")
        connector = requested if isinstance(requested, int) and requested in self.cp.connectors else self.connector_id
        return connector, call.payload["idTag"]

    def end_reservations(self) -> None:
        """The charge point's reservations end (a transaction used one, or it expired, or was
        cancelled); the StatusNotification that says so is the case's to send."""
        for connector in self.cp.connectors.values():
            reservation = connector.reservation
            if reservation is not None and reservation.timer is not None:
                reservation.timer.kill(block=False)
            connector.reservation = None

    # ------------------------------------------------------------------ reusable states (§3.22)

    def booted(self) -> Exchange:
        """Reusable state Booted: BootNotification (Accepted), then Available per connector and 0."""
        ex = self.boot(step="Booted 1")
        self.expect("status", "Accepted", ex.response, step="Booted 2", message="BootNotification.conf")
        self.statuses(step="Booted 3")
        return ex

    def authorized(self, id_tag: str | None = None, at: object = None) -> Exchange:
        """Reusable state Authorized: Authorize.req with <Configured Valid IdTag>, Accepted."""
        tag = id_tag or self.valid_tag
        ex = self.authorize(tag, step=_state_step(at, "Authorized", 1))
        self.expect(
            "idTagInfo.status", "Accepted", ex.response, step=_state_step(at, "Authorized", 2), message="Authorize.conf"
        )
        return ex

    def charging(self, at: object = None, reservation_id: int | None = None) -> int | None:
        """Reusable state Charging: Authorized, Preparing, StartTransaction (Accepted), Charging.

        ``at``: the case's step that executes the state (its checks read "5 (Charging 4)");
        ``reservation_id``: the reservation the transaction uses (sent in StartTransaction.req).
        Returns the transactionId of the StartTransaction.conf ("the transaction").
        """
        self.authorized(at=at)
        cid = self.connector_id
        self.status(cid, "Preparing", step=_state_step(at, "Charging", 1))

        def start() -> None:
            ex = self.start_transaction(
                cid, self.valid_tag, step=_state_step(at, "Charging", 3), reservation_id=reservation_id
            )
            self.expect(
                "idTagInfo.status",
                "Accepted",
                ex.response,
                step=_state_step(at, "Charging", 4),
                message="StartTransaction.conf",
            )

        self.either_order(start, lambda: self.status(cid, "Charging", step=_state_step(at, "Charging", 5)))
        self.transaction_id = self.cp.connectors[cid].transaction_id
        return self.transaction_id

    def reboot(
        self, first_step: int, special: dict[int, str] | None = None, clean: bool = True, skip: Iterable[int] = ()
    ) -> Exchange:
        """The Tool restarts (reset: ``clean``; power loss: the connection is cut), reconnects and
        boots: BootNotification (step ``first_step``, Accepted at the next step), then a
        StatusNotification per connector and connectorId 0 (Available unless ``special``), except
        for the connectors in ``skip`` (the case sends theirs, e.g. in :meth:`either_order`)."""
        self.disconnect(clean=clean)
        self.sleep(self.options.reboot_delay)
        self.connect(step=first_step)
        boot = self.boot(step=first_step)
        self.expect("status", "Accepted", boot.response, step=first_step + 1, message="BootNotification.conf")
        special = special or {}
        for ex in self.statuses(step=first_step + 2, special=special, skip=skip):
            cid = ex.request["connectorId"]
            self.expect_own(
                "status",
                special.get(cid, "Available"),
                ex.request,
                step=first_step + 2,
                message="StatusNotification.req",
            )
        return boot

    def ensure_booted(self) -> None:
        if self.cp.registration != "Accepted" or not self.cp.connected:
            self.booted()

    def ensure_authorized(self) -> None:
        self.ensure_booted()
        self.authorized()

    def ensure_charging(self) -> int | None:
        self.ensure_booted()
        return self.charging()

    # ------------------------------------------------------------------ preconditions

    @property
    def valid_tag(self) -> str:
        return self._tag("valid_tag")

    def _tag(self, name: str) -> str:
        value = self.tags.for_precondition(name)
        if not value:
            text = PRECONDITIONS.get(name, name)
            raise NotApplicable(f"precondition missing: {text}", Skip.tag, option_of(text))
        return value

    def tag(self, name: str) -> str:
        """The idTag of a declared precondition (``expired_tag``, ``blocked_tag``, ...)."""
        return self._tag(name)

    def now(self) -> float:
        return time.time()
