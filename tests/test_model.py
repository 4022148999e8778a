"""Unit tests of the simulated charge point's model: status machine, configuration, meter,
authorization cache and local list, smart charging profiles."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta

import pytest

from ocpp_users.v16.state.auth import AuthorizationCache, LocalAuthList
from ocpp_users.v16.state.charging_profiles import ProfileStore
from ocpp_users.v16.state.config import ConfigStatus, Configuration
from ocpp_users.v16.state.meter import NOMINAL_VOLTAGE, Meter, utc_now
from ocpp_users.v16.state.status import ChargePointStatus, IllegalTransition, check_transition

# ---------------------------------------------------------------- status machine

# OCPP 1.6 §4.9, the table of possible status changes: rows are the old state (A..I), columns
# the new one; "x" marks a transition the table defines, "." one it does not ("-" the diagonal).
STATES = "Available Preparing Charging SuspendedEV SuspendedEVSE Finishing Reserved Unavailable Faulted".split()
TABLE = """
A  - x x x x . x x x
B  x - x x x x . . x
C  x . - x x x . x x
D  x . x - x x . x x
E  x . x x - x . x x
F  x x . . . - . x x
G  x x . . . . - x x
H  x x x x x . . - x
I  x x x x x x x x -
"""


def _table() -> dict[tuple[str, str], bool]:
    legal: dict[tuple[str, str], bool] = {}
    for row, line in zip(STATES, TABLE.strip().splitlines(), strict=True):
        marks = line.split()[1:]
        for column, mark in zip(STATES, marks, strict=True):
            legal[(row, column)] = mark in "x-"
    return legal


SPEC_TABLE = _table()


@pytest.mark.parametrize(("old", "new"), sorted(SPEC_TABLE))
def test_status_transitions_follow_the_1_6_table(old: str, new: str) -> None:
    if SPEC_TABLE[(old, new)]:
        check_transition(1, ChargePointStatus(old), ChargePointStatus(new))
    else:
        with pytest.raises(IllegalTransition, match=f"{old} -> {new} is not a legal 1.6 transition"):
            check_transition(1, ChargePointStatus(old), ChargePointStatus(new))


def test_connector_zero_is_only_available_unavailable_or_faulted() -> None:
    for old in ChargePointStatus:
        for new in ChargePointStatus:
            if new in ("Available", "Unavailable", "Faulted") or new == old:
                check_transition(0, old, new)
            else:
                with pytest.raises(IllegalTransition, match="connector 0"):
                    check_transition(0, old, new)


# ---------------------------------------------------------------- configuration


def test_get_configuration_all_keys() -> None:
    config = Configuration(number_of_connectors=2)
    found, unknown = config.report(None)
    assert unknown == []
    by_key = {entry["key"]: entry for entry in found}
    assert by_key["NumberOfConnectors"] == {"key": "NumberOfConnectors", "readonly": True, "value": "2"}
    assert by_key["HeartbeatInterval"]["readonly"] is False
    for required in (
        "AuthorizeRemoteTxRequests",
        "ConnectionTimeOut",
        "MeterValueSampleInterval",
        "SupportedFeatureProfiles",
        "GetConfigurationMaxKeys",
        "LocalAuthListEnabled",
    ):
        assert required in by_key
    assert config.report([]) == (found, [])  # an empty key list also means "all"


def test_get_configuration_asked_keys_and_unknown_keys() -> None:
    config = Configuration()
    found, unknown = config.report(["HeartbeatInterval", "NoSuchKey", "ResetRetries", "Also" + "x" * 60])
    assert [entry["key"] for entry in found] == ["HeartbeatInterval", "ResetRetries"]
    assert unknown == ["NoSuchKey", ("Also" + "x" * 60)[:50]]


@pytest.mark.parametrize(
    ("key", "value", "status", "stored"),
    [
        ("HeartbeatInterval", "45", ConfigStatus.accepted, "45"),
        ("HeartbeatInterval", "0045", ConfigStatus.accepted, "45"),
        ("AuthorizeRemoteTxRequests", "FALSE", ConfigStatus.accepted, "false"),
        (
            "MeterValuesSampledData",
            "Energy.Active.Import.Register,Voltage",
            ConfigStatus.accepted,
            "Energy.Active.Import.Register,Voltage",
        ),
        ("HeartbeatInterval", "-5", ConfigStatus.rejected, "300"),
        ("HeartbeatInterval", "ten", ConfigStatus.rejected, "300"),
        ("HeartbeatInterval", "", ConfigStatus.rejected, "300"),
        ("HeartbeatInterval", "\u00b2", ConfigStatus.rejected, "300"),  # str.isdigit() is True for "²"
        ("HeartbeatInterval", "\u0661\u0662", ConfigStatus.rejected, "300"),  # Arabic-Indic digits
        ("AuthorizeRemoteTxRequests", "maybe", ConfigStatus.rejected, "true"),
        (
            "MeterValuesSampledData",
            "Energy.Active.Import.Register,Bogus",
            ConfigStatus.rejected,
            "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage,SoC",
        ),
        ("NumberOfConnectors", "3", ConfigStatus.rejected, "1"),  # read-only
        (
            "SupportedFeatureProfiles",
            "Core",
            ConfigStatus.rejected,
            "Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger",
        ),
    ],
)
def test_change_configuration(key: str, value: str, status: str, stored: str) -> None:
    config = Configuration()
    assert config.change(key, value) == status
    assert config.get(key) == stored


def test_change_configuration_unknown_key_is_not_supported() -> None:
    config = Configuration()
    assert config.change("NoSuchKey", "1") == ConfigStatus.not_supported
    assert config.get("NoSuchKey") is None


def test_accepted_change_notifies_listeners_rejected_does_not() -> None:
    config = Configuration()
    seen: list[tuple[str, str, bool]] = []
    config.listen(lambda key, value, by_csms: seen.append((key, value, by_csms)))
    config.change("HeartbeatInterval", "12")
    config.change("HeartbeatInterval", "x")
    config.change("NumberOfConnectors", "4")
    config.set_internal("HeartbeatInterval", "30")  # from inside the charger (e.g. a case's clean-up)
    assert seen == [("HeartbeatInterval", "12", True), ("HeartbeatInterval", "30", False)]
    assert config.get_int("HeartbeatInterval") == 30


def test_overrides_and_typed_getters() -> None:
    config = Configuration(overrides={"HeartbeatInterval": "17", "VendorKey": "abc", "ResetRetries": "\u00b2"})
    assert config.get_int("HeartbeatInterval") == 17
    assert config.get("VendorKey") == "abc"
    assert config.get_int("ResetRetries", 3) == 3, "a non-ASCII digit string is not an integer"
    assert config.get_int("NoSuchKey", 9) == 9
    assert config.get_bool("AuthorizeRemoteTxRequests") is True
    assert config.get_bool("NoSuchKey", True) is True
    assert config.change("VendorKey", "anything") == ConfigStatus.accepted


# ---------------------------------------------------------------- meter


def _age(meter: Meter, seconds: float) -> None:
    """Pretend ``seconds`` of real time passed since the meter last integrated."""
    meter._last -= seconds


def test_meter_register_is_monotonic_and_energy_matches_power() -> None:
    meter = Meter((7400.0, 22000.0), rng=random.Random(1))
    before = meter.register()
    meter.start()
    power = meter.effective_power()
    assert 7400.0 <= power <= 22000.0
    _age(meter, 600)  # ten minutes
    after = meter.register()
    assert after - before == pytest.approx(power / 6, abs=2)
    readings = [after]
    for _ in range(20):
        _age(meter, 30)
        readings.append(meter.register())
    assert readings == sorted(readings)
    stopped = meter.stop()
    assert meter.effective_power() == 0.0
    _age(meter, 3600)
    assert meter.register() == stopped, "no energy flows when not charging"


def test_meter_time_factor_compresses_time() -> None:
    meter = Meter((10000.0, 10000.0), time_factor=60.0, rng=random.Random(2))
    start = meter.start()
    _age(meter, 60)  # one real minute is one simulated hour
    assert meter.register() - start == pytest.approx(10000, abs=2)


def test_meter_limit_caps_power() -> None:
    meter = Meter((11000.0, 11000.0), rng=random.Random(3))
    meter.start()
    meter.limit_w = 3680.0
    assert meter.effective_power() == 3680.0
    start = meter.register()
    _age(meter, 3600)
    assert meter.register() - start == pytest.approx(3680, abs=2)
    meter.limit_w = 50000.0
    assert meter.effective_power() == 11000.0
    meter.limit_w = 0.0
    assert meter.effective_power() == 0.0


def test_meter_soc_stops_at_full() -> None:
    meter = Meter((22000.0, 22000.0), rng=random.Random(4))
    meter.start()
    _age(meter, 10 * 3600)
    meter.register()
    assert meter.soc == 100.0
    assert meter.effective_power() == 0.0
    full = meter.register()
    _age(meter, 3600)
    assert meter.register() == full


def test_sampled_values_are_realistic() -> None:
    meter = Meter((11000.0, 11000.0), rng=random.Random(5))
    meter.start()
    values = meter.sampled_values(
        ["Energy.Active.Import.Register", "Power.Active.Import", "Current.Import", "Voltage", "SoC"]
    )
    by_measurand = {v["measurand"]: v for v in values}
    assert {v["unit"] for v in values} == {"Wh", "W", "A", "V", "Percent"}
    assert all(v["context"] == "Sample.Periodic" for v in values)
    assert float(by_measurand["Power.Active.Import"]["value"]) == pytest.approx(11000.0)
    assert float(by_measurand["Current.Import"]["value"]) == pytest.approx(11000.0 / (NOMINAL_VOLTAGE * 3), abs=0.01)
    assert 227.0 <= float(by_measurand["Voltage"]["value"]) <= 233.0
    assert 0 <= int(by_measurand["SoC"]["value"]) <= 100
    assert by_measurand["SoC"]["location"] == "EV"
    assert int(by_measurand["Energy.Active.Import.Register"]["value"]) == meter.register()
    value = meter.meter_value(["Energy.Active.Import.Register"], "Transaction.End")
    assert value["sampledValue"][0]["context"] == "Transaction.End"
    assert value["timestamp"].endswith("Z")


def test_utc_now_is_rfc3339_with_milliseconds() -> None:
    stamp = utc_now()
    parsed = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    assert parsed.tzinfo is not None
    assert abs((datetime.now(UTC) - parsed).total_seconds()) < 5
    assert len(stamp.split(".")[1]) == 4  # "123Z"


# ---------------------------------------------------------------- authorization


def test_authorization_cache() -> None:
    cache = AuthorizationCache()
    cache.update("TAG", {"status": "Accepted"})
    assert cache.lookup("TAG") == {"status": "Accepted"}
    cache.clear()
    assert cache.lookup("TAG") is None


def _item(tag: str, status: str | None = "Accepted") -> dict:
    return {"idTag": tag} if status is None else {"idTag": tag, "idTagInfo": {"status": status}}


def test_local_list_full_then_differential() -> None:
    local = LocalAuthList()
    assert local.apply(3, "Full", [_item("A"), _item("B", "Blocked")]) == "Accepted"
    assert local.version == 3
    assert local.lookup("B") == {"status": "Blocked"}
    assert local.apply(4, "Differential", [_item("C"), _item("A", None), _item("B")]) == "Accepted"
    assert local.version == 4
    assert set(local.entries) == {"B", "C"}
    assert local.lookup("B") == {"status": "Accepted"}
    assert local.apply(1, "Full", [_item("Z")]) == "Accepted", "a full update replaces whatever version"
    assert set(local.entries) == {"Z"} and local.version == 1


@pytest.mark.parametrize("version", [4, 3])
def test_local_list_differential_version_mismatch(version: int) -> None:
    local = LocalAuthList()
    local.apply(4, "Full", [_item("A")])
    assert local.apply(version, "Differential", [_item("B")]) == "VersionMismatch"
    assert set(local.entries) == {"A"} and local.version == 4


def test_local_list_too_long_or_invalid_fails_without_change() -> None:
    local = LocalAuthList(max_length=2)
    local.apply(1, "Full", [_item("A")])
    assert local.apply(2, "Full", [_item("A"), _item("B"), _item("C")]) == "Failed"
    assert local.apply(2, "Differential", [_item("B"), _item("C")]) == "Failed"
    assert local.apply(2, "Sideways", []) == "Failed"
    assert set(local.entries) == {"A"} and local.version == 1
    assert local.apply(2, "Full", []) == "Accepted"
    assert local.entries == {}


# ---------------------------------------------------------------- smart charging


def _profile(
    pid: int,
    purpose: str,
    level: int,
    limit: float,
    *,
    unit: str = "W",
    kind: str = "Absolute",
    start: datetime | None = None,
    duration: int | None = None,
    phases: int | None = None,
    periods: list[dict] | None = None,
    **extra: object,
) -> dict:
    schedule: dict = {"chargingRateUnit": unit}
    schedule["chargingSchedulePeriod"] = periods or [
        {"startPeriod": 0, "limit": limit, **({"numberPhases": phases} if phases else {})}
    ]
    if start is not None:
        schedule["startSchedule"] = start.isoformat().replace("+00:00", "Z")
    if duration is not None:
        schedule["duration"] = duration
    return {
        "chargingProfileId": pid,
        "stackLevel": level,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": kind,
        "chargingSchedule": schedule,
        **extra,
    }


NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def test_no_profile_means_unlimited() -> None:
    assert ProfileStore().limit_w(1, NOW) is None


def test_prevailing_limit_is_minimum_of_max_and_tx_profiles() -> None:
    store = ProfileStore()
    store.install(0, _profile(1, "ChargePointMaxProfile", 0, 11000, start=NOW))
    assert store.limit_w(1, NOW) == 11000
    store.install(1, _profile(2, "TxDefaultProfile", 0, 7000, start=NOW))
    assert store.limit_w(1, NOW) == 7000
    assert store.limit_w(2, NOW) == 11000, "connector 1's TxDefaultProfile does not limit connector 2"
    store.install(1, _profile(3, "TxProfile", 0, 20000, start=NOW))
    assert store.limit_w(1, NOW) == 11000, "TxProfile overrides TxDefault, ChargePointMax still caps"


def test_highest_stack_level_wins_and_same_id_replaces() -> None:
    store = ProfileStore()
    store.install(0, _profile(1, "TxDefaultProfile", 0, 5000, start=NOW))
    store.install(0, _profile(2, "TxDefaultProfile", 3, 9000, start=NOW))
    assert store.limit_w(1, NOW) == 9000
    store.install(0, _profile(2, "TxDefaultProfile", 1, 4000, start=NOW))  # id 2 replaced
    assert store.limit_w(1, NOW) == 4000
    assert len(store.by_connector[0]) == 2


def test_amps_are_converted_with_phases() -> None:
    store = ProfileStore()
    store.install(0, _profile(1, "TxDefaultProfile", 0, 16, unit="A", start=NOW))
    assert store.limit_w(1, NOW) == pytest.approx(16 * NOMINAL_VOLTAGE * 3)
    store.install(0, _profile(1, "TxDefaultProfile", 0, 16, unit="A", start=NOW, phases=1))
    assert store.limit_w(1, NOW) == pytest.approx(16 * NOMINAL_VOLTAGE)


def test_periods_duration_and_validity() -> None:
    store = ProfileStore()
    periods = [{"startPeriod": 0, "limit": 10000}, {"startPeriod": 600, "limit": 5000}]
    store.install(0, _profile(1, "TxDefaultProfile", 0, 0, start=NOW, duration=1200, periods=periods))
    assert store.limit_w(1, NOW + timedelta(seconds=10)) == 10000
    assert store.limit_w(1, NOW + timedelta(seconds=700)) == 5000
    assert store.limit_w(1, NOW + timedelta(seconds=1300)) is None, "past the schedule's duration"
    assert store.limit_w(1, NOW - timedelta(seconds=1)) is None, "before the schedule starts"
    store.install(
        0, _profile(2, "ChargePointMaxProfile", 0, 3000, start=NOW, validTo=(NOW - timedelta(hours=1)).isoformat())
    )
    assert store.limit_w(1, NOW + timedelta(seconds=10)) == 10000, "an expired profile does not apply"


def test_relative_profile_counts_from_transaction_start() -> None:
    store = ProfileStore()
    periods = [{"startPeriod": 0, "limit": 8000}, {"startPeriod": 300, "limit": 4000}]
    store.install(1, _profile(1, "TxProfile", 0, 0, kind="Relative", periods=periods))
    store.tx_start[1] = NOW
    assert store.limit_w(1, NOW + timedelta(seconds=100)) == 8000
    assert store.limit_w(1, NOW + timedelta(seconds=400)) == 4000


def test_recurring_daily_profile_wraps() -> None:
    store = ProfileStore()
    periods = [{"startPeriod": 0, "limit": 3000}, {"startPeriod": 3600, "limit": 9000}]
    store.install(
        0, _profile(1, "TxDefaultProfile", 0, 0, kind="Recurring", start=NOW, periods=periods, recurrencyKind="Daily")
    )
    assert store.limit_w(1, NOW + timedelta(days=3, minutes=30)) == 3000
    assert store.limit_w(1, NOW + timedelta(days=3, hours=2)) == 9000


def test_clear_profiles_by_criteria() -> None:
    store = ProfileStore()
    store.install(0, _profile(1, "ChargePointMaxProfile", 0, 11000, start=NOW))
    store.install(1, _profile(2, "TxDefaultProfile", 2, 7000, start=NOW))
    store.install(1, _profile(3, "TxProfile", 0, 6000, start=NOW))
    assert store.clear({"id": 99}) is False
    assert store.clear({"chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 1}) is False
    assert store.clear({"chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 2}) is True
    assert store.limit_w(1, NOW) == 6000
    store.clear_tx_profiles(1)
    assert store.limit_w(1, NOW) == 11000
    assert store.clear({"connectorId": 0}) is True
    assert store.limit_w(1, NOW) is None
    assert store.clear({}) is False


def test_composite_schedule() -> None:
    store = ProfileStore()
    store.install(0, _profile(1, "ChargePointMaxProfile", 0, 6900, start=datetime.now(UTC) - timedelta(minutes=1)))
    watts = store.composite(1, 3600, None)
    assert watts["chargingRateUnit"] == "W"
    assert watts["duration"] == 3600
    assert watts["chargingSchedulePeriod"] == [{"startPeriod": 0, "limit": 6900.0}]
    amps = store.composite(1, 600, "A")
    assert amps["chargingSchedulePeriod"] == [{"startPeriod": 0, "limit": 10.0}]
    unlimited = ProfileStore().composite(1, 30, "W")
    assert unlimited["chargingSchedulePeriod"] == [{"startPeriod": 0, "limit": 22000.0}]


def test_composite_schedule_of_a_huge_duration_is_bounded() -> None:
    """duration has no maximum in the schema: sampling every minute of 68 years would stall gevent's hub."""
    store = ProfileStore()
    start = datetime.now(UTC) - timedelta(minutes=1)
    store.install(0, _profile(1, "ChargePointMaxProfile", 0, 6900, start=start, duration=7200))
    began = time.perf_counter()
    schedule = store.composite(1, 2**31 - 1, "W")
    assert time.perf_counter() - began < 2.0
    periods = schedule["chargingSchedulePeriod"]
    assert periods[0] == {"startPeriod": 0, "limit": 6900.0}
    assert periods[-1]["limit"] == 22000.0, "after the profile's duration the charger's maximum applies"
    assert all(p["startPeriod"] < 2**31 - 1 for p in periods)


def test_the_next_clock_aligned_boundary_is_never_the_one_just_sent() -> None:
    """A timer may fire up to 1 ms before its boundary B: re-arming from the wall clock would give
    B again (a second reading stamped B); re-arming from B gives B + interval (§9.1.5)."""
    from ocpp_users.v16.periodic import next_boundary

    boundary = 1_764_460_800.0 + 15 * 60  # 00:15 UTC on a day
    assert next_boundary(boundary - 0.0005, 900) == boundary  # what the early timer would re-arm to
    assert next_boundary(max(boundary - 0.0005, boundary), 900) == boundary + 900
    assert next_boundary(boundary + 899.9, 900) == boundary + 900
    assert next_boundary(1_764_460_800.0 + 86_399.0, 7200) == 1_764_460_800.0 + 86_400.0  # midnight


def test_concurrent_tx_in_the_local_list_is_valid() -> None:
    """§3.5.2: valid "corresponding to IdTagInfo status values Accepted/ConcurrentTx"; its expiry holds."""
    from ocpp_users.v16.state.auth import effective_status

    assert effective_status({"status": "ConcurrentTx"}) == "Accepted"
    assert effective_status({"status": "ConcurrentTx", "expiryDate": "2000-01-01T00:00:00Z"}) == "Expired"
    assert effective_status({"status": "Blocked"}) == "Blocked"
    assert effective_status(None) is None
