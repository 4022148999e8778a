"""The fleet side of issue 12 (parts 1, 2, 4): the options of the charger's own behaviour, and a
reconnect storm with an outage whose queued transaction messages are counted on the CSMS side."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from ocpp_users.embedded import TestbedProcess
from ocpp_users.fleet.config import OptionError, fleet_config
from ocpp_users.fleet.options import BEHAVIOUR, parse_args
from tests.test_distributed import assert_clean, run_local

ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------- options


def test_behaviour_options_reach_every_charge_point() -> None:
    options = parse_args(
        [
            "--configuration",
            "LocalPreAuthorize=true,MeterValuesAlignedData=Energy.Active.Import.Register,SoC,ClockAlignedDataInterval=900",
            "--offline-replay-rate",
            "2.5",
            "--offline-queue-max",
            "50",
            "--plug-in-delay",
            "5-20",
            "--driver-return",
            "30",
            "--ev-battery",
            "40-80",
            "--fault-rate",
            "0.5",
            "--fault-duration",
            "10-20",
            "--fault-codes",
            "GroundFailure,WeakSignal",
        ]
    )
    config = fleet_config(options, "ws://csms.example/ocpp/")
    settings = config.settings_for("CP-1", "ws://csms.example/ocpp/")
    habits = settings.habits
    assert config.settings_for("CP-2", "ws://csms.example/ocpp/").habits is habits  # one object for the fleet
    assert settings.configuration == {
        "LocalPreAuthorize": "true",
        "MeterValuesAlignedData": "Energy.Active.Import.Register,SoC",
        "ClockAlignedDataInterval": "900",
    }
    assert habits.offline_replay_rate == 2.5
    assert habits.offline_queue_max == 50
    assert habits.plug_in_delay == (5.0, 20.0)
    assert habits.driver_return == (30.0, 30.0)
    assert habits.battery_wh == (40000.0, 80000.0)
    assert habits.fault_rate_per_hour == 0.5
    assert habits.fault_duration == (10.0, 20.0)
    assert habits.fault_codes == ("GroundFailure", "WeakSignal")
    defaults = fleet_config(parse_args([]), "ws://csms.example/ocpp/").settings_for("CP-1", "ws://x/")
    assert (
        defaults.habits.fault_rate_per_hour,
        defaults.habits.offline_replay_rate,
        defaults.habits.plug_in_delay,
        defaults.habits.offline_queue_max,
    ) == (
        0.0,
        0.0,
        (0.0, 0.0),
        1000,
    )
    assert [option.env_var for option in BEHAVIOUR.options] == [
        "LOCUST_CONFIGURATION",
        "LOCUST_OFFLINE_REPLAY_RATE",
        "LOCUST_OFFLINE_QUEUE_MAX",
        "LOCUST_PLUG_IN_DELAY",
        "LOCUST_DRIVER_RETURN",
        "LOCUST_EV_BATTERY",
        "LOCUST_FAULT_RATE",
        "LOCUST_FAULT_DURATION",
        "LOCUST_FAULT_CODES",
    ]
    assert all(option.web_ui for option in BEHAVIOUR.options)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("configuration", "Bogus=1", "--configuration: unknown configuration key 'Bogus'"),
        ("configuration", "WebSocketPingInterval=-1", "not a valid integer"),
        ("configuration", "AuthorizationKey=00ff", "write-only"),
        ("configuration", "NumberOfConnectors=4", "NumberOfConnectors cannot be set: it is the number of connectors"),
        ("configuration", "SupportedFeatureProfiles=Core", "SupportedFeatureProfiles cannot be set"),
        ("fault_codes", "GroundFailure,Nope", "--fault-codes: 'Nope' is not a ChargePointErrorCode"),
        ("ev_battery", "0", "--ev-battery"),
        ("offline_replay_rate", "-1", "--offline-replay-rate"),
        ("offline_queue_max", "-1", "--offline-queue-max"),
    ],
)
def test_a_bad_behaviour_option_is_one_clear_line(name: str, value: str, message: str) -> None:
    options = parse_args([])
    setattr(options, name, value)  # as the web UI sets it
    with pytest.raises(OptionError) as raised:
        fleet_config(options, "ws://csms.example/ocpp/")
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_a_bad_option_on_the_command_line_exits_2() -> None:
    for argv in (["--fault-codes", "Nope"], ["--configuration", "ConnectionTimeOut=soon"]):
        with pytest.raises(SystemExit) as raised:
            parse_args(argv)
        assert raised.value.code == 2


def test_fleet_options_and_the_readme_list_them() -> None:
    listed = subprocess.run(
        [sys.executable, "-m", "scenarios.cli", "fleet-options"], capture_output=True, text=True, cwd=ROOT, check=True
    ).stdout
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for option in BEHAVIOUR.options:
        assert option.flag in listed and option.env_var in listed, option.flag
        assert f"`{option.flag}" in readme, option.flag
    assert "`--storm-outage" in readme


# ---------------------------------------------------------------- a reconnect storm with an outage


def _epoch(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


def _happened(message: dict[str, Any]) -> float:
    payload = message["payload"]
    if message["action"] == "MeterValues":
        return _epoch(payload["meterValue"][0]["timestamp"])
    return _epoch(payload["timestamp"])


def test_reconnect_storm_replays_every_queued_message_once(csms: TestbedProcess, tmp_path: Path) -> None:
    """A reconnect storm with a 2 s outage: meanwhile the charge points go on charging offline
    (sessions start from the authorization cache, readings and stops are queued). The run reports
    how many transaction messages were queued and replayed and how fast; on the CSMS side every
    message that happened offline arrived once, on the connection opened after it, and every
    transaction the CSMS opened was stopped exactly once under its own transactionId."""
    prefix = "OFF" + uuid.uuid4().hex[:6]
    summary = tmp_path / "summary.json"
    run = run_local(
        [
            "--host",
            csms.ws_url,
            "-u",
            "6",
            "-r",
            "30",
            "--cp-id-template",
            prefix + "-{n}",
            "--shape",
            "reconnect-storm",
            "--storm-outage",
            "2",
            "--storm-jitter",
            "0",
            "--storm-hold",
            "0.5",
            "--storm-timeout",
            "15",
            "--session-duration",
            "0.8-1.5",
            "--idle-duration",
            "0.1-0.3",
            "--meter-interval",
            "0.3",
            "--max-failure-ratio",
            "0",  # the drops the storm causes on purpose do not count
            "--json-summary",
            str(summary),
        ],
        timeout=60,
    )
    assert run.returncode == 0, run.output[-6000:]
    assert_clean(run)
    [shape] = json.loads(summary.read_text())["shapes"]
    [storm] = shape["figures"]["rounds"] if "figures" in shape else shape["rounds"]
    assert storm["complete"] and storm["left"] == 0, storm
    # Every queued message delivered (answered by the CSMS): none given up after its attempts (lost),
    # none dropped for room; "replayed" is the two together.
    assert storm["given_up"] == 0 and storm["overflow"] == 0, storm
    assert storm["offline"] > 6 and storm["delivered"] == storm["queued"] >= storm["offline"], storm
    assert storm["replayed"] == storm["delivered"] + storm["given_up"], storm
    assert storm["replay_s"] is not None and storm["replay_per_s"] > 0
    assert f"queued offline: {storm['offline']} transaction messages" in run.output
    assert f"replayed {storm['replayed']} in " in run.output
    assert f": delivered {storm['delivered']}" in run.output

    _, body = csms.api("GET", "/cps")
    cps = {cp_id: record for cp_id, record in body["cps"].items() if cp_id.startswith(prefix)}
    assert len(cps) == 6
    late = 0
    late_starts = 0
    sent: Counter[tuple[str, str, Any, float]] = Counter()
    stops: Counter[int] = Counter()
    for cp_id in cps:
        _, log = csms.api("GET", f"/cps/{cp_id}/messages")
        opened = cps[cp_id]["connected_at"]
        for message in log["messages"]:
            if message["direction"] != "in" or message["action"] not in (
                "StartTransaction",
                "MeterValues",
                "StopTransaction",
            ):
                continue
            connection = max(at for at in opened if at <= message["ts"])
            offline = _happened(message) < connection
            late += offline
            late_starts += offline and message["action"] == "StartTransaction"
            sent[(cp_id, message["action"], message["payload"].get("connectorId"), _happened(message))] += 1
            if message["action"] == "StopTransaction":
                stops[message["payload"]["transactionId"]] += 1
    assert late == storm["offline"], (late, storm)
    assert late_starts > 0, "sessions started offline (local authorization from the cache)"
    repeated = sum(count - 1 for count in sent.values())
    assert repeated <= storm["in_doubt"], (repeated, storm)
    _, body = csms.api("GET", "/transactions")
    opened_here = [t for t in body["transactions"] if t["cp_id"] in cps]
    assert opened_here and all(not t["active"] for t in opened_here)
    assert {t["id"] for t in opened_here} == set(stops), stops
    assert all(1 <= count <= 1 + storm["in_doubt"] for count in stops.values()), stops
