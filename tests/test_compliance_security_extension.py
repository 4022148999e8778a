"""The security cases (TC_073 to TC_081, TC_087) against one testbed started over TLS, as the
demonstration starts it (``scenarios.demo.start_demo``: a CA made for the run signing the
testbed's RSA and ECDSA certificates, the charge point's client certificate and its CSRs; Basic
auth; optional client certificates): all 75 cases PASS in one run, and each security case FAILS,
at the step the fault hits, against a testbed fault switch aimed at it. Cases whose set-up is
missing are NOT APPLICABLE with what would make them run."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ocpp_users.embedded import TestbedProcess
from ocpp_users.ocppj.frames import Call, parse
from ocpp_users.v16.state.certificates import parse_pem, verify_signature
from scenarios import demo, pki
from scenarios.base import all_cases
from scenarios.options import RunOptions, TestData
from scenarios.reporting.jsonreport import run_json
from scenarios.results import RunResult, Verdict
from scenarios.runner import Runner
from tests.test_compliance_suite import DOCUMENT_IDS, all_frames, no_open_transactions, overlapping_calls

SECURITY_IDS = [
    f"{short}_CSMS"
    for short in (
        *("TC_073", "TC_074", "TC_075_1", "TC_075_2", "TC_076", "TC_077", "TC_078", "TC_079", "TC_080"),
        *("TC_081", "TC_087"),
    )
]


@pytest.fixture(scope="module")
def tls_demo() -> Iterator[demo.DemoRun]:
    """The demonstration's TLS testbed (one for the module), and the options aimed at it."""
    started = demo.start_demo(RunOptions(url="", cp_id="VOCPP-SEC-CP"), demo.testbed_password())
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def tb(tls_demo: demo.DemoRun) -> demo.DemoRun:
    status, body = tls_demo.testbed.api("POST", "/reset")
    assert status == 200, body
    return tls_demo


def options_for(started: demo.DemoRun, cp_id: str, **changes: Any) -> RunOptions:
    """The demonstration's options with short waits (the suite's timing is not under test here)."""
    values: dict[str, Any] = dict(
        cp_id=cp_id,
        step_timeout=2.0,
        connection_timeout=0.2,
        offline_time=0.1,
        reboot_delay=0.05,
        probe_timeout=1.0,
        test_data=replace(started.options.test_data, expiry_offset=0.5, expiry_tolerance=1.0),
    )
    values.update(changes)
    return replace(started.options, **values)


def run(started: demo.DemoRun, options: RunOptions, fault: dict[str, Any] | None = None) -> RunResult:
    testbed = started.testbed

    def before(_case: str) -> None:
        if fault is not None:
            status, body = testbed.api("PUT", "/faults", fault)
            assert status == 200, body

    def after(_case: str) -> None:
        testbed.api("DELETE", "/faults")

    return Runner(options, before_case=before, after_case=after, driver=demo.TestbedDriver(testbed.api_url)).run()


def record(testbed: TestbedProcess, cp_id: str) -> dict[str, Any]:
    status, body = testbed.api("GET", f"/cps/{cp_id}")
    assert status == 200, body
    return body


def test_security_cases_are_registered_in_document_order() -> None:
    ids = [c.case_id for c in all_cases()]
    assert ids == DOCUMENT_IDS and len(ids) == 75
    assert [i for i in ids if i in SECURITY_IDS] == SECURITY_IDS


def test_all_75_cases_pass_against_the_testbed_over_tls(tb: demo.DemoRun, cp_id: str) -> None:
    """The acceptance: one run, every case of the document PASSED (the profile 3 cases with the
    client certificate, the others with profile 2), and the CSMS saw what the cases claim."""
    started = time.monotonic()
    result = run(tb, options_for(tb, cp_id))
    elapsed = time.monotonic() - started
    assert [c.case_id for c in result.cases] == DOCUMENT_IDS
    bad = [(c.case_id, c.verdict, c.reason, c.error_detail) for c in result.cases if c.verdict != Verdict.passed]
    assert bad == []
    assert all(c.ok for case in result.cases for c in case.checks)
    assert result.exit_code == 0 and elapsed < 30
    assert overlapping_calls(all_frames(result)) == []
    assert no_open_transactions(tb.testbed, cp_id)
    seen = record(tb.testbed, cp_id)
    # TC_074's certificate was accepted, TC_077's rejected (the CSMS's CA signed both).
    assert [c.get("status") for c in seen["certificates_signed"]] == ["Accepted", "Rejected"]
    assert [e["type"] for e in seen["security_events"]] == [
        "InvalidChargePointCertificate",
        "InvalidCentralSystemCertificate",
        "FirmwareUpdated",
    ]
    assert [s["status"] for s in seen["log_statuses"]] == ["Uploading", "Uploaded"]
    assert [s["status"] for s in seen["signed_firmware_statuses"]] == [
        *("Downloading", "Downloaded", "SignatureVerified", "Installing", "InstallRebooting", "Installed"),
        *("Downloading", "Downloaded", "InvalidSignature"),
    ]
    # After TC_087 the clean-up came back to the run's profile 2 (Basic auth with TC_073's new key).
    assert seen["security_profile"] == 2 and seen["upgraded_profile"] is None
    # TC_076: the DeleteCertificate.req carried the testbed's own hash data of the root it installed.
    delete = next(
        frame.payload
        for entry in result.by_id()["TC_076_CSMS"].wire
        if isinstance(frame := parse(entry.raw), Call) and frame.action == "DeleteCertificate"
    )
    root = Path(tb.options.test_data.root_certificate or "").read_text()
    status, computed = tb.testbed.api("POST", "/certificates/hash-data", {"certificate": root})
    assert status == 200 and delete == {"certificateHashData": computed}


def _call(action: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {"name": "override_call", "action": action, "payload": payload}


OTHER_ROOT = pki.throwaway_root_pem("Another root")

#: case id -> (fault, (step, message, field, text in expected, text in actual)) of the first failing check.
FAULTS: dict[str, tuple[dict[str, Any], tuple[str, str, str, str, str]]] = {
    "TC_073_CSMS": (
        {"name": "refuse_security_profile", "profile": 2},
        ("3", "WebSocket connection", "", "with the new password", "401"),
    ),
    "TC_074_CSMS": (
        {"name": "bad_certificate", "kind": "expired"},
        ("5", "CertificateSigned.req", "certificateChain", "Signed ChargePointCertificate", "expired"),
    ),
    "TC_075_1_CSMS": (
        _call("InstallCertificate", {"certificateType": "CentralSystemRootCertificate"}),
        ("1", "InstallCertificate.req", "certificateType", "ManufacturerRootCertificate", "CentralSystemRoot"),
    ),
    "TC_075_2_CSMS": (
        _call("InstallCertificate", {"certificate": OTHER_ROOT}),
        ("1", "InstallCertificate.req", "certificate", "<Configured root certificate>", "Another root"),
    ),
    "TC_076_CSMS": (
        _call("DeleteCertificate", {"certificateHashData": {"serialNumber": "1"}}),
        ("3", "DeleteCertificate.req", "certificateHashData.serialNumber", "", "1"),
    ),
    "TC_077_CSMS": (
        {"name": "bad_certificate", "kind": "wrong_key"},
        ("5", "CertificateSigned.req", "certificateChain", "key of the Tool's CSR", "not for the key"),
    ),
    "TC_078_CSMS": (
        {"name": "callerror", "action": "SecurityEventNotification", "code": "InternalError"},
        ("4", "SecurityEventNotification.conf", "", "CALLRESULT", "CALLERROR InternalError"),
    ),
    "TC_079_CSMS": (
        _call("GetLog", {"log": {"remoteLocation": "ftp://elsewhere.example/"}}),
        ("1", "GetLog.req", "log.remoteLocation", "logs.example.com", "elsewhere.example"),
    ),
    "TC_080_CSMS": (
        _call("SignedUpdateFirmware", {"firmware": {"signature": "AAAA"}}),
        ("1", "SignedUpdateFirmware.req", "firmware.signature", "<Configured signature>", "AAAA"),
    ),
    "TC_081_CSMS": (
        {"name": "schema_invalid_response", "action": "SignedFirmwareStatusNotification"},
        ("4", "SignedFirmwareStatusNotification.conf", "", "schema-valid", "unexpectedField"),
    ),
    "TC_087_CSMS": (
        {"name": "refuse_security_profile", "profile": 3},
        ("6", "WebSocket connection", "", "client certificate", "401"),
    ),
}


def test_every_security_case_has_a_fault_aimed_at_it() -> None:
    assert sorted(FAULTS) == sorted(SECURITY_IDS)


@pytest.mark.parametrize("case_id", SECURITY_IDS)
def test_security_case_fails_against_the_fault_aimed_at_it(tb: demo.DemoRun, cp_id: str, case_id: str) -> None:
    fault, (step, message, field, expected, actual) = FAULTS[case_id]
    result = run(tb, options_for(tb, cp_id, only=(case_id,), step_timeout=1.0), fault).by_id()[case_id]
    assert result.verdict == Verdict.failed, (result.verdict, result.reason, result.error_detail)
    check = result.first_failure
    assert check is not None
    assert (check.step, check.message, check.field) == (step, message, field), check
    assert expected in check.expected and actual in check.actual, check
    if message != "WebSocket connection" or step != "6":  # (a refused connection carries no frame)
        assert result.wire, "the case's wire log is recorded"


def test_tc073_fails_when_the_csms_still_accepts_the_old_password(tb: demo.DemoRun, cp_id: str) -> None:
    """Whitepaper A01.FR.03: after an Accepted AuthorizationKey the old credentials are refused."""
    case_id = "TC_073_CSMS"
    result = run(tb, options_for(tb, cp_id, only=(case_id,)), {"name": "accept_any_credentials"}).by_id()[case_id]
    assert result.verdict == Verdict.failed, (result.verdict, result.reason)
    check = result.first_failure
    assert check is not None and (check.step, check.field) == ("3", "Authorization")
    assert "previous password refused" in check.expected and "let it in" in check.actual
    # ... and the case went on to the end: only that check failed, the new key connected.
    assert result.failed_checks == [check]


def test_tc073_fails_when_the_csms_does_not_use_the_key_it_set(tb: demo.DemoRun, cp_id: str) -> None:
    """A CSMS that keeps the old password after an Accepted AuthorizationKey (A01.FR.03) FAILS step
    3 twice: the old password still gets in, the new one is refused. The clean-up then connects
    with the run's own password, so the next case does not fail for it."""
    options = options_for(tb, cp_id, only=("TC_073_CSMS", "TC_079_CSMS"))
    result = run(tb, options, {"name": "keep_old_password"})
    tc073, tc079 = result.cases
    assert tc073.verdict == Verdict.failed, (tc073.verdict, tc073.reason)
    failed = [(c.step, c.message, c.field) for c in tc073.failed_checks]
    assert failed == [("3", "WebSocket connection", "Authorization"), ("3", "WebSocket connection", "")], failed
    assert "401" in tc073.failed_checks[1].actual
    assert any("the run's own password connected again" in note for note in tc073.notes), tc073.notes
    assert tc079.verdict == Verdict.passed, tc079.reason


def test_the_new_authorization_key_is_the_password_for_the_rest_of_the_run(tb: demo.DemoRun, cp_id: str) -> None:
    """After TC_073 the testbed refuses the old password (A01.FR.03): the runner keeps the new one,
    so the cases after it connect and pass; the key never shows in the report."""
    key = "00112233445566778899AABBCCDDEEFF"
    data = replace(tb.options.test_data, authorization_key=key)
    options = options_for(tb, cp_id, only=("TC_073_CSMS", "TC_080_CSMS", "TC_085_CSMS"), test_data=data)
    result = run(tb, options)
    assert [(c.case_id, c.verdict) for c in result.cases] == [
        ("TC_073_CSMS", Verdict.passed),
        ("TC_080_CSMS", Verdict.passed),  # (a reboot: a new connection with the new key)
        ("TC_085_CSMS", Verdict.passed),
    ], [c.reason for c in result.cases]
    # The old password is refused from then on (A01.FR.03): the key really changed in the CSMS.
    assert any(c.expected.startswith("the previous password refused") and c.ok for c in result.cases[0].checks)
    report = json.dumps(run_json(result))
    assert key not in report and key.lower() not in report
    assert all(key not in entry.raw for case in result.cases for entry in case.wire)


def test_profile_3_run_passes_the_client_certificate_cases(tb: demo.DemoRun, cp_id: str) -> None:
    """With only a client certificate (security profile 3), TC_074, TC_077 and TC_087 run on the
    run's own connection; the Basic auth cases are NOT APPLICABLE."""
    security = replace(tb.options.security, profile=3, password=None)
    only = ("TC_073_CSMS", "TC_074_CSMS", "TC_077_CSMS", "TC_085_CSMS", "TC_087_CSMS")
    result = run(tb, options_for(tb, cp_id, security=security, only=only))
    verdicts = {c.case_id: c.verdict for c in result.cases}
    assert verdicts == {
        "TC_073_CSMS": Verdict.not_applicable,
        "TC_074_CSMS": Verdict.passed,
        "TC_077_CSMS": Verdict.passed,
        "TC_085_CSMS": Verdict.not_applicable,
        "TC_087_CSMS": Verdict.passed,
    }, [(c.case_id, c.reason) for c in result.cases]
    assert "Basic authentication" in result.by_id()["TC_073_CSMS"].reason
    # TC_074's step 7: the CSMS saw a connection with the new certificate.
    signed = record(tb.testbed, cp_id)["certificates_signed"][0]
    assert signed["status"] == "Accepted"
    assert record(tb.testbed, cp_id)["security_profile"] == 3


@pytest.mark.parametrize(
    ("changes", "cases", "reason"),
    [
        (
            {"security_remove": ("client_cert", "client_key")},
            ("TC_074_CSMS", "TC_077_CSMS", "TC_087_CSMS"),
            "needs security profile 3: a wss:// URL and --client-cert/--client-key",
        ),
        ({"data": {"manufacturer_root": None}}, ("TC_080_CSMS", "TC_081_CSMS"), "--manufacturer-root"),
        ({"data": {"firmware_signature": None}}, ("TC_080_CSMS",), "--firmware-signature"),
        (
            {"data": {"manufacturer_root": "ROOT"}},
            ("TC_080_CSMS", "TC_081_CSMS"),
            "--signing-certificate does not chain to --manufacturer-root",
        ),
    ],
)
def test_missing_set_up_makes_the_cases_not_applicable(
    tb: demo.DemoRun, cp_id: str, changes: dict[str, Any], cases: tuple[str, ...], reason: str
) -> None:
    security = tb.options.security
    for name in changes.get("security_remove", ()):
        security = replace(security, **{name: None})
    data = dict(changes.get("data", {}))
    if data.get("manufacturer_root") == "ROOT":
        data["manufacturer_root"] = tb.options.security.ca_file  # a root the signing certificate is not from
    options = options_for(tb, cp_id, security=security, only=cases)
    options = replace(options, test_data=replace(options.test_data, **data))
    result = run(tb, options)
    for case in result.cases:
        assert case.verdict == Verdict.not_applicable, (case.case_id, case.verdict, case.reason)
        assert reason in case.reason, case.reason
    assert result.exit_code == 0


def test_the_demonstration_signs_its_firmware_and_the_default_invalid_signature_signs_nothing(
    tls_demo: demo.DemoRun,
) -> None:
    """By the simulated charger's convention (the image is the location's bytes) the demonstration's
    <Configured signature> verifies with its signing certificate, and TC_081's default <An invalid
    signature.> does not (checked with the engine's L01.FR.04 verification)."""
    data = tls_demo.options.test_data
    assert data.signing_certificate and data.firmware_signature
    signer = parse_pem(Path(data.signing_certificate).read_text())[0]
    image = data.firmware_url.encode()
    assert verify_signature(signer, data.firmware_signature, image) is None
    assert verify_signature(signer, TestData().invalid_firmware_signature, image) is not None
