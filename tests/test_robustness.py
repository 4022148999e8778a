"""The robustness suite against real testbed processes, through the runner's Python API.

The correct testbed gets no FAILED and no CRASHED; every case FAILS against a fault aimed at it
(switched on right before its input, off right after its judgement); every verdict class has a
test against a fault aimed at it: NON-STRICT (another error code), CRASHED (a hung connection, a
process that exits), DEGRADED (a slow-down for everyone), NOT APPLICABLE, ERROR (our own mistake).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ocpp_users.embedded import TestbedProcess
from ocpp_users.ocppj.transport import SecurityConfig
from scenarios.results import CaseResult, RunResult, Verdict
from scenarios.robustness.base import all_cases
from scenarios.robustness.context import RobustContext
from scenarios.robustness.options import DEFAULT_GROUPS, GROUPS, Bounds
from scenarios.robustness.runner import RobustRunner
from scenarios.robustness.shapes import OCCURRENCE, CallCase
from tests.certs import make_pki
from tests.robust_helpers import PASSWORD, options_for, run


@pytest.fixture(scope="module")
def secured_testbed() -> Iterator[TestbedProcess]:
    """One testbed with Basic auth (so the credential cases run) for the module."""
    env = dict(os.environ, TESTBED_BASIC_AUTH_PASSWORD=PASSWORD)
    proc = TestbedProcess(["--port", "0", "-q", "--heartbeat-interval", "60"], env=env)
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def testbed(secured_testbed: TestbedProcess) -> TestbedProcess:
    status, body = secured_testbed.api("POST", "/reset")
    assert status == 200, body
    return secured_testbed


def verdicts(run_result: RunResult) -> dict[str, Verdict]:
    return {c.case_id: c.verdict for c in run_result.cases}


def check(case: CaseResult, step: str) -> Any:
    return next(c for c in case.checks if c.step == step)


#: What the correct testbed legitimately answers otherwise than the clause asks (each case says why).
TESTBED_NON_STRICT = {
    "frame.invalid_json": "dropped",  # an unreadable frame is ignored, not answered "-1"
    "frame.not_an_array": "dropped",
    "frame.empty_array": "dropped",
    "frame.message_id_number": "dropped",
    "frame.payload_null": "FormationViolation",  # null for {} is refused
    "semantics.connector_past_last": "StatusNotification.conf",  # it learns connectors as they report
    "session.heartbeat_before_boot": "Heartbeat.conf",  # lenient before boot (errata 3.8 RECOMMENDS)
    "session.start_transaction_before_boot": "authorising",
    "session.wrong_subprotocol": "HTTP 400",  # websockets refuses the upgrade
    "session.no_subprotocol": "HTTP 400",
    "session.unknown_charge_point": "Accepted",  # registers charge points as they come
}


def test_the_correct_testbed_gets_no_failed_and_no_crashed(testbed: TestbedProcess) -> None:
    result = run(testbed, groups=DEFAULT_GROUPS)
    got = verdicts(result)
    assert [c.case_id for c in result.cases] == [c.case_id for c in all_cases() if c.group in DEFAULT_GROUPS]
    bad = {
        k: (v, c.reason)
        for c in result.cases
        if (k := c.case_id) and (v := c.verdict) not in (Verdict.passed, Verdict.non_strict, Verdict.not_applicable)
    }
    assert bad == {}
    assert {k for k, v in got.items() if v == Verdict.non_strict} == set(TESTBED_NON_STRICT)
    assert {k for k, v in got.items() if v == Verdict.not_applicable} == {"session.call_while_pending"}
    for case in result.cases:
        if case.verdict == Verdict.non_strict:
            assert TESTBED_NON_STRICT[case.case_id] in check(case, "answer").actual + case.reason, case.case_id
            assert case.reason, case.case_id  # why the other outcome is acceptable
        if case.verdict != Verdict.not_applicable:
            assert check(case, "liveness").ok and check(case, "fleet").ok, case.case_id
            assert case.wire and case.requirement and case.section, case.case_id
    assert result.exit_code == 0
    assert result.details["control_fleet"]["size"] == 2


def test_size_and_abuse_against_the_correct_testbed(testbed: TestbedProcess) -> None:
    """The opt-in groups: frames of 1, 16 and 64 MB, 10,000-deep JSON, 1e308, a flood, a slow
    sender, idle sockets; the testbed survives them all and keeps serving the control fleet."""
    result = run(testbed, groups=("size", "abuse"))
    got = verdicts(result)
    assert set(got) == {c.case_id for c in all_cases() if c.group in ("size", "abuse")}
    assert {k: v for k, v in got.items() if v not in (Verdict.passed, Verdict.non_strict)} == {}
    assert {k for k, v in got.items() if v == Verdict.non_strict} == {"size.nested_10000"}
    by_id = result.by_id()
    assert "the connection closed" in check(by_id["size.frame_64mb"], "answer").actual or "1009" in str(
        by_id["size.frame_64mb"].wire
    )
    assert "200 of 200 Heartbeats answered" in check(by_id["abuse.message_flood"], "answer").actual


#: For every case, a fault that makes the CSMS answer it wrongly (FAILED): bad input accepted as
#: valid, a required answer refused or missing, an answer with a wrong id, or garbage back.
ACCEPT_INVALID_FRAME = {"name": "accept_on", "on": "invalid_frame"}
ACCEPT_SCHEMA_INVALID = {"name": "accept_on", "on": "schema_invalid"}
ACCEPT_SEMANTIC = {"name": "accept_on", "on": "semantic"}
WRONG_ID = {"name": "wrong_message_id"}


def garbage(action: str) -> dict[str, Any]:
    """The answers to ``action`` become a text frame that is not JSON."""
    return {"name": "malformed_frame", "action": action}


def aimed(fault: dict[str, Any], *case_ids: str) -> dict[str, dict[str, Any]]:
    return {case_id: fault for case_id in case_ids}


def group(name: str, *but: str) -> list[str]:
    return [c.case_id for c in all_cases() if c.group == name and c.case_id not in but]


FAILING_FAULTS: dict[str, dict[str, Any]] = {
    **aimed(
        ACCEPT_INVALID_FRAME,
        "frame.invalid_json",
        "frame.not_an_array",
        "frame.empty_array",
        "frame.call_three_elements",
        "frame.call_five_elements",
        "frame.unknown_message_type",
        "frame.message_type_string",
        "frame.message_id_number",
        "frame.message_id_too_long",
        "frame.action_not_string",
        "frame.payload_not_object",
        "frame.binary_frame",
        "size.nested_10000",
    ),
    **aimed(ACCEPT_SCHEMA_INVALID, *group("payload", "payload.timestamp_no_offset")),
    **aimed(
        ACCEPT_SCHEMA_INVALID,
        "size.field_1000x_vendor",
        "size.field_1000x_id_tag",
        "size.field_1000x_vendor_error",
        "size.number_1e308",
        "size.connector_1e308",
    ),
    **aimed({"name": "accept_on", "on": "unknown_action"}, *group("action")),
    **aimed(
        ACCEPT_SEMANTIC,
        "semantics.connector_negative",
        "semantics.connector_zero_transaction",
        "semantics.duplicate_message_id",
        "semantics.callresult_unknown_id",
        "semantics.callerror_unknown_id",
    ),
    "semantics.connector_zero_status": {"name": "callerror", "action": "StatusNotification", "code": "InternalError"},
    **aimed(
        {"name": "callerror", "action": "StopTransaction", "code": "InternalError"},
        "semantics.stop_unknown_transaction",
        "semantics.stop_twice",
        "semantics.meter_stop_below_start",
    ),
    "semantics.start_twice": {
        "name": "override_response",
        "action": "StartTransaction",
        "payload": {"transactionId": 7},
    },
    "semantics.meter_values_unknown_transaction": {"name": "no_answer", "action": "MeterValues"},
    **aimed(
        garbage("Heartbeat"),
        "frame.payload_null",
        "frame.fragmented",
        "semantics.reused_message_id",
        "session.heartbeat_before_boot",
        "session.call_while_pending",
        "session.second_connection",
    ),
    **aimed(garbage("StatusNotification"), "payload.timestamp_no_offset", "semantics.connector_past_last"),
    "session.start_transaction_before_boot": garbage("StartTransaction"),
    "session.unknown_charge_point": garbage("BootNotification"),
    "size.frame_1mb": garbage("DataTransfer"),
    **aimed({"name": "refuse_subprotocol"}, "session.wrong_subprotocol", "session.no_subprotocol"),
    **aimed(
        {"name": "accept_any_credentials"},
        "session.wrong_password",
        "session.missing_credentials",
        "session.wrong_user",
    ),
    **aimed(WRONG_ID, "abuse.message_flood", "abuse.slow_sender", "abuse.idle_sockets"),
}
#: Refused by the WebSocket layer before any OCPP code runs (close 1007, 1009): the testbed can make
#: these CRASHED or DEGRADED (below), never answer them, so never FAIL them.
BELOW_OCPP = {"frame.invalid_utf8", "size.frame_16mb", "size.frame_64mb"}


def test_the_fault_table_covers_every_case() -> None:
    assert set(FAILING_FAULTS) | BELOW_OCPP == {c.case_id for c in all_cases()}
    assert not set(FAILING_FAULTS) & BELOW_OCPP


def test_every_case_fails_against_a_fault_aimed_at_it(testbed: TestbedProcess) -> None:
    cases = sorted(FAILING_FAULTS)
    result = run(
        testbed,
        faults=FAILING_FAULTS,
        config={"session.call_while_pending": {"boot_status": "Pending"}},
        only=tuple(cases),
        pending_cp_id="RB-PENDING-" + os.urandom(3).hex(),
        fleet_size=0,  # (garbled answers for everyone would make the cases DEGRADED, rightly)
    )
    got = verdicts(result)
    assert {k: (v, result.by_id()[k].reason) for k, v in got.items() if v != Verdict.failed} == {}
    assert set(got) == set(cases)
    for case in result.cases:
        answer = check(case, "answer")
        assert not answer.ok and answer.expected.startswith("PASSED: "), case.case_id
        assert case.reason and answer.actual in case.reason, case.case_id
        assert check(case, "liveness").ok, case.case_id  # the fault is off again: nothing crashed
    by_id = result.by_id()
    assert by_id["payload.missing_required"].reason.startswith("bad input accepted as valid: CALLRESULT")
    assert by_id["frame.invalid_json"].reason.startswith("an answer with a message id that was never sent")
    assert by_id["frame.fragmented"].reason.startswith("invalid JSON or not OCPP-J back")
    assert "CALLERROR InternalError" in by_id["semantics.stop_unknown_transaction"].reason
    assert by_id["semantics.meter_values_unknown_transaction"].reason.startswith("no answer where one is required")
    assert "HTTP" not in by_id["session.wrong_password"].reason and "let in" in by_id["session.wrong_password"].reason
    assert result.exit_code == 1


def test_another_error_code_is_non_strict(testbed: TestbedProcess) -> None:
    """GenericError instead of the code the 1.6 table names: acceptable, but NON-STRICT, with why."""
    ids = ("payload.number_for_string", "payload.enum_unknown", "action.unknown_action")
    result = run(testbed, faults=aimed({"name": "wrong_error_code"}, *ids), only=ids)
    assert set(verdicts(result).values()) == {Verdict.non_strict}
    case = result.by_id()["payload.number_for_string"]
    assert check(case, "answer").actual.startswith("CALLERROR GenericError")
    assert "PASSED: CALLERROR TypeConstraintViolation" in check(case, "answer").expected
    assert case.reason.startswith("CALLERROR with another code")
    assert result.exit_code == 0


#: One case per group, and the testbed's trigger its input is: the hang test takes four groups, the
#: slow-down test the other three (and the dying-process test frame and size again), so every trigger
#: is proven and each test stays short.
HANG = {
    "frame.invalid_json": "invalid_frame",
    "semantics.stop_unknown_transaction": "semantic",
    "session.second_connection": "session",
    "abuse.message_flood": "abuse",
}
DEGRADE = {
    "payload.missing_required": "schema_invalid",
    "action.unknown_action": "unknown_action",
    "size.field_1000x_vendor": "large",
}


def test_a_connection_that_hangs_is_crashed(testbed: TestbedProcess) -> None:
    """The connection handler stops answering (the socket stays open): the liveness probe on the same
    connection finds it; a new connection still works, so the next cases still run."""
    faults = {case_id: {"name": "hang_on", "on": on} for case_id, on in HANG.items()}
    result = run(testbed, faults=faults, only=tuple(HANG), answer_timeout=1.0)
    assert verdicts(result) == dict.fromkeys(HANG, Verdict.crashed)
    for case in result.cases:
        live = check(case, "liveness")
        assert not live.ok and "same connection (still open): BootNotification not answered" in live.actual
        assert "new connection: answered" in live.actual
        assert case.reason.startswith("CRASHED: "), case.case_id
    assert result.exit_code == 1


@pytest.mark.parametrize(
    ("case_id", "on"),
    [("frame.invalid_json", "invalid_frame"), ("frame.invalid_utf8", "invalid_frame"), ("size.frame_16mb", "large")],
)
def test_a_process_that_dies_is_crashed_and_stops_the_run(case_id: str, on: str) -> None:
    """The CSMS process exits on the input (the two last ones never reach OCPP code: the WebSocket
    layer refuses them, close 1007 and 1009): CRASHED; the cases after it do not run."""
    env = dict(os.environ, TESTBED_BASIC_AUTH_PASSWORD=PASSWORD)
    fault = ["--fault", "crash_on", "--fault-args", f'{{"on": "{on}"}}']
    after = "abuse.slow_sender"  # (runs after any other case)
    with TestbedProcess(["--port", "0", "-q", *fault], env=env) as csms:
        result = run(csms, only=(case_id, after), fleet_size=1)
        assert csms.process is not None and csms.process.wait(5) == 70
    by_id = result.by_id()
    assert by_id[case_id].verdict == Verdict.crashed
    live = check(by_id[case_id], "liveness").actual
    assert "new connection: " in live and "new connection: answered" not in live, live
    assert by_id[after].verdict == Verdict.not_applicable
    assert by_id[after].reason == f"not run: the CSMS stopped answering new connections after {case_id} (CRASHED)"
    assert result.exit_code == 1


def test_a_slow_down_for_everyone_is_degraded(testbed: TestbedProcess) -> None:
    """Every answer to every charge point waits 0.25 s for 2 s once the input arrives (long enough for
    the fleet's fresh round after the liveness probe to fall inside it): the control fleet's p95 breaks
    a 120 ms bound; the case's own answer still comes, the liveness probe still passes."""
    fault = {"delay": 0.25, "duration": 2.0}
    faults = {case_id: {"name": "degrade_on", "on": on, **fault} for case_id, on in DEGRADE.items()}
    bounds = Bounds(max_p95_ms=120.0, max_failure_ratio=0.0)
    result = run(testbed, faults=faults, only=tuple(DEGRADE), bounds=bounds)
    assert {c.case_id: (c.verdict, c.reason) for c in result.cases if c.verdict != Verdict.degraded} == {}
    for case in result.cases:
        fleet = check(case, "fleet")
        assert not fleet.ok and fleet.expected == "p95 <= 120 ms and failure ratio <= 0"
        assert check(case, "liveness").ok and check(case, "answer").ok
        assert case.reason.startswith("DEGRADED: control fleet p95 "), case.reason


def test_not_applicable_and_pending(testbed: TestbedProcess) -> None:
    """The call-while-Pending case needs a charge point the CSMS answers Pending: NOT APPLICABLE
    without one, and runs with one (the testbed answers it leniently: NON-STRICT)."""
    only = ("session.call_while_pending",)
    skipped = run(testbed, only=only, fleet_size=0)
    case = skipped.cases[0]
    assert case.verdict == Verdict.not_applicable and "--pending-cp-id" in case.reason
    ran = run(
        testbed,
        config={only[0]: {"boot_status": "Pending"}},
        only=only,
        pending_cp_id="RB-PENDING-1",
        fleet_size=0,
    )
    assert ran.cases[0].verdict == Verdict.non_strict and "RECOMMENDS SecurityError" in ran.cases[0].reason
    assert "control fleet: off" in " ".join(ran.notes)
    accepted = run(testbed, only=only, pending_cp_id="RB-PENDING-2", fleet_size=0)
    assert accepted.cases[0].verdict == Verdict.not_applicable and "'Accepted', not Pending" in accepted.cases[0].reason


class _WrongSelfCheck(CallCase):
    """A case whose hostile payload is in fact valid: our mistake, caught before it reaches the CSMS."""

    case_id = "payload.self_check_test"
    group = "payload"
    title = "(test)"
    clause = "(test)"
    sends = "Heartbeat {} claimed to break 'required'"
    action = "Heartbeat"
    rule = "required"
    passed = (OCCURRENCE,)

    def payload(self, ctx: RobustContext) -> Any:
        return {}


def test_a_fault_of_ours_is_error_never_failed(testbed: TestbedProcess) -> None:
    runner = RobustRunner(options_for(testbed, fleet_size=0, groups=GROUPS))
    runner.setup()
    try:
        case = runner.run_case(_WrongSelfCheck)
    finally:
        runner.teardown()
    assert case.verdict == Verdict.error
    assert case.reason.startswith("harness fault: the hostile Heartbeat.req payload passes the official schema")
    assert runner.result.exit_code == 1
    messages = testbed.api("GET", f"/cps/{runner.options.cp_id}/messages")[1]["messages"]
    calls = [m["action"] for m in messages if m["direction"] == "in" and m["type"] == 2]
    assert calls and set(calls) == {"BootNotification"}  # the set-up's and the case's own: nothing hostile went out


def test_the_robustness_faults_check_their_arguments(testbed: TestbedProcess) -> None:
    """Through the control API, as every test reaches the testbed."""
    status, body = testbed.api("PUT", "/faults", {"name": "hang_on", "on": "semantic"})
    assert status == 200 and body["active"] == {"name": "hang_on", "on": "semantic", "scope": "connection"}
    for fault, words in [
        ({"name": "crash_on", "on": "everything"}, "on must be one of invalid_frame, schema_invalid"),
        ({"name": "crash_on"}, "argument 'on' is required"),
        ({"name": "hang_on", "on": "abuse", "scope": "some"}, "scope must be one of connection, all"),
        ({"name": "degrade_on", "on": "abuse", "delay": 1e9}, "delay must be between 0 and 600"),
    ]:
        status, body = testbed.api("PUT", "/faults", fault)
        assert status == 400 and words in body["error"], body
    listed = testbed.api("GET", "/faults")[1]["available"]
    assert {"crash_on", "hang_on", "accept_on", "degrade_on"} <= set(listed)
    assert "semantic" in listed["accept_on"] and "large" in listed["crash_on"]


def test_over_tls_with_basic_auth(tmp_path: Path) -> None:
    """Security profile 2 (wss + Basic auth): the raw frames, the subprotocol handshakes and a 1 MB
    frame go through the engine's TLS context; the verdicts are those of the plain connection."""
    pki = make_pki(tmp_path)
    env = dict(os.environ, TESTBED_BASIC_AUTH_PASSWORD=PASSWORD)
    args = ["--port", "0", "-q", "--tls-cert", pki.server_cert, "--tls-key", pki.server_key]
    ids = (
        "frame.invalid_utf8",
        "frame.fragmented",
        "frame.unknown_message_type",
        "semantics.duplicate_message_id",
        "session.wrong_subprotocol",
        "session.wrong_password",
        "size.frame_1mb",
        "abuse.message_flood",
    )
    with TestbedProcess(args, env=env) as csms:
        assert csms.ws_url.startswith("wss://")
        security = SecurityConfig(profile=2, password=PASSWORD, ca_file=pki.ca)
        result = run(csms, only=ids, security=security, fleet_size=1)
    got = verdicts(result)
    assert got == {**dict.fromkeys(ids, Verdict.passed), "session.wrong_subprotocol": Verdict.non_strict}, {
        c.case_id: c.reason for c in result.cases
    }
    assert all(check(c, "liveness").ok and check(c, "fleet").ok for c in result.cases)
