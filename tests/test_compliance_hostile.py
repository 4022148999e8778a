"""The compliance report hides nothing the CSMS did (issue 10, item 7).

Every invalid frame the CSMS sends during a case (not JSON, not an array, a binary frame, a
duplicate answer, an answer with an unknown id) is in that case's notes and in the JSON report;
and the reported times include every wait on the CSMS: the set-up's, the probe's, each case's
and its clean-up's, so that they add up to the run's.
"""

from __future__ import annotations

import pytest

from ocpp_users.embedded import TestbedProcess
from scenarios.reporting import run_json
from scenarios.results import Verdict
from scenarios.runner import ConnectionFailed, Runner
from tests.test_compliance_suite import options_for, run_with_fault

KINDS = {
    "not_json": "invalid frame: not valid JSON",
    "not_array": "invalid frame: not a JSON array but dict",
    "binary": "binary frame (OCPP-J uses text frames)",
    "duplicate": "duplicate CALLRESULT: that call was answered already",
    "unknown_id": "CALLRESULT with unknown message id",
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_invalid_frame_of_a_case_is_in_its_notes_and_the_json(
    csms: TestbedProcess, cp_id: str, kind: str
) -> None:
    run = run_with_fault(csms, cp_id, "TC_001_CSMS", {"name": "extra_frame", "kind": kind}, probe=False)
    case = run.by_id()["TC_001_CSMS"]
    assert case.verdict == Verdict.passed, case.reason  # the CSMS answered; the garbage is noted, not judged
    reasons = {frame.reason for frame in case.invalid_frames}
    assert reasons == {KINDS[kind]}, reasons
    # one per answer the CSMS sent during the case: BootNotification, 2 StatusNotifications, Heartbeat
    # (the one after the last answer may land just after the case has ended: then it is the run's)
    assert len(case.invalid_frames) >= 3, case.invalid_frames
    assert len(case.invalid_frames) + len(run.invalid_frames) >= 4, (case.invalid_frames, run.invalid_frames)
    notes = [n for n in case.notes if n.startswith("the CSMS sent an invalid frame during the case: ")]
    assert len(notes) == len(case.invalid_frames), case.notes
    assert all(KINDS[kind] in n for n in notes)
    [reported] = [c for c in run_json(run)["cases"] if c["id"] == "TC_001_CSMS"]
    assert [f["reason"] for f in reported["invalid_frames"]] == [f.reason for f in case.invalid_frames]
    assert notes[0] in reported["notes"]
    if kind == "not_json":
        assert reported["invalid_frames"][0]["frame"] == '[3,"oops" {not json'


def test_a_correct_csms_leaves_no_invalid_frame_note(csms: TestbedProcess, cp_id: str) -> None:
    run = Runner(options_for(csms, cp_id, only=("TC_001_CSMS",), probe=False)).run()
    case = run.by_id()["TC_001_CSMS"]
    assert case.verdict == Verdict.passed
    assert case.invalid_frames == [] and run.invalid_frames == []
    assert not [n for n in case.notes + run.notes if "invalid frame" in n]


def test_invalid_frames_during_the_set_up_are_run_notes(csms: TestbedProcess, cp_id: str) -> None:
    status, _ = csms.api("PUT", "/faults", {"name": "extra_frame", "kind": "binary"})
    assert status == 200
    run = Runner(options_for(csms, cp_id, only=("TC_001_CSMS",), probe=False)).run()
    assert run.invalid_frames and all(f.reason == KINDS["binary"] for f in run.invalid_frames)
    assert any(n.startswith("the CSMS sent an invalid frame during the set-up and probe: ") for n in run.notes)
    assert run_json(run)["invalid_frames"][0]["reason"] == KINDS["binary"]


def test_the_times_include_every_wait_on_the_csms(csms: TestbedProcess, cp_id: str) -> None:
    """Every answer comes 0.2 s late: the set-up (BootNotification and two StatusNotifications),
    the probe (a call at a time), the case and its clean-up (TC_003 leaves its transaction, the
    clean-up stops it) each show their waits, and the parts add up to the run."""
    delay = 0.2
    status, _ = csms.api("PUT", "/faults", {"name": "late_answer", "seconds": delay})
    assert status == 200
    run = Runner(options_for(csms, cp_id, only=("TC_003_CSMS",))).run()
    case = run.by_id()["TC_003_CSMS"]
    assert case.verdict == Verdict.passed, case.reason
    assert run.setup_duration >= 3 * delay, run.setup_duration
    assert run.probe_duration is not None and run.probe_duration >= 8 * delay, run.probe_duration
    assert case.cleanup_duration >= delay, case.cleanup_duration  # at least the StopTransaction
    calls = sum(1 for entry in case.wire if entry.direction == "out" and entry.raw.startswith("[2,"))
    assert calls >= 3
    assert case.duration >= case.cleanup_duration + calls * delay, (case.duration, case.cleanup_duration, calls)
    parts = run.setup_duration + run.probe_duration + sum(c.duration for c in run.cases)
    assert run.duration - 1.0 <= parts <= run.duration, (parts, run.duration)
    report = run_json(run)
    assert report["setup_duration_s"] == round(run.setup_duration, 3)
    assert report["cases"][0]["cleanup_s"] == round(case.cleanup_duration, 3)


def test_a_csms_that_never_answers_the_boot_ends_the_run_with_its_wait(csms: TestbedProcess, cp_id: str) -> None:
    status, _ = csms.api("PUT", "/faults", {"name": "no_answer", "action": "BootNotification"})
    assert status == 200
    runner = Runner(options_for(csms, cp_id, only=("TC_001_CSMS",), connect_timeout=1.5, step_timeout=1.5))
    with pytest.raises(ConnectionFailed, match=r"did not answer the BootNotification within 1\.5 s"):
        runner.run()
    assert runner.result.setup_duration >= 1.5, runner.result.setup_duration
    assert runner.result.duration >= runner.result.setup_duration
