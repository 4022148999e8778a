"""The cases of the optional feature profiles (Local Auth List, Firmware Management, Reservation,
Remote Trigger, Smart Charging) against the testbed: each PASSES against the correct testbed (in
the whole-suite test of test_compliance_suite, and here once per profile package) and FAILS, at
the step the fault hits, against a testbed fault switch aimed at it. Feature profiles: declared,
claimed by the probe, or not."""

from __future__ import annotations

from typing import Any

import pytest

from ocpp_users.embedded import TestbedProcess
from scenarios.base import all_cases
from scenarios.results import Verdict
from scenarios.runner import Runner
from tests.test_compliance_suite import CORE_IDS, REGISTERED_IDS, options_for, run_with_fault

PROFILE_IDS = [c.case_id for c in all_cases() if c.profile not in ("Core", "Security")]


def _call(action: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The testbed alters the CSMS-initiated ``action`` it sends (a null value removes a field)."""
    return {"name": "override_call", "action": action, "payload": payload}


#: case id -> (fault, (step, message, field, text in expected, text in actual)) of the first failing check.
FAULTS: dict[str, tuple[dict[str, Any], tuple[str, str, str, str, str]]] = {
    "TC_042_1_CSMS": (
        _call("GetLocalListVersion", {"listVersion": 3}),
        ("1", "GetLocalListVersion.req", "", "schema-valid", "listVersion"),
    ),
    "TC_042_2_CSMS": (
        _call("GetLocalListVersion", {"listVersion": 3}),
        ("1", "GetLocalListVersion.req", "", "schema-valid", "listVersion"),
    ),
    "TC_043_1_CSMS": (
        _call("SendLocalList", {"updateType": "Differential"}),
        ("1", "SendLocalList.req", "updateType", "Full", "Differential"),
    ),
    "TC_043_3_CSMS": (
        _call("SendLocalList", {"updateType": "Differential"}),
        ("1", "SendLocalList.req", "updateType", "Full", "Differential"),
    ),
    "TC_043_4_CSMS": (
        _call("SendLocalList", {"localAuthorizationList": [{"idTag": "VOCPP-NO-INFO"}]}),
        ("1", "SendLocalList.req", "localAuthorizationList.idTagInfo", "an idTagInfo in every entry", "VOCPP-NO-INFO"),
    ),
    "TC_043_5_CSMS": (
        _call("SendLocalList", {"listVersion": 0}),
        ("3", "SendLocalList.req", "listVersion", "above the installed one (0)", "answered status VersionMismatch"),
    ),
    "TC_044_1_CSMS": (
        _call("UpdateFirmware", {"location": "https://elsewhere.example/fw.bin"}),
        ("1", "UpdateFirmware.req", "location", "firmware.example.com", "elsewhere.example"),
    ),
    "TC_044_2_CSMS": (
        {"name": "callerror", "action": "FirmwareStatusNotification", "code": "InternalError"},
        ("4", "FirmwareStatusNotification.conf", "", "CALLRESULT", "CALLERROR InternalError"),
    ),
    "TC_044_3_CSMS": (
        {"name": "override_response", "action": "BootNotification", "payload": {"status": "Rejected"}},
        ("12", "BootNotification.conf", "status", "Accepted", "Rejected"),
    ),
    "TC_045_1_CSMS": (
        {"name": "schema_invalid_response", "action": "DiagnosticsStatusNotification"},
        ("4", "DiagnosticsStatusNotification.conf", "", "schema-valid", "unexpectedField"),
    ),
    "TC_045_2_CSMS": (
        {"name": "callerror", "action": "DiagnosticsStatusNotification", "code": "NotSupported"},
        ("4", "DiagnosticsStatusNotification.conf", "", "CALLRESULT", "CALLERROR NotSupported"),
    ),
    "TC_046_CSMS": (_call("ReserveNow", {"connectorId": 2}), ("1", "ReserveNow.req", "connectorId", "1", "2")),
    "TC_047_CSMS": (
        _call("ReserveNow", {"expiryDate": "2031-01-01T00:00:00Z"}),
        ("1", "ReserveNow.req", "expiryDate", "<Configured Expiry Date Offset> 0.5 s", "2031-01-01"),
    ),
    "TC_048_1_CSMS": (
        _call("ReserveNow", {"idTag": "VOCPP-OTHER"}),
        ("1", "ReserveNow.req", "idTag", "VOCPP-VALID", "VOCPP-OTHER"),
    ),
    "TC_048_2_CSMS": (_call("ReserveNow", {"connectorId": 2}), ("3", "ReserveNow.req", "connectorId", "1", "2")),
    "TC_048_3_CSMS": (
        _call("ChangeAvailability", {"type": "Operative"}),
        ("1", "ChangeAvailability.req", "type", "Inoperative", "Operative"),
    ),
    "TC_048_4_CSMS": (
        _call("ReserveNow", {"idTag": "VOCPP-OTHER"}),
        ("1", "ReserveNow.req", "idTag", "VOCPP-VALID", "VOCPP-OTHER"),
    ),
    "TC_049_CSMS": (_call("ReserveNow", {"connectorId": 1}), ("1", "ReserveNow.req", "connectorId", "0", "1")),
    "TC_051_CSMS": (
        _call("CancelReservation", {"reservationId": 1}),
        ("5", "CancelReservation.req", "reservationId", "", "1"),
    ),
    "TC_052_CSMS": (
        {"name": "ignore_trigger", "action": "CancelReservation"},
        ("5", "CancelReservation.req", "", "CancelReservation.req", "none within"),
    ),
    "TC_053_CSMS": (
        {"name": "override_response", "action": "Authorize", "payload": {"idTagInfo": {"parentIdTag": "VOCPP-ELSE"}}},
        ("7", "Authorize.conf", "idTagInfo.parentIdTag", "VOCPP-PARENT", "VOCPP-ELSE"),
    ),
    "TC_054_CSMS": (_call("TriggerMessage", {"connectorId": 2}), ("1", "TriggerMessage.req", "connectorId", "1", "2")),
    "TC_055_CSMS": (_call("TriggerMessage", {"connectorId": 1}), ("1", "TriggerMessage.req", "connectorId", "2", "1")),
    "TC_056_CSMS": (
        _call(
            "SetChargingProfile",
            {"csChargingProfiles": {"chargingSchedule": {"chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}]}}},
        ),
        ("1", "SetChargingProfile.req", "chargingSchedulePeriod.0.limit", "6.0 OR 6000.0", "16"),
    ),
    "TC_057_CSMS": (
        _call("SetChargingProfile", {"csChargingProfiles": {"transactionId": 999999}}),
        ("1", "SetChargingProfile.req", "csChargingProfiles.transactionId", "", "999999"),
    ),
    "TC_066_CSMS": (
        _call("GetCompositeSchedule", {"chargingRateUnit": "W"}),
        ("1", "GetCompositeSchedule.req", "chargingRateUnit", "A", "W"),
    ),
    "TC_067_CSMS": (
        _call("ClearChargingProfile", {"stackLevel": 5}),
        ("3", "ClearChargingProfile.req", "stackLevel", "omitted", "5"),
    ),
    "TC_059_CSMS": (
        _call("RemoteStartTransaction", {"chargingProfile": {"chargingProfileKind": "Absolute"}}),
        ("1", "RemoteStartTransaction.req", "chargingProfile.chargingProfileKind", "Relative", "Absolute"),
    ),
}


def test_every_profile_case_is_registered_in_document_order_and_has_a_fault() -> None:
    assert sorted(FAULTS) == sorted(PROFILE_IDS)
    security = {c.case_id for c in all_cases() if c.profile == "Security"}
    assert PROFILE_IDS == [i for i in REGISTERED_IDS if i not in CORE_IDS and i not in security]


@pytest.mark.parametrize("case_id", PROFILE_IDS)
def test_profile_case_fails_at_the_step_the_fault_hits(csms: TestbedProcess, cp_id: str, case_id: str) -> None:
    fault, (step, message, field, expected, actual) = FAULTS[case_id]
    run = run_with_fault(csms, cp_id, case_id, fault, step_timeout=0.5, probe=False)
    result = run.by_id()[case_id]
    assert result.verdict == Verdict.failed, (result.verdict, result.reason, result.error_detail)
    check = result.first_failure
    assert check is not None
    assert (check.step, check.message) == (step, message), check
    assert check.field.endswith(field), check
    assert expected in check.expected and actual in check.actual, check
    assert f"step {step} ({message})" in result.reason


def test_the_clean_up_resets_what_the_profile_cases_change(csms: TestbedProcess, cp_id: str) -> None:
    """Reservations (and their timers), availability, charging profiles, the local list and
    configuration keys are back as they were after each case, even one that FAILED half-way, so
    the next case starts from OCTT §1.3."""
    failing = {"TC_052_CSMS", "TC_067_CSMS"}

    def before(case_id: str) -> None:
        if case_id == "TC_067_CSMS":  # fails at step 5: profiles 2 and 3 stay installed
            csms.api(
                "PUT", "/faults", {"name": "override_call", "action": "ClearChargingProfile", "payload": {"id": 1}}
            )
        if case_id == "TC_052_CSMS":  # fails at step 5: the reservation stays
            csms.api("PUT", "/faults", {"name": "ignore_trigger", "action": "CancelReservation"})

    def after(_case: str) -> None:
        csms.api("DELETE", "/faults")

    sequence = ("TC_052", "TC_046", "TC_048_3", "TC_049", "TC_042_1", "TC_043_4", "TC_067", "TC_066", "TC_042_2")
    runner = Runner(
        options_for(csms, cp_id, only=sequence, step_timeout=0.5, probe=False), before_case=before, after_case=after
    )
    run = runner.run()
    for result in run.cases:
        expected = Verdict.failed if result.case_id in failing else Verdict.passed
        assert result.verdict == expected, (result.case_id, result.reason)
    cp = runner.charge_point
    assert all(c.reservation is None and c.operative for c in cp.connectors.values())
    assert not any(cp.state.profiles.by_connector.values())
    assert (cp.state.local_list.version, cp.state.local_list.entries) == (0, {})
    assert cp.configuration.get("LocalAuthListEnabled") == "true"
    assert cp.configuration.get("ReserveConnectorZeroSupported") == "false"
    _, record = csms.api("GET", f"/cps/{cp_id}")
    assert set(record["statuses"].values()) == {"Available"}


def test_declared_profiles_gate_the_cases(csms: TestbedProcess, cp_id: str) -> None:
    """--profiles: a case of an undeclared profile is NOT APPLICABLE, saying so."""
    only = ("TC_042_2", "TC_044_2", "TC_046", "TC_054", "TC_056", "TC_001")
    options = options_for(csms, cp_id, only=only, profiles=frozenset({"Core", "Reservation"}), probe=False)
    run = Runner(options).run()
    by_id = run.by_id()
    assert by_id["TC_001_CSMS"].verdict == Verdict.passed
    assert by_id["TC_046_CSMS"].verdict == Verdict.passed
    for case_id, profile in (
        ("TC_042_2_CSMS", "LocalAuthListManagement"),
        ("TC_044_2_CSMS", "FirmwareManagement"),
        ("TC_054_CSMS", "RemoteTrigger"),
        ("TC_056_CSMS", "SmartCharging"),
    ):
        result = by_id[case_id]
        assert result.verdict == Verdict.not_applicable, (case_id, result.reason)
        assert result.reason == f"the {profile} profile is not declared (--profiles Core,Reservation)"
    assert run.profiles == ["Core", "Reservation"] and run.profiles_source == "--profiles"
    assert "4 cases are of a feature profile not declared" not in "\n".join(run.not_run())  # one line per profile
    assert any("LocalAuthListManagement not declared; declare it with --profiles" in line for line in run.not_run())


@pytest.mark.parametrize("declared", [False, True], ids=["probe-rules-it-out", "declared"])
def test_firmware_management_unsupported(csms: TestbedProcess, cp_id: str, declared: bool) -> None:
    """A CSMS answering FirmwareStatusNotification NotImplemented: without --profiles the probe
    rules FirmwareManagement out (its cases, and TC_054 which needs the notifications, are NOT
    APPLICABLE); declared with --profiles, its cases FAIL."""
    fault = {"name": "callerror", "action": "FirmwareStatusNotification", "code": "NotImplemented"}
    status, body = csms.api("PUT", "/faults", fault)
    assert status == 200, body
    profiles = frozenset({"Core", "FirmwareManagement", "RemoteTrigger"}) if declared else None
    try:
        options = options_for(csms, cp_id, only=("TC_044_2", "TC_054", "TC_001"), profiles=profiles)
        run = Runner(options).run()
    finally:
        csms.api("DELETE", "/faults")
    by_id = run.by_id()
    assert by_id["TC_001_CSMS"].verdict == Verdict.passed
    assert run.support["FirmwareStatusNotification"].state == "unsupported"
    firmware, trigger = by_id["TC_044_2_CSMS"], by_id["TC_054_CSMS"]
    if declared:
        for result in (firmware, trigger):
            assert result.verdict == Verdict.failed, result.reason
            check = result.first_failure
            assert check is not None and check.step == "probe"
            assert check.expected == "FirmwareStatusNotification supported (FirmwareManagement profile, declared)"
            assert check.actual.startswith("CALLERROR NotImplemented")
        assert not run.ok
    else:
        assert firmware.verdict == Verdict.not_applicable
        assert firmware.reason.startswith("the CSMS does not support FirmwareStatusNotification")
        assert "FirmwareManagement profile counts as not claimed" in firmware.reason
        assert trigger.verdict == Verdict.not_applicable and "FirmwareStatusNotification" in trigger.reason
        assert "FirmwareManagement" not in run.profiles and run.profiles_source == "probe"
        assert run.ok
