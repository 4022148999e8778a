"""Unit tests of the compliance framework's pure parts: registry, selection, drivers' templates,
result helpers and the report writers (with hostile CSMS-provided text)."""

from __future__ import annotations

import importlib
import io
import json
import pkgutil
import re
import shlex
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ocpp_users.embedded import TestbedProcess, TestbedStartError
from ocpp_users.ocppj.transport import SecurityConfig
from ocpp_users.v16.actions import CP_INITIATED, CSMS_INITIATED, SECURITY_EXTENSION
from scenarios import cli, demo, pki, probe
from scenarios.base import CASE_PACKAGES, PRECONDITIONS, Case, all_cases
from scenarios.console import Console
from scenarios.context import casefold, response_step
from scenarios.drivers import CommandDriver, PromptDriver, UrlDriver, describe
from scenarios.options import (
    FEATURE_PROFILES,
    RunOptions,
    TestData,
    parse_profiles,
    security_file_errors,
    selected,
    split_patterns,
)
from scenarios.reporting import run_json, write_html, write_json, write_junit
from scenarios.results import CaseResult, Check, RunResult, Verdict, WireEntry, lookup, show
from scenarios.wire import WireTap
from tests.test_compliance_suite import CORE_IDS, DOCUMENT_IDS, PENDING_SECURITY_EXTENSION, REGISTERED_IDS

PACKAGE_PROFILES = {
    "scenarios.v16.core": "Core",
    "scenarios.v16.security": "Security",
    "scenarios.v16.local_auth": "LocalAuthListManagement",
    "scenarios.v16.firmware": "FirmwareManagement",
    "scenarios.v16.reservation": "Reservation",
    "scenarios.v16.remote_trigger": "RemoteTrigger",
    "scenarios.v16.smart_charging": "SmartCharging",
}


def test_registry_has_every_case_once_in_document_order() -> None:
    """Every TC_xxx_CSMS case of the document, in the document's order; each case's profile is its
    package's."""
    cases = all_cases()
    ids = [c.case_id for c in cases]
    assert len(DOCUMENT_IDS) == 75 and len(set(DOCUMENT_IDS)) == 75
    assert ids == REGISTERED_IDS and len(ids) == 75 - len(PENDING_SECURITY_EXTENSION)
    assert set(CORE_IDS) <= set(ids)
    assert [c.order_key() for c in cases] == sorted(c.order_key() for c in cases)
    assert set(PACKAGE_PROFILES) == set(CASE_PACKAGES)
    for case in cases:
        assert case.title and case.section and case.steps and case.table
        package = case.__module__.rsplit(".", 1)[0]
        assert case.profile == PACKAGE_PROFILES[package], case.case_id
        assert case.profile in FEATURE_PROFILES
        assert set(case.cp_actions) <= {str(a) for a in CP_INITIATED | SECURITY_EXTENSION}, case.case_id
        assert set(case.csms_actions) <= {str(a) for a in CSMS_INITIATED | SECURITY_EXTENSION}, case.case_id
        assert set(case.also_profiles) <= set(FEATURE_PROFILES), case.case_id
        assert set(case.preconditions) <= set(PRECONDITIONS)


def test_one_file_per_case_named_after_its_id() -> None:
    """Each module of a case package holds one case named after its id (``_name`` modules hold
    what the cases of one profile share)."""
    for package_name in CASE_PACKAGES:
        package = importlib.import_module(package_name)
        assert package.__doc__, package_name
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            if info.name.startswith("_"):
                assert not [v for v in vars(module).values() if isinstance(v, type) and issubclass(v, Case)]
                continue
            defined = [
                v
                for v in vars(module).values()
                if isinstance(v, type) and issubclass(v, Case) and v is not Case and v.__module__ == module.__name__
            ]
            assert len(defined) == 1, info.name
            case_id = defined[0].case_id
            assert info.name.startswith(case_id[: -len("_CSMS")].lower() + "_"), (info.name, case_id)


def test_selection_globs() -> None:
    assert selected("TC_001_CSMS", ("TC_001",), ())
    assert selected("TC_023_2_CSMS", ("tc_023*",), ())
    assert not selected("TC_023_2_CSMS", ("TC_023*",), ("TC_023_2",))
    assert not selected("TC_010_CSMS", ("TC_001",), ())
    assert selected("TC_064_CSMS", (), ())
    assert split_patterns(["TC_001, TC_003", "TC_01*"]) == ("TC_001", "TC_003", "TC_01*")


def test_describe_and_helpers() -> None:
    assert describe("Reset", {"type": "Hard"}) == "Reset (type Hard)"
    assert describe("GetConfiguration", {}) == "GetConfiguration (no key: all configuration keys)"
    assert describe("GetConfiguration", {"key": ["A", "B"]}) == "GetConfiguration (key A,B)"
    assert describe("ClearCache", {}) == "ClearCache"
    assert response_step(3) == "4" and response_step("Charging 3") == "Charging 4"
    payload = {"idTagInfo": {"status": "Accepted"}, "list": [{"key": "K"}]}
    assert lookup(payload, "idTagInfo.status") == "Accepted"
    assert lookup(payload, "list.0.key") == "K"
    assert show(lookup(payload, "idTagInfo.expiryDate")) == "<missing>"
    assert show(["a"]) == '["a"]'


def test_command_driver_quotes_every_placeholder(tmp_path: Path) -> None:
    out = tmp_path / "args.json"
    code = f"import json, sys; json.dump(sys.argv[1:], open({str(out)!r}, 'w'))"
    driver = CommandDriver(f"{shlex.quote(sys.executable)} -c {shlex.quote(code)} {{cp_id}} {{action}} {{payload}}")
    payload = {"idTag": 'it\'s $(rm -rf /) `x` "q"', "connectorId": 1}
    command = driver.command("CP 1;echo", "RemoteStartTransaction", payload)
    subprocess.run(["/bin/sh", "-c", command], check=True, timeout=30)
    cp_id, action, sent = json.loads(out.read_text())
    assert (cp_id, action, json.loads(sent)) == ("CP 1;echo", "RemoteStartTransaction", payload)


def test_url_driver_fills_in_the_template() -> None:
    driver = UrlDriver("http://csms/api/{cp_id}/{action}?x=1")
    assert driver.url("CP/1 x", "Reset") == "http://csms/api/CP%2F1%20x/Reset?x=1"


def test_prompt_driver_waits_for_enter_or_the_request() -> None:
    out = io.StringIO()
    lines = iter([None, None, "\n"])
    driver = PromptDriver(5.0, out, read_line=lambda timeout: next(lines, None) if timeout else None)
    trigger = driver.request("CP1", "Reset", {"type": "Hard"}, WireTap())
    assert trigger.outcome == "operator pressed Enter"
    assert "Make the CSMS send Reset (type Hard) to charge point CP1, then press Enter" in out.getvalue()

    tap = WireTap()
    tap("in", '[2,"m1","Reset",{"type":"Hard"}]')
    started = time.monotonic()
    trigger = PromptDriver(5.0, io.StringIO(), read_line=lambda timeout: None).request("CP1", "Reset", {}, tap)
    assert trigger.outcome == "Reset.req arrived" and time.monotonic() - started < 1

    trigger = PromptDriver(0.3, io.StringIO(), read_line=lambda timeout: None).request("CP1", "Reset", {}, WireTap())
    assert trigger.outcome == "no Enter within 0.3 s"


def test_wire_tap_tracks_calls_until_answered() -> None:
    tap = WireTap()
    tap("in", '[2,"m1","Reset",{"type":"Soft"}]')
    tap("out", b'[3,"m1",{"status":"Accepted"}]')
    tap("in", '[2,"m2","UnlockConnector",{"connectorId":"x"}]')
    tap("out", '[4,"m2","TypeConstraintViolation","bad",{}]')
    tap("in", "garbage")
    call = tap.wait_for("Reset", 0.1)
    assert call is not None and call.answer == {"status": "Accepted"} and call.payload == {"type": "Soft"}
    refused = tap.wait_for("UnlockConnector", 0.1)
    assert refused is not None and refused.answer is None and refused.error == "TypeConstraintViolation: bad"
    assert tap.wait_for("Reset", 0.05) is None  # consumed
    assert [e.direction for e in tap.log] == ["in", "out", "in", "out", "in"]


HOSTILE = '<script>alert("x")</script>\x1b[31m\x00'


def hostile_run() -> RunResult:
    run = RunResult("ws://csms/ocpp/{cp_id}", "CP1", time.time(), duration=1.5, probe_duration=0.01)
    failed = CaseResult(
        "TC_023_3_CSMS",
        "Start Charging Session - Authorize blocked",
        "3.8.3",
        "Core",
        Verdict.failed,
        reason=f"step 2 (Authorize.conf): expected Blocked, actual {HOSTILE}",
        duration=0.2,
    )
    failed.checks.append(Check("2", "Authorize.conf", "idTagInfo.status", "Blocked", HOSTILE, False))
    failed.wire.append(WireEntry(time.time(), "out", '[2,"1","Authorize",{"idTag":"B"}]'))
    failed.wire.append(WireEntry(time.time(), "in", f'[3,"1",{{"idTagInfo":{{"status":"{HOSTILE}"}}}}]'))
    passed = CaseResult("TC_001_CSMS", "Cold Boot Charge Point", "3.1.1", "Core", Verdict.passed, duration=0.1)
    skipped = CaseResult("TC_086_CSMS", "TLS", "3.21.3", "Security", Verdict.not_applicable, reason="needs wss")
    error = CaseResult(
        "TC_064_CSMS",
        "Data Transfer",
        "3.20.1",
        "Core",
        Verdict.error,
        reason="harness fault: boom",
        error_detail="Traceback ...",
    )
    run.cases.extend([passed, failed, skipped, error])
    return run


def test_junit_report_parses_with_failure_skipped_and_error(tmp_path: Path) -> None:
    path = tmp_path / "j.xml"
    write_junit(hostile_run(), str(path))
    suite = ET.parse(path).getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped"), suite.get("errors")) == (
        "4",
        "1",
        "1",
        "1",
    )
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    failure = cases["TC_023_3_CSMS"].find("failure")
    assert failure is not None and "expected Blocked" in (failure.get("message") or "")
    assert "Authorize" in (failure.text or "")
    assert cases["TC_086_CSMS"].find("skipped") is not None
    assert cases["TC_064_CSMS"].find("error") is not None
    assert cases["TC_001_CSMS"].find("failure") is None


def test_json_report_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    write_json(hostile_run(), str(path))
    data = json.loads(path.read_text())
    assert data["summary"] == {"PASSED": 1, "FAILED": 1, "NOT APPLICABLE": 1, "ERROR": 1}
    assert data["url"] == "ws://csms/ocpp/{cp_id}" and data["probe_duration_s"] == 0.01
    assert set(data) == set(run_json(hostile_run()))
    case = data["cases"][1]
    assert case["verdict"] == "FAILED" and case["checks"][0]["actual"] == HOSTILE
    assert [w["direction"] for w in case["wire"]] == ["out", "in"]


def test_html_report_escapes_csms_text_and_is_self_contained(tmp_path: Path) -> None:
    path = tmp_path / "r.html"
    write_html(hostile_run(), str(path))
    page = path.read_text()
    assert "<script" not in page and "&lt;script&gt;" in page
    assert "src=" not in page and 'href="http' not in page and "@import" not in page
    for case_id in ("TC_001_CSMS", "TC_023_3_CSMS", "TC_086_CSMS", "TC_064_CSMS"):
        assert f'id="{case_id}"' in page


def test_console_escapes_control_characters() -> None:
    out = io.StringIO()
    Console(out).case(hostile_run().cases[1])
    text = out.getvalue()
    assert "\x1b" not in text and "\\x1b" in text
    assert "-- FAILED!" in text and "expected: idTagInfo.status Blocked   actual:" in text
    assert "--> [2," in text and "<-- [3," in text


@pytest.mark.parametrize("case", all_cases(), ids=lambda c: c.case_id)
def test_every_case_quotes_its_document_steps(case: type[Case]) -> None:
    assert case.__doc__ and '"' in case.__doc__  # the purpose, quoted from the document
    numbered = [s for s in case.steps if s[:1].isdigit()]
    # ("3 The Charge Point sends ...": the document's own typo, quoted as written.)
    assert [int(re.match(r"\d+", s).group()) for s in numbered] == list(range(1, len(numbered) + 1))  # type: ignore[union-attr]


def test_profiles_parse_case_insensitively_with_core_always_in() -> None:
    assert parse_profiles("reservation, localauthlist") == {"Core", "Reservation", "LocalAuthListManagement"}
    assert parse_profiles("") == {"Core"}
    with pytest.raises(ValueError, match="unknown feature profile 'Billing'"):
        parse_profiles("Core,Billing")


def test_core_actions_are_the_core_profile_and_every_case_needs_only_those() -> None:
    assert probe.CORE_ACTIONS == {
        "Authorize",
        "BootNotification",
        "DataTransfer",
        "Heartbeat",
        "MeterValues",
        "StartTransaction",
        "StatusNotification",
        "StopTransaction",
    }
    assert not probe.is_core("FirmwareStatusNotification") and not probe.is_core("DiagnosticsStatusNotification")
    # Core actions, the firmware notifications (FirmwareManagement) and the security extension's (Security)
    for case in all_cases():
        for action in case.cp_actions:
            profile = probe.profile_of(action)
            assert profile in ("Core", "FirmwareManagement", "Security"), (case.case_id, action)
            if profile == "FirmwareManagement":
                assert case.profile in ("FirmwareManagement", "RemoteTrigger"), (case.case_id, action)
            if profile == "Security":
                assert case.profile == "Security", (case.case_id, action)


def test_configuration_keys_compare_case_insensitively() -> None:
    assert casefold(["SupportedFeatureProfiles"]) == casefold(["supportedfeatureprofiles"])
    assert casefold("MeterValueSampleInterval") == casefold("METERVALUESAMPLEINTERVAL")
    assert casefold(["HeartbeatInterval"]) != casefold(["SupportedFeatureProfiles"])
    assert casefold(None) is None and casefold(60) == 60


def test_run_options_repr_hides_secrets() -> None:
    options = RunOptions(
        url="ws://h/",
        trigger_headers=("Authorization: Bearer sekrit-token",),
        security=SecurityConfig(profile=1, password="sekrit-password-123"),
    )
    assert "sekrit" not in repr(options)


def test_security_file_errors_name_the_option(tmp_path: Path) -> None:
    good = tmp_path / "ca.pem"
    good.write_text("x")
    assert security_file_errors(str(good), None, None) == []
    assert security_file_errors("/missing/ca.pem", None, None) == ["--ca-file /missing/ca.pem: no such file"]
    assert security_file_errors(None, str(tmp_path), None) == [f"--client-cert {tmp_path}: not a regular file"]
    assert security_file_errors(None, None, str(good), prefix="--octt-") == [
        "--octt-client-key needs --octt-client-cert"
    ]


def test_testbed_start_errors_never_carry_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo's password goes to the testbed by environment (never on its command line, where ps
    shows it), and a TestbedStartError that echoes it comes back redacted."""
    seen: dict[str, object] = {}

    class NoStart(TestbedProcess):
        def start(self) -> TestbedProcess:
            seen["args"] = list(self.args)
            secret = (self.env or {}).get("TESTBED_BASIC_AUTH_PASSWORD", "")
            raise TestbedStartError(f"testbed did not start; output:\nusing password {secret}")

    monkeypatch.setattr(demo, "TestbedProcess", NoStart)
    password = demo.testbed_password()
    with pytest.raises(TestbedStartError) as caught:
        demo.start_testbed(password)
    text = str(caught.value)
    assert password not in " ".join(seen["args"])  # type: ignore[arg-type]
    assert password not in text and "using password ***" in text
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def _parse(*argv: str) -> RunOptions:
    parser = cli.build_parser()
    args = parser.parse_args(["scenarios", *argv])
    return cli.options_from_args(args, args.subparser)


def test_security_test_data_options_reach_the_run_options(tmp_path: Path) -> None:
    root = tmp_path / "root.pem"
    root.write_text(pki.throwaway_root_pem())
    key = "4F43415F4F4354545F61646D696E5F74657374"
    options = _parse(
        *("--cpo-name", "ACME CPO", "--authorization-key", key, "--root-certificate", str(root)),
        *("--log-location", "sftp://logs.example/up", "--manufacturer-root", str(root)),
        *("--signing-certificate", str(root), "--firmware-signature", "c2ln", "--invalid-firmware-signature", "YmFk"),
    )
    data = options.test_data
    assert (data.cpo_name, data.authorization_key, data.root_certificate) == ("ACME CPO", key, str(root))
    assert (data.log_location, data.manufacturer_root, data.signing_certificate) == (
        "sftp://logs.example/up",
        str(root),
        str(root),
    )
    assert (data.firmware_signature, data.invalid_firmware_signature) == ("c2ln", "YmFk")
    assert key not in repr(options)  # (a secret never in a repr)
    defaults = _parse().test_data
    assert defaults.authorization_key is None and defaults.root_certificate is None
    assert defaults.invalid_firmware_signature == TestData.invalid_firmware_signature


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--authorization-key", "4F43"], "32 to 40 hexadecimal digits"),
        (["--authorization-key", "Z" * 32], "hexadecimal"),
        (["--root-certificate", "/missing/root.pem"], "/missing/root.pem: no such file"),
        (["--signing-certificate", __file__], "holds no PEM certificate"),
        (["--firmware-signature", "not base64!"], "must be base64"),
        (["--cpo-name", "x" * 65], "1 to 64 characters"),
    ],
)
def test_bad_security_test_data_is_one_line_and_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        _parse(*argv)
    assert stopped.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert "Z" * 32 not in err[0]
