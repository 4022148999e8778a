"""A charge point that behaves like a real one (issue 12, deliverable 4), against the testbed: an
EV that is full stops drawing power (SuspendedEV), injected faults (Faulted with an error code,
then recovery), the firmware version after an UpdateFirmware, and TriggerMessage's Idle."""

from __future__ import annotations

from collections.abc import Iterator

import gevent
import pytest

from ocpp_users.embedded import TestbedProcess
from ocpp_users.v16.settings import Behaviour, Habits
from ocpp_users.v16.station import Station
from tests.station_helpers import MakeStation, actions, clear, record, session, station_factory
from tests.test_handlers import TAG, payloads, result_of, statuses, wait_status, wait_until


@pytest.fixture
def make_cp(csms: TestbedProcess, cp_id: str) -> Iterator[MakeStation]:
    with station_factory(csms, cp_id) as make:
        yield make


def _value(message: dict, measurand: str) -> float:
    [reading] = message["meterValue"]
    [value] = [v for v in reading["sampledValue"] if v["measurand"] == measurand]
    return float(value["value"])


def test_a_full_ev_stops_drawing_power(csms: TestbedProcess, make_cp: MakeStation) -> None:
    """§7.7 SuspendedEV (errata 3.55): "the EVSE is willing and ready to offer energy, but the EV is
    not taking any": once its battery is full the connector reports SuspendedEV, power drops to 0
    and the energy register stops; the transaction goes on until the driver ends it."""
    # A 50 Wh battery arriving 10-60 % full, 10 kW, 20 x time: full after 0.36 to 0.81 s.
    cp = make_cp(habits=Habits(battery_wh=(50.0, 50.0)), power_range_w=(10000.0, 10000.0), meter_interval_override=0.2)
    session(cp, duration=1.5)
    assert statuses(csms, cp.cp_id, 1) == ["Preparing", "Charging", "SuspendedEV", "Finishing", "Available"]
    readings = payloads(csms, cp.cp_id, "MeterValues")
    full = [m for m in readings if _value(m, "SoC") >= 100]
    assert full and len(full) < len(readings), [_value(m, "SoC") for m in readings]
    assert all(_value(m, "Power.Active.Import") == 0.0 for m in full)
    assert len({_value(m, "Energy.Active.Import.Register") for m in full}) == 1
    assert _value(readings[0], "Power.Active.Import") == 10000.0
    [stop] = payloads(csms, cp.cp_id, "StopTransaction")
    assert stop["reason"] == "Local"


def test_injected_faults_come_and_go(csms: TestbedProcess, make_cp: MakeStation) -> None:
    """``Habits.fault_rate_per_hour``: connectors go Faulted with an errorCode from ``fault_codes``
    and recover to Available after ``fault_duration``; none without a rate."""
    quiet = make_cp()
    cp = make_cp(habits=Habits(fault_rate_per_hour=3600.0, fault_duration=(6.0, 6.0), fault_codes=("HighTemperature",)))

    def notes() -> list[tuple[str, str]]:
        return [(p["status"], p["errorCode"]) for p in payloads(csms, cp.cp_id, "StatusNotification")]

    fault, recovery = ("Faulted", "HighTemperature"), ("Available", "NoError")
    wait_until(
        lambda: recovery in notes()[notes().index(fault) :] if fault in notes() else False, 5, "a fault, then recovery"
    )
    sequence = notes()
    assert sequence[sequence.index(fault) + 1] == recovery, sequence
    assert set(sequence) == {fault, recovery}, sequence
    assert payloads(csms, quiet.cp_id, "StatusNotification") == []


def test_a_fault_during_a_transaction(csms: TestbedProcess, make_cp: MakeStation) -> None:
    """A fault on a charging connector stops its transaction (reason Other), the connector is
    Faulted (Finishing -> Faulted, §4.9) and refuses a remote start (OCTT TC_041_CS) until it
    recovers."""
    cp = make_cp()
    running = cp.start_session(1, TAG, 30.0)
    wait_status(csms, cp.cp_id, 1, "Charging")
    cp.inject_fault(1, "GroundFailure", 1.0)
    running.join(timeout=5)
    [stop] = payloads(csms, cp.cp_id, "StopTransaction")
    assert stop["reason"] == "Other"
    faulted = [p for p in payloads(csms, cp.cp_id, "StatusNotification") if p["status"] == "Faulted"]
    assert [p["errorCode"] for p in faulted] == ["GroundFailure"]
    assert statuses(csms, cp.cp_id, 1)[-2:] == ["Finishing", "Faulted"]
    remote = {"idTag": TAG, "connectorId": 1}
    assert result_of(csms, cp.cp_id, "RemoteStartTransaction", remote) == {"status": "Rejected"}
    wait_status(csms, cp.cp_id, 1, "Available", timeout=3)
    assert result_of(csms, cp.cp_id, "RemoteStartTransaction", remote) == {"status": "Accepted"}


def _firmware_statuses(csms: TestbedProcess, cp: Station) -> list[str]:
    return [p["status"] for p in payloads(csms, cp.cp_id, "FirmwareStatusNotification")]


@pytest.mark.parametrize("outcome", ["Installed", "InstallationFailed"])
def test_firmware_version_after_update_firmware(csms: TestbedProcess, make_cp: MakeStation, outcome: str) -> None:
    """After a successful UpdateFirmware the charger reboots and its BootNotification reports the
    new firmwareVersion (the image's name), then Installed (§4.5, §5.19); a failed installation
    keeps the old version. A TriggerMessage then gets Idle, not the last outcome (§4.5: "The Charge
    Point SHALL only send the status Idle after receipt of a TriggerMessage ... when it is not busy
    downloading/installing firmware"; OCTT TC_054_CS)."""
    cp = make_cp(behaviour=Behaviour(firmware_outcome=outcome))
    before = record(csms, cp)["last_boot"]["firmwareVersion"]
    body = {"location": "https://firmware.example/vcp-9.8.7.bin", "retrieveDate": "2020-01-01T00:00:00Z"}
    assert result_of(csms, cp.cp_id, "UpdateFirmware", body) == {}
    wait_until(lambda: _firmware_statuses(csms, cp)[-1:] == [outcome], 5, outcome)
    after = record(csms, cp)["last_boot"]["firmwareVersion"]
    if outcome == "Installed":
        assert (before, after) == (cp.settings.firmware_version, "vcp-9.8.7")
        sent = actions(csms, cp)
        assert sent.index("BootNotification") < len(sent) - 1 - sent[::-1].index("FirmwareStatusNotification")
    else:
        assert after == before and "BootNotification" not in actions(csms, cp)
    clear(csms, cp)
    trigger = {"requestedMessage": "FirmwareStatusNotification"}
    assert result_of(csms, cp.cp_id, "TriggerMessage", trigger) == {"status": "Accepted"}
    wait_until(lambda: _firmware_statuses(csms, cp) == ["Idle"], 3, "Idle")


def test_triggered_diagnostics_status_is_idle_unless_uploading(csms: TestbedProcess, make_cp: MakeStation) -> None:
    """§4.4: DiagnosticsStatusNotification Idle "when it is not busy uploading diagnostics": Uploading
    while an upload runs, Idle after it (not Uploaded again)."""
    cp = make_cp(time_factor=1.0)  # the upload takes a second
    assert "fileName" in result_of(csms, cp.cp_id, "GetDiagnostics", {"location": "ftp://diag.example/up"})
    trigger = {"requestedMessage": "DiagnosticsStatusNotification"}

    def notified() -> list[str]:
        return [p["status"] for p in payloads(csms, cp.cp_id, "DiagnosticsStatusNotification")]

    wait_until(lambda: notified() == ["Uploading"], 2, "Uploading")
    assert result_of(csms, cp.cp_id, "TriggerMessage", trigger) == {"status": "Accepted"}
    wait_until(lambda: notified() == ["Uploading", "Uploading"], 2, "Uploading (triggered)")
    wait_until(lambda: notified()[-1] == "Uploaded", 3, "Uploaded")
    gevent.sleep(0.05)
    assert result_of(csms, cp.cp_id, "TriggerMessage", trigger) == {"status": "Accepted"}
    wait_until(lambda: notified()[-1:] == ["Idle"], 2, "Idle")
