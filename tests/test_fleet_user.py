"""The fleet's ChargePointUser under a real Locust Environment + LocalRunner, against the real
testbed CSMS process: the happy path, the CSMS's calls interleaving with the loops, the testbed's
fault switches, a CSMS restart mid-run, and bad connection input.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from collections.abc import Callable
from typing import Any

import gevent
import pytest
from locust import argument_parser
from locust.env import Environment
from locust.event import Events
from locust.stats import StatsError

from ocpp_users.embedded import TestbedProcess
from ocpp_users.fleet.options import parse_args, register
from ocpp_users.fleet.runtime import Fleet, install
from ocpp_users.fleet.ui import REPORT_KEY, TAB_KEY
from ocpp_users.fleet.users import ChargePointUser
from ocpp_users.ocppj.sink import CP_TO_CSMS, WEBSOCKET

ACTIONS = (
    "BootNotification",
    "StatusNotification",
    "Heartbeat",
    "Authorize",
    "StartTransaction",
    "MeterValues",
    "StopTransaction",
)
FAST = [
    "--heartbeat-interval",
    "1",
    "--meter-interval",
    "1",
    "--idle-duration",
    "0.2-0.5",
    "--session-duration",
    "1.5-2.5",
    "--backoff-max",
    "2",
]


class FleetUser(ChargePointUser):
    """The concrete User the tests run (the locustfile's is the same)."""


def locust_options(argv: list[str]) -> Any:
    """Locust's own options plus the fleet's, as ``locust`` parses them (the web UI needs both)."""
    parser = argument_parser.get_empty_argument_parser()
    argument_parser.setup_parser_arguments(parser)
    register(parser)
    return parser.parse_args(argv)


def fleet_env(host: str | None, argv: list[str], *, web_ui: bool = False) -> Environment:
    events = Events()
    install(events)
    options = locust_options(argv) if web_ui else parse_args(argv)
    env = Environment(user_classes=[FleetUser], events=events, host=host, parsed_options=options)
    runner = env.create_local_runner()
    ui = env.create_web_ui("127.0.0.1", 0, delayed_start=True) if web_ui else None
    events.init.fire(environment=env, runner=runner, web_ui=ui)
    return env


def run_fleet(
    host: str,
    argv: list[str],
    *,
    users: int = 3,
    seconds: float = 6.0,
    during: Callable[[Environment], Any] | None = None,
    web_ui: bool = False,
) -> Environment:
    """Start ``users`` charge points, let them run ``seconds`` (or ``during(env)``), stop them."""
    env = fleet_env(host, argv, web_ui=web_ui)
    assert env.runner is not None
    env.runner.start(users, spawn_rate=users)
    try:
        if during is not None:
            during(env)
        else:
            gevent.sleep(seconds)
    finally:
        env.runner.quit()
    return env


def prefix() -> str:
    return "TF" + uuid.uuid4().hex[:6]


def entry(env: Environment, name: str, method: str = CP_TO_CSMS) -> Any:
    return env.stats.entries.get((name, method))


def errors(env: Environment) -> list[tuple[str, str, str]]:
    """(request_type, name, error as the reports show it) of every failure group."""
    return [(e.method, e.name, StatsError.parse_error(e.error)) for e in env.stats.errors.values()]


def wait_until(predicate: Callable[[], bool], timeout: float, step: float = 0.2) -> bool:
    deadline = gevent.get_hub().loop.now() + timeout
    while gevent.get_hub().loop.now() < deadline:
        if predicate():
            return True
        gevent.sleep(step)
    return predicate()


def assert_grouped_by_reason(env: Environment, cp_prefix: str) -> None:
    """No failure reason names a charge point or carries a message id."""
    for method, name, error in errors(env):
        assert cp_prefix not in error, (method, name, error)
        assert not re.search(r"[0-9a-f]{8}-\d+", error), (method, name, error)


# ---------------------------------------------------------------- happy path


def test_every_action_succeeds(csms: TestbedProcess) -> None:
    p = prefix()
    env = run_fleet(csms.ws_url, [*FAST, "--connectors", "2", "--cp-id-template", p + "-{n}"], users=4, seconds=7)
    for action in ACTIONS:
        stats = entry(env, action)
        assert stats is not None, f"no {action} entry"
        assert stats.num_requests > 0, action
        assert stats.num_failures == 0, (action, errors(env))
    connect = entry(env, "connect", WEBSOCKET)
    assert connect is not None and connect.num_requests == 4 and connect.num_failures == 0
    assert errors(env) == []
    # on_stop ended every transaction with StopTransaction and closed the socket
    status, body = csms.api("GET", "/transactions")
    assert status == 200
    ours = [t for t in body["transactions"] if t["cp_id"].startswith(p)]
    assert ours, body
    assert not any(t["active"] for t in ours), ours  # on_stop sent StopTransaction for running ones
    status, cps = csms.api("GET", "/cps")
    mine = {k: v for k, v in cps["cps"].items() if k.startswith(p)}
    assert len(mine) == 4 and not any(v["connected"] for v in mine.values())


def test_web_ui_tab_and_endpoint(csms: TestbedProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["locust"])  # the web UI re-parses the command line
    p = prefix()
    seen: dict[str, Any] = {}

    def during(env: Environment) -> None:
        assert env.web_ui is not None
        client = env.web_ui.app.test_client()
        assert wait_until(
            lambda: Fleet.of(env).monitor.counts()["booted"] + Fleet.of(env).monitor.counts()["charging"] == 2, 10
        )
        seen["endpoint"] = client.get("/charge-points").get_json()
        seen["stats"] = client.get("/stats/requests").get_json()
        seen["index"] = client.get("/").get_data(as_text=True)

    run_fleet(csms.ws_url, [*FAST, "--cp-id-template", p + "-{n}"], users=2, during=during, web_ui=True)
    counts = seen["endpoint"]["counts"]
    assert counts["total"] == 2 and counts["failed"] == 0
    tab = [e for e in seen["stats"]["extended_stats"] if e["key"] == TAB_KEY]
    assert tab and {row["state"] for row in tab[0]["data"]} >= {"connecting", "booted", "charging", "failed"}
    assert "Charge points" in seen["index"]


def test_worker_counts_reach_the_master_view(csms: TestbedProcess) -> None:
    env = fleet_env(csms.ws_url, FAST)
    monitor = Fleet.of(env).monitor
    data: dict[str, Any] = {}
    env.events.report_to_master.fire(client_id="w1", data=data)
    assert data[REPORT_KEY]["total"] == 0
    env.events.worker_report.fire(client_id="w1", data={REPORT_KEY: {"total": 7, "booted": 5, "failed": 2}})
    env.events.worker_report.fire(client_id="w2", data={REPORT_KEY: {"total": 1, "charging": 1}})
    counts = monitor.counts()
    assert (counts["total"], counts["booted"], counts["charging"], counts["failed"]) == (8, 5, 1, 2)
    assert monitor.summary().startswith("charge points: 8 (")


# ---------------------------------------------------------------- CSMS-initiated calls


def test_csms_calls_interleave_with_the_loops(csms: TestbedProcess) -> None:
    """RemoteStart occupies a connector (the loop leaves it alone), Unavailable connectors are not
    used, RemoteStop ends with reason Remote, ChangeConfiguration applies at once, Reset reboots."""
    p = prefix()
    cp = f"{p}-1"
    results: dict[str, Any] = {}

    def during(env: Environment) -> None:
        assert wait_until(lambda: csms.api("GET", "/cps")[1]["cps"].get(cp, {}).get("booted"), 10)
        call = lambda action, body: csms.api("POST", f"/cps/{cp}/{action}", body)[1]  # noqa: E731
        results["unavailable"] = call("ChangeAvailability", {"connectorId": 2, "type": "Inoperative"})
        results["remote_start"] = call("RemoteStartTransaction", {"connectorId": 1, "idTag": "VOCPP-VALID"})
        results["busy"] = call("RemoteStartTransaction", {"connectorId": 1, "idTag": "VOCPP-VALID"})
        results["heartbeat"] = call("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "1"})
        gevent.sleep(2.5)
        txs = [t for t in csms.api("GET", "/transactions")[1]["transactions"] if t["cp_id"] == cp]
        results["open"] = txs
        tx = txs[0]["id"] if txs else -1
        results["remote_stop"] = call("RemoteStopTransaction", {"transactionId": tx})
        gevent.sleep(1.0)
        results["reset"] = call("Reset", {"type": "Soft"})
        gevent.sleep(3.0)

    # sessions from the loop would start only after 60 s: every session here is the CSMS's
    env = run_fleet(
        csms.ws_url,
        ["--connectors", "2", "--idle-duration", "60", "--cp-id-template", p + "-{n}", "--backoff-max", "2"],
        users=1,
        during=during,
    )
    assert results["unavailable"] == {"result": {"status": "Accepted"}}
    assert results["remote_start"] == {"result": {"status": "Accepted"}}
    assert results["busy"] == {"result": {"status": "Rejected"}}
    assert results["heartbeat"] == {"result": {"status": "Accepted"}}
    assert results["remote_stop"] == {"result": {"status": "Accepted"}}
    assert results["reset"] == {"result": {"status": "Accepted"}}
    assert len(results["open"]) == 1 and results["open"][0]["connector_id"] == 1
    _, messages = csms.api("GET", f"/cps/{cp}/messages")
    sent = [m for m in messages["messages"] if m["direction"] == "in" and m["type"] == 2]
    statuses = [
        (m["payload"]["connectorId"], m["payload"]["status"]) for m in sent if m["action"] == "StatusNotification"
    ]
    assert (2, "Unavailable") in statuses
    assert not any(cid == 2 and s in ("Preparing", "Charging") for cid, s in statuses), statuses
    stops = [m["payload"] for m in sent if m["action"] == "StopTransaction"]
    assert stops and stops[0]["reason"] == "Remote"
    assert sum(1 for m in sent if m["action"] == "BootNotification") == 2  # the Soft reset rebooted it
    assert entry(env, "Heartbeat").num_requests >= 3  # every second after ChangeConfiguration
    for action in ("RemoteStartTransaction", "RemoteStopTransaction", "ChangeAvailability", "Reset"):
        handled = env.stats.entries.get((action, "OCPP CSMS->CP"))
        assert handled is not None and handled.num_requests >= 1, action
    assert errors(env) == []


# ---------------------------------------------------------------- fault switches


def set_fault(csms: TestbedProcess, fault: dict[str, Any]) -> None:
    status, body = csms.api("PUT", "/faults", fault)
    assert status == 200, body


def test_rejected_tags_fail_authorize(csms: TestbedProcess) -> None:
    set_fault(csms, {"name": "reject_all_tags"})
    p = prefix()
    env = run_fleet(csms.ws_url, [*FAST, "--cp-id-template", p + "-{n}"], users=3, seconds=4)
    authorize = entry(env, "Authorize")
    assert authorize.num_failures > 0 and authorize.num_failures == authorize.num_requests
    reasons = {e for m, n, e in errors(env) if n == "Authorize"}
    assert reasons == {"RejectedError('Authorize Invalid')"}
    assert entry(env, "StartTransaction") is None  # no session goes on after a refused Authorize
    assert_grouped_by_reason(env, p)


def test_missing_transaction_id_is_a_schema_violation(csms: TestbedProcess) -> None:
    set_fault(csms, {"name": "omit_transaction_id"})
    p = prefix()
    env = run_fleet(csms.ws_url, [*FAST, "--cp-id-template", p + "-{n}"], users=3, seconds=4)
    start = entry(env, "StartTransaction")
    assert start.num_failures > 0
    reasons = [e for m, n, e in errors(env) if n == "StartTransaction"]
    assert len(reasons) == 1 and "transactionId" in reasons[0] and "SchemaViolation" in reasons[0], reasons
    assert_grouped_by_reason(env, p)


def test_dropped_connection_is_counted_and_reconnected(csms: TestbedProcess) -> None:
    set_fault(csms, {"name": "close_after", "count": 4})
    p = prefix()
    heartbeats_after: dict[str, int] = {}

    def during(env: Environment) -> None:
        assert wait_until(lambda: (entry(env, "reconnect", WEBSOCKET) or _Zero).num_requests >= 3, 10)
        heartbeats_after["at_reconnect"] = (entry(env, "Heartbeat") or _Zero).num_requests
        gevent.sleep(3)

    env = run_fleet(csms.ws_url, [*FAST, "--cp-id-template", p + "-{n}"], users=3, during=during)
    disconnect = entry(env, "disconnect", WEBSOCKET)
    assert disconnect is not None and disconnect.num_failures == 3
    reconnect = entry(env, "reconnect", WEBSOCKET)
    assert reconnect.num_requests == 3 and reconnect.num_failures == 0
    heartbeat = entry(env, "Heartbeat")
    assert heartbeat.num_requests - heartbeat.num_failures > heartbeats_after["at_reconnect"]
    assert any("connection dropped" in e for m, n, e in errors(env) if m == WEBSOCKET)
    assert_grouped_by_reason(env, p)


class _Zero:
    num_requests = 0
    num_failures = 0


def test_late_answers_time_out(csms: TestbedProcess) -> None:
    set_fault(csms, {"name": "late_answer", "seconds": 2.5, "action": "Heartbeat"})
    p = prefix()
    env = run_fleet(csms.ws_url, [*FAST, "--call-timeout", "1", "--cp-id-template", p + "-{n}"], users=2, seconds=5)
    heartbeat = entry(env, "Heartbeat")
    assert heartbeat.num_failures > 0
    reasons = {e for m, n, e in errors(env) if n == "Heartbeat"}
    assert "CallTimeout('no answer within 1 s')" in reasons, reasons
    assert entry(env, "BootNotification").num_failures == 0
    assert_grouped_by_reason(env, p)


# ---------------------------------------------------------------- CSMS restart


def test_csms_restart_mid_run() -> None:
    testbed = TestbedProcess(["--port", "0", "--heartbeat-interval", "1", "-q"]).start()
    p = prefix()
    marks: dict[str, int] = {}
    try:

        def during(env: Environment) -> None:
            assert wait_until(lambda: (entry(env, "Heartbeat") or _Zero).num_requests >= 3, 10)
            testbed.restart()  # same port; the charge points lose their connection meanwhile
            marks["restarted"] = 1
            assert wait_until(lambda: (entry(env, "reconnect", WEBSOCKET) or _Zero).num_requests >= 3, 15)
            gevent.sleep(2.5)
            marks["heartbeats_after"] = sum(
                info["counts"].get("Heartbeat", 0) for info in testbed.api("GET", "/cps")[1]["cps"].values()
            )
            marks["connected_after"] = sum(1 for i in testbed.api("GET", "/cps")[1]["cps"].values() if i["connected"])

        env = run_fleet(
            testbed.ws_url, [*FAST, "--idle-duration", "30", "--cp-id-template", p + "-{n}"], users=3, during=during
        )
    finally:
        testbed.stop()
    assert marks["restarted"] == 1
    reconnect = entry(env, "reconnect", WEBSOCKET)
    assert reconnect.num_requests >= 3
    assert reconnect.num_requests - reconnect.num_failures == 3  # each charge point came back once
    assert entry(env, "disconnect", WEBSOCKET).num_failures == 3
    assert marks["connected_after"] == 3
    assert marks["heartbeats_after"] >= 3  # the restarted CSMS saw heartbeats from them


# ---------------------------------------------------------------- bad input


def _connect_failures(env: Environment) -> dict[str, int]:
    return {StatsError.parse_error(e.error): e.occurrences for e in env.stats.errors.values() if e.method == WEBSOCKET}


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("unreachable", "TransportError('connection refused')"),
        ("not_websocket", "HandshakeRefused('handshake refused: HTTP 404')"),
        (
            "subprotocol",
            "SubprotocolMismatch('server did not agree to subprotocol ocpp1.6: it answered no subprotocol')",
        ),
    ],
)
def test_bad_connection_input_is_one_line_per_kind(
    csms: TestbedProcess, caplog: pytest.LogCaptureFixture, kind: str, expected: str
) -> None:
    host = {
        "unreachable": "ws://127.0.0.1:9/",
        "not_websocket": csms.api_url.replace("http://", "ws://") + "/",
        "subprotocol": csms.ws_url,
    }[kind]
    if kind == "subprotocol":
        set_fault(csms, {"name": "refuse_subprotocol"})
    caplog.set_level(logging.INFO, logger="ocpp_users.fleet")
    env = run_fleet(host, [*FAST, "--cp-id-template", prefix() + "-{n}"], users=4, seconds=3)
    failures = _connect_failures(env)
    assert list(failures) == [expected], failures
    assert failures[expected] >= 4  # every user's attempts, retried with backoff
    lines = [
        r.getMessage() for r in caplog.records if r.name == "ocpp_users.fleet" and "cannot connect" in r.getMessage()
    ]
    assert len(lines) == 1, lines
    assert expected.split("'")[1] in lines[0]
    counts = Fleet.of(env).monitor.local_counts()
    assert counts["total"] == 0  # all stopped at the end, none crashed


def test_bad_credentials_are_counted() -> None:
    testbed = TestbedProcess(["--port", "0", "--basic-auth-password", "right-secret", "-q"]).start()
    try:
        env = run_fleet(
            testbed.ws_url,
            [*FAST, "--security-profile", "1", "--basic-auth-password", "wrong-secret"],
            users=3,
            seconds=3,
        )
        good = run_fleet(
            testbed.ws_url,
            [*FAST, "--security-profile", "1", "--basic-auth-password", "right-secret", "--cp-id-template", "OK-{n}"],
            users=1,
            seconds=2,
        )
    finally:
        testbed.stop()
    failures = _connect_failures(env)
    assert list(failures) == ["AuthenticationFailed('handshake refused: HTTP 401 (credentials rejected)')"], failures
    assert entry(good, "BootNotification").num_requests == 1 and errors(good) == []
    assert not any("secret" in e for _, _, e in errors(env))


def test_callerror_reason_names_the_code(csms: TestbedProcess) -> None:
    set_fault(csms, {"name": "callerror", "action": "Heartbeat", "code": "NotSupported", "description": "no"})
    p = prefix()
    env = run_fleet(csms.ws_url, [*FAST, "--cp-id-template", p + "-{n}"], users=2, seconds=3)
    reasons = {e for m, n, e in errors(env) if n == "Heartbeat"}
    assert reasons == {"NotSupportedError('CALLERROR NotSupported')"}, reasons  # the description is detail
    assert entry(env, "StartTransaction").num_failures == 0


def test_boot_rejected_then_pending_then_accepted(csms: TestbedProcess) -> None:
    """Rejected: a counted failure, retried after ``interval``; Pending: no failure, the CSMS's calls
    are answered meanwhile; Accepted: the charge point reports its statuses and runs."""
    status, _ = csms.api("PATCH", "/config", {"boot_status": "Rejected", "boot_retry_interval": 1})
    assert status == 200
    p = prefix()
    cp = f"{p}-1"
    seen: dict[str, Any] = {}

    def during(env: Environment) -> None:
        assert wait_until(lambda: (entry(env, "BootNotification") or _Zero).num_failures >= 2, 8)
        csms.api("PATCH", "/config", {"boot_status": "Pending"})
        gevent.sleep(1.5)
        seen["state"] = Fleet.of(env).monitor.counts()["booting"]
        seen["answer"] = csms.api("POST", f"/cps/{cp}/GetConfiguration", {"key": ["HeartbeatInterval"]})[1]
        seen["pending_failures"] = entry(env, "BootNotification").num_failures
        csms.api("PATCH", "/config", {"boot_status": "Accepted"})
        assert wait_until(lambda: (entry(env, "StatusNotification") or _Zero).num_requests >= 2, 5)

    env = run_fleet(
        csms.ws_url, [*FAST, "--idle-duration", "30", "--cp-id-template", p + "-{n}"], users=1, during=during
    )
    boot = entry(env, "BootNotification")
    assert {e for m, n, e in errors(env)} == {"RejectedError('BootNotification Rejected')"}
    assert boot.num_failures == seen["pending_failures"] and boot.num_requests > boot.num_failures + 1
    assert seen["state"] == 1
    assert seen["answer"]["result"]["configurationKey"][0]["key"] == "HeartbeatInterval"
    assert entry(env, "StatusNotification").num_failures == 0
