"""Verdicts that never lie: a fault of the CSMS FAILS the case at the step it hits (a boot never
Accepted, a request a real charger refuses), a fault of the harness is ERROR (a driver that cannot
deliver), a CSMS that never answers or speaks another subprotocol ends the run with a clear line,
and the closing lines and exit status say what did not run."""

from __future__ import annotations

import io
import shlex
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from ocpp_users.embedded import TestbedProcess
from ocpp_users.ocppj.frames import Call, parse
from scenarios.console import Console
from scenarios.options import Tags
from scenarios.reporting import run_json, write_html, write_junit
from scenarios.results import Verdict
from scenarios.runner import ConnectionFailed, Runner
from tests.test_compliance_suite import options_for, run_with_fault

CHARGER_REFUSES = [
    # (case, fault on the CSMS's request, (step, message, field, text in actual))
    (
        "TC_012_CSMS",
        {"RemoteStopTransaction": {"transactionId": 999999}},
        ("1", "RemoteStopTransaction.req", "transactionId", "999999 (the charge point answered status Rejected"),
    ),
    (
        "TC_010_CSMS",
        {"RemoteStartTransaction": {"connectorId": 0}},
        ("3", "RemoteStartTransaction.req", "connectorId", "0 (the charge point answered status Rejected"),
    ),
    (
        "TC_010_CSMS",
        {"RemoteStartTransaction": {"connectorId": 5}},
        ("3", "RemoteStartTransaction.req", "connectorId", "5 (the charge point answered status Rejected"),
    ),
    (
        "TC_011_1_CSMS",
        {"RemoteStartTransaction": {"connectorId": 0}},
        ("1", "RemoteStartTransaction.req", "connectorId", "0 (the charge point answered status Rejected"),
    ),
    (
        "TC_017_1_CSMS",
        {"UnlockConnector": {"connectorId": 5}},
        ("1", "UnlockConnector.req", "connectorId", "5 (the charge point answered status NotSupported"),
    ),
    (
        "TC_018_1_CSMS",
        {"UnlockConnector": {"connectorId": 5}},
        ("1", "UnlockConnector.req", "connectorId", "5 (the charge point answered status NotSupported"),
    ),
]


@pytest.mark.parametrize(
    ("case_id", "change", "where"),
    CHARGER_REFUSES,
    ids=[f"{c}-{next(iter(x.values()))}" for c, x, _ in CHARGER_REFUSES],
)
def test_the_charger_answers_as_a_real_one_and_the_case_fails(
    csms: TestbedProcess, cp_id: str, case_id: str, change: dict[str, Any], where: tuple[str, str, str, str]
) -> None:
    """A request a real charger refuses (a transaction it does not run, connector 0 or one it
    lacks) is answered Rejected/NotSupported, and the case FAILS at that request with expected and
    actual, instead of the Tool playing along."""
    ((action, payload),) = change.items()
    fault = {"name": "override_call", "action": action, "payload": payload}
    run = run_with_fault(csms, cp_id, case_id, fault, probe=False)
    result = run.by_id()[case_id]
    assert result.verdict == Verdict.failed, (result.verdict, result.reason, result.error_detail)
    check = result.first_failure
    assert check is not None
    step, message, field, actual = where
    assert (check.step, check.message, check.field) == (step, message, field), check
    assert actual in check.actual, check
    # The charger did not act on the refused request (no StopTransaction of its own, no start).
    sent = [f.action for e in result.wire if e.direction == "out" and isinstance(f := parse(e.raw), Call)]
    assert "StopTransaction" not in sent  # (TC_012: the Tool did not stop its own transaction)
    if case_id in ("TC_010_CSMS", "TC_011_1_CSMS"):
        assert "StartTransaction" not in sent


def test_a_boot_never_accepted_fails_every_case_at_set_up(csms: TestbedProcess, cp_id: str) -> None:
    """A CSMS answering every BootNotification Pending: the Tool retries after the interval it is
    given, sends nothing else (OCPP 1.6 §4.2), and every case FAILS at set-up (not 30 PASSes)."""
    status, body = csms.api("PATCH", "/config", {"boot_status": "Pending", "boot_retry_interval": 1})
    assert status == 200, body
    options = options_for(csms, cp_id, connect_timeout=2.5, only=("TC_001", "TC_003", "TC_010", "TC_064", "TC_046"))
    run = Runner(options).run()
    assert [c.verdict for c in run.cases] == [Verdict.failed] * 5
    for result in run.cases:
        check = result.first_failure
        assert check is not None and (check.step, check.message, check.field) == (
            "setup",
            "BootNotification.conf",
            "status",
        )
        assert check.expected.startswith("Accepted") and check.actual.startswith("Pending (")
    assert not run.ok and run.exit_code == 1
    sent = [parse(e.raw) for e in run.setup_wire if e.direction == "out"]
    actions = {f.action for f in sent if isinstance(f, Call)}
    assert actions == {"BootNotification"}
    assert 2 <= len(sent) <= 4  # retried once a second within the 2.5 s
    assert any("never Accepted" in note for note in run.notes)
    _, record = csms.api("GET", f"/cps/{cp_id}")
    assert record["counts"] == {"BootNotification": len(sent)}


def test_a_csms_that_never_answers_the_boot_ends_the_run_within_the_connect_timeout(
    csms: TestbedProcess, cp_id: str
) -> None:
    csms.api("PUT", "/faults", {"name": "no_answer", "action": "BootNotification"})
    started = time.monotonic()
    with pytest.raises(ConnectionFailed) as caught:
        Runner(options_for(csms, cp_id, connect_timeout=1.0)).run()
    assert time.monotonic() - started < 3.0
    text = str(caught.value)
    assert "accepted the WebSocket connection but did not answer the BootNotification within 1 s" in text


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        (
            {"name": "only_subprotocol", "subprotocol": "ocpp2.0.1"},
            ["HTTP 400", "the Tool offered ocpp1.6", "the CSMS accepts ocpp2.0.1, not ocpp1.6"],
        ),
        ({"name": "refuse_subprotocol"}, ["the Tool offered ocpp1.6", "the CSMS upgraded without a subprotocol"]),
    ],
    ids=["only-ocpp2.0.1", "no-subprotocol"],
)
def test_a_subprotocol_mismatch_says_what_each_side_offered(
    csms: TestbedProcess, cp_id: str, fault: dict[str, Any], words: list[str]
) -> None:
    csms.api("PUT", "/faults", fault)
    with pytest.raises(ConnectionFailed) as caught:
        Runner(options_for(csms, cp_id)).run()
    for word in words:
        assert word in str(caught.value), caught.value


DRIVER_CASES = ("TC_061", "TC_013", "TC_019_2", "TC_042_2", "TC_054")


def _refused_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("driver", "words"),
    [
        ({"trigger_url": "http://127.0.0.1:{port}/cps/{cp_id}/{action}"}, ["failed:", "refused"]),
        ({"trigger_url": "{api}/wrong/{cp_id}/{action}"}, ["HTTP 404", "no such route"]),
        ({"trigger_url": None, "trigger_cmd": "nosuchcommand-vocpp {action}"}, ["exited 127", "not found"]),
        (
            {"trigger_url": None, "trigger_cmd": "echo some output; echo 'the API said no' >&2; exit 3"},
            ["exited 3: the API said no"],
        ),
    ],
    ids=["connection-refused", "http-404", "exit-127", "stderr"],
)
def test_a_driver_that_cannot_deliver_is_an_error_at_once(
    csms: TestbedProcess, cp_id: str, driver: dict[str, Any], words: list[str]
) -> None:
    """Every case that needs the driver ends ERROR at once with the driver's own error (stderr
    for a command), not FAILED after the step timeout; a case without a CSMS-initiated step
    still PASSES."""
    changes = {
        key: value.replace("{port}", str(_refused_port())).replace("{api}", csms.api_url)
        if isinstance(value, str)
        else value
        for key, value in driver.items()
    }
    started = time.monotonic()
    run = Runner(options_for(csms, cp_id, step_timeout=5.0, only=(*DRIVER_CASES, "TC_064"), **changes)).run()
    elapsed = time.monotonic() - started
    assert elapsed < 5.0  # five cases, each at once (a FAILED after the step timeout would take 25 s)
    for result in run.cases:
        if result.case_id == "TC_064_CSMS":
            assert result.verdict == Verdict.passed
            continue
        assert result.verdict == Verdict.error, (result.case_id, result.verdict, result.reason)
        assert result.reason.startswith("driver error: step "), result.reason
        for word in words:
            assert word in result.reason, result.reason
        assert not result.failed_checks
    assert run.exit_code == 1


def _poster_failing_after_sending(api: str) -> str:
    """A --trigger-cmd that makes the testbed send the request, then exits 1 (a flaky script)."""
    code = (
        "import sys, urllib.request as u\n"
        "api, cp, action, payload = sys.argv[1:5]\n"
        "r = u.Request(f'{api}/cps/{cp}/{action}', data=payload.encode(), method='POST')\n"
        "u.urlopen(r, timeout=30).read()\n"
        "sys.exit('exit after sending')\n"
    )
    return f"{shlex.quote(sys.executable)} -c {shlex.quote(code)} {shlex.quote(api)} {{cp_id}} {{action}} {{payload}}"


def test_a_request_that_arrives_counts_even_when_the_driver_then_fails(csms: TestbedProcess, cp_id: str) -> None:
    options = options_for(
        csms, cp_id, trigger_url=None, trigger_cmd=_poster_failing_after_sending(csms.api_url), only=("TC_061",)
    )
    result = Runner(options).run().by_id()["TC_061_CSMS"]
    assert result.verdict == Verdict.passed, result.reason


def test_closing_lines_count_what_did_not_run_and_require_all_fails(csms: TestbedProcess, cp_id: str) -> None:
    """With --url alone (no driver, no tags, no terminal) the run says which cases did not run and
    why; it exits 0, or 3 with --require-all."""
    for require_all in (False, True):
        options = options_for(csms, cp_id, trigger_url=None, tags=Tags(), require_all=require_all)
        run = Runner(options).run()
        out = io.StringIO()
        Console(out).summary(run)
        text = out.getvalue()
        skipped = run.count(Verdict.not_applicable)
        assert run.count(Verdict.failed) == run.count(Verdict.error) == 0
        assert skipped > 40 and run.count(Verdict.passed) >= 4
        driver = sum(1 for c in run.cases if c.skip_kind == "driver")
        assert f"{driver} cases need a driver: give --trigger-url or --trigger-cmd" in text
        assert "need an idTag configured in the CSMS: give --id-tag" in text
        assert "needs another set-up: needs a wss:// URL" in text
        if require_all:
            assert run.exit_code == 3 and f"exit status 3: --require-all, and {skipped} cases did not run" in text
        else:
            assert run.exit_code == 0 and "--require-all makes that exit status 3" in text


def test_reports_carry_the_probe_and_steps_in_order(csms: TestbedProcess, cp_id: str, tmp_path: Path) -> None:
    """The JSON and HTML reports show what the probe found and the profiles; JUnit lists each step
    once, in the document's order, also when the Tool swapped a message pair."""
    fault = {"name": "override_response", "action": "StartTransaction", "payload": {"idTagInfo": {"status": "Blocked"}}}
    run = run_with_fault(csms, cp_id, "TC_010_CSMS", fault, swap_order=True)
    data = run_json(run)
    assert data["support"]["Authorize"]["state"] == "supported" and data["profiles"]["source"] == "probe"
    assert "SmartCharging" in data["profiles"]["declared"] and data["exit_code"] == 1
    html = tmp_path / "r.html"
    write_html(run, str(html))
    page = html.read_text()
    assert "<h2>Support probe" in page and "StopTransaction" in page and "Feature profiles claimed" in page
    junit = tmp_path / "r.xml"
    write_junit(run, str(junit))
    failure = ET.parse(junit).getroot().find("testsuite/testcase/failure")
    assert failure is not None and failure.text
    steps = [line for line in failure.text.splitlines() if line.startswith("step ")]
    assert len(steps) == len(set(steps)), steps
    numbers = [int(s.split()[1].rstrip(":")) for s in steps]
    assert numbers == sorted(numbers), steps  # 9 (Charging, sent first with --swap-order) after 8
    assert "step 8:" in steps and "step 9:" in steps
