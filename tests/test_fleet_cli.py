"""The fleet from the command line: a bounded headless ``locust -f locustfiles/fleet.py`` run
against the embedded testbed (CSV and HTML reports), bad options (exit code 2, one line), and the
option parsing and id allocation behind them.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ocpp_users.embedded import REPO_ROOT
from ocpp_users.fleet.config import OptionError, fleet_config
from ocpp_users.fleet.ids import IdPool, IdsExhausted, check_template, read_ids_file
from ocpp_users.fleet.options import parse_args
from ocpp_users.fleet.runtime import Fleet
from ocpp_users.ocppj.transport import charge_point_url

LOCUSTFILE = str(REPO_ROOT / "locustfiles" / "fleet.py")
_SCRIPT = Path(sys.executable).with_name("locust")
LOCUST = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "locust"]
"""The ``locust`` console script as a user runs it (its errors then start ``locust: error:``)."""
PROG = "locust" if _SCRIPT.exists() else "__main__.py"
ACTIONS = (
    "BootNotification",
    "StatusNotification",
    "Heartbeat",
    "Authorize",
    "StartTransaction",
    "MeterValues",
    "StopTransaction",
)


def locust(args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 60) -> Any:
    full_env = {**os.environ, **(env or {})}
    full_env.pop("LOCUST_HOST", None)
    return subprocess.run(
        [*LOCUST, "-f", LOCUSTFILE, *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_headless_run_against_the_embedded_testbed_writes_reports(tmp_path: Path) -> None:
    result = locust(
        ["--headless", "-u", "5", "-r", "5", "-t", "15s", "--csv", "out", "--html", "report.html"],
        tmp_path,
        # short sessions through the environment variables, so every action happens within 15 s
        env={"LOCUST_IDLE_DURATION": "1-2", "LOCUST_SESSION_DURATION": "4-6", "LOCUST_HEARTBEAT_INTERVAL": "3"},
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "Traceback" not in output
    assert "started the embedded testbed CSMS at ws://127.0.0.1:" in output
    assert "charge points: 5 (" in output  # the fleet summary at the end
    with open(tmp_path / "out_stats.csv", newline="") as handle:
        rows = {(row["Type"], row["Name"]): row for row in csv.DictReader(handle)}
    for action in ACTIONS:
        row = rows.get(("OCPP CP->CSMS", action))
        assert row is not None, f"no CSV row for {action}: {sorted(rows)}"
        assert int(row["Request Count"]) > 0, action
        assert int(row["Failure Count"]) == 0, action
    connect = rows[("WebSocket", "connect")]
    assert int(connect["Request Count"]) == 5 and int(connect["Failure Count"]) == 0
    failures = (tmp_path / "out_failures.csv").read_text().strip().splitlines()
    assert len(failures) == 1, failures  # the header only
    html = (tmp_path / "report.html").read_text()
    for action in ACTIONS:
        assert action in html


@pytest.mark.parametrize(
    ("args", "env", "needle"),
    [
        (["--session-duration", "5-2"], {}, "--session-duration: MIN must not exceed MAX"),
        (["--security-profile", "7"], {}, "--security-profile: invalid choice: 7"),
        (
            ["--security-profile", "2", "--basic-auth-password", "pw", "--host", "ws://127.0.0.1:9/"],
            {},
            "security profile 2 needs a wss:// URL",
        ),
        (["--security-profile", "2", "--basic-auth-password", "pw"], {}, "embedded testbed speaks plain ws://"),
        (["--security-profile", "1", "--host", "ws://127.0.0.1:9/"], {}, "needs a Basic auth password"),
        (["--host", "http://127.0.0.1:9/"], {}, "expected a ws:// or wss:// CSMS URL"),
        (["--cp-id-template", "CP-{foo}"], {}, "unknown placeholder {foo}"),
        ([], {"LOCUST_IDLE_DURATION": "x-y"}, "--idle-duration: expected MIN-MAX seconds"),
    ],
)
def test_bad_option_exits_2_with_one_line(tmp_path: Path, args: list[str], env: dict[str, str], needle: str) -> None:
    result = locust(["--headless", "-u", "1", "-r", "1", "-t", "2s", *args], tmp_path, env=env, timeout=30)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip() and "/INFO/" not in line]
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"{PROG}: error: ") or lines[0].startswith("locust: error: "), lines
    assert needle in lines[0], lines
    assert "Traceback" not in result.stdout + result.stderr
    assert "pw" not in lines[0]


def test_password_is_never_logged(tmp_path: Path) -> None:
    result = locust(
        ["--headless", "-u", "1", "-r", "1", "-t", "2s", "--security-profile", "1", "--host", "ws://127.0.0.1:9/"],
        tmp_path,
        env={"LOCUST_BASIC_AUTH_PASSWORD": "s3cr3t-Value"},
        timeout=30,
    )
    output = result.stdout + result.stderr
    assert "s3cr3t-Value" not in output
    assert "connection refused" in output  # it ran, failed to connect, and said so


# ---------------------------------------------------------------- parsing


def test_defaults_and_embedded_defaults() -> None:
    config = fleet_config(parse_args([]), "ws://csms.example/ocpp/")
    assert config.id_tags == ("VOCPP-VALID",) and not config.id_tag_given
    assert config.meter_interval is None and config.heartbeat_interval is None
    assert config.session_duration == (10.0, 20.0) and config.idle_duration == (2.0, 8.0)
    assert config.security.verify and config.validate
    embedded = fleet_config(parse_args([]), "ws://127.0.0.1:5000/", embedded=True)
    # a starting value of the configuration key (ChangeConfiguration still applies), not an override
    assert embedded.meter_interval is None and embedded.configuration == {"MeterValueSampleInterval": "5"}
    settings = embedded.settings_for("CP1", "ws://127.0.0.1:5000/")
    assert settings.configuration == {"MeterValueSampleInterval": "5"} and settings.meter_interval_override is None
    given = fleet_config(parse_args(["--meter-interval", "7"]), "ws://127.0.0.1:5000/", embedded=True)
    assert given.meter_interval == 7.0 and given.configuration == {}


@pytest.mark.parametrize(
    ("host", "url"),
    [
        (
            "ws://csms.example/steve/websocket/CentralSystemService/",
            "ws://csms.example/steve/websocket/CentralSystemService/CP-7",
        ),
        ("ws://csms.example/ocpp", "ws://csms.example/ocpp/CP-7"),
        ("wss://csms.example/ocpp/{cp_id}/ws", "wss://csms.example/ocpp/CP-7/ws"),
    ],
)
def test_charge_point_id_goes_into_the_url(host: str, url: str) -> None:
    settings = fleet_config(parse_args([]), host).settings_for("CP-7", host)
    assert charge_point_url(settings.url, settings.cp_id) == url


def test_every_option_is_parsed(tmp_path: Path) -> None:
    tags = tmp_path / "tags.txt"
    tags.write_text("VOCPP-LOAD-1\n# comment\nVOCPP-LOAD-2\n")
    ids = tmp_path / "ids.txt"
    ids.write_text("CP-A\nCP-B\n")
    cert = tmp_path / "client.pem"
    cert.write_text("x")
    argv = [
        "--id-tag", f"@{tags}",
        "--connectors", "3",
        "--cp-ids-file", str(ids),
        "--security-profile", "3",
        "--client-cert", str(cert),
        "--ca-file", str(cert),
        "--insecure",
        "--heartbeat-interval", "10",
        "--meter-interval", "15",
        "--session-duration", "60-120",
        "--idle-duration", "30",
        "--time-factor", "96",
        "--no-validation",
        "--call-timeout", "5",
        "--connect-timeout", "3",
        "--backoff-max", "8",
        "--stop-reason", "mixed",
        "--pacing", "tick",
        "--vendor", "ACME",
        "--model", "Wallbox 22",
        "--firmware-version", "1.2.3",
    ]  # fmt: skip
    config = fleet_config(parse_args(argv), "wss://csms.example/ocpp/")
    assert config.id_tags == ("VOCPP-LOAD-1", "VOCPP-LOAD-2")
    assert config.connectors == 3 and config.cp_ids == ("CP-A", "CP-B")
    assert config.security.profile == 3 and not config.security.verify and config.security.client_cert == str(cert)
    assert (config.heartbeat_interval, config.meter_interval) == (10.0, 15.0)
    assert config.session_duration == (60.0, 120.0) and config.idle_duration == (30.0, 30.0)
    assert config.time_factor == 96.0 and not config.validate and config.pacing == "tick"
    assert (config.call_timeout, config.connect_timeout, config.backoff_max) == (5.0, 3.0, 8.0)
    assert (config.stop_reason, config.vendor, config.model, config.firmware_version) == (
        "mixed",
        "ACME",
        "Wallbox 22",
        "1.2.3",
    )
    settings = config.settings_for("CP-A", "wss://csms.example/ocpp/")
    assert settings.heartbeat_override == 10.0 and settings.meter_interval_override == 15.0
    assert settings.time_factor == 96.0 and settings.backoff_max == 8.0 and settings.connectors == 3
    assert "password" not in config.describe()


@pytest.mark.parametrize(
    ("values", "host", "needle"),
    [
        ({"id_tag": "A" * 21}, "ws://h/", "longer than 20"),
        ({"session_duration": "-1"}, "ws://h/", "--session-duration"),
        ({"idle_duration": "9-3"}, "ws://h/", "--idle-duration: MIN must not exceed MAX"),
        ({"security_profile": 1}, "ws://h/", "Basic auth password"),
        ({"security_profile": 3}, "wss://h/", "client certificate"),
        ({"security_profile": 5}, "ws://h/", "--security-profile: must be between 0 and 3"),
        ({"connectors": "two"}, "ws://h/", "--connectors: expected a whole number"),
        ({"vendor": "V" * 21}, "ws://h/", "--vendor"),
        ({"stop_reason": "Remote"}, "ws://h/", "--stop-reason"),
        ({}, "https://h/", "--host"),
    ],
)
def test_bad_values_name_the_option(values: dict[str, Any], host: str, needle: str) -> None:
    """Values as the web UI sets them (unchecked by argparse) are checked when the test starts."""
    options = parse_args([])
    for name, value in values.items():
        setattr(options, name, value)
    with pytest.raises(OptionError) as info:
        fleet_config(options, host)
    assert needle in str(info.value)


def test_a_worker_without_host_says_so() -> None:
    class FakeEnvironment:
        host = None
        parsed_options = None
        runner = None

    with pytest.raises(OptionError, match="a worker needs --host"):
        Fleet.of(FakeEnvironment()).configure()


def test_the_pacing_option_reaches_the_pacer() -> None:
    """``--pacing tick`` puts the process's timed waits back on the loop's tick; ``batch`` paces
    them but resumes those due together back to back; ``exact`` (the default) paces them one loop
    turn apart again."""
    from ocpp_users.ocppj import pacing

    class FakeEnvironment:
        host = "ws://127.0.0.1:9/"
        parsed_options = parse_args(["--pacing", "tick"])
        runner = None

    try:
        assert Fleet.of(FakeEnvironment()).configure().pacing == "tick"
        assert pacing._precise is False
        FakeEnvironment.parsed_options = parse_args(["--pacing", "batch"])
        assert Fleet.of(FakeEnvironment()).configure().pacing == "batch"
        assert pacing._precise is True and pacing._catch_up_s == 0.0
        FakeEnvironment.parsed_options = parse_args([])
        assert Fleet.of(FakeEnvironment()).configure().pacing == "exact"
        assert pacing._precise is True and pacing._catch_up_s == pacing.CATCH_UP_S > 0
    finally:
        pacing.set_precise(True)
        pacing.set_batched(False)


# ---------------------------------------------------------------- ids


def test_template_ids_are_unique_across_workers_and_recycled() -> None:
    pools = [IdPool(template="VOCPP-{worker}-{n:05d}", worker_index=w) for w in range(3)]
    ids = [pool.acquire() for pool in pools for _ in range(100)]
    assert len(set(ids)) == 300
    assert ids[0] == "VOCPP-0-00001" and ids[-1] == "VOCPP-2-00100"
    pool = pools[0]
    pool.release("VOCPP-0-00007")
    assert pool.acquire() == "VOCPP-0-00007"  # a stopped charge point's id is reused
    assert pool.acquire() == "VOCPP-0-00101"


def test_ids_file_on_a_local_runner(tmp_path: Path) -> None:
    path = tmp_path / "ids.txt"
    path.write_text("\n".join(f"REG-{i}" for i in range(3)) + "\n")
    pool = IdPool(ids=read_ids_file(str(path)))
    assert [pool.acquire() for _ in range(3)] == ["REG-0", "REG-1", "REG-2"]
    with pytest.raises(IdsExhausted, match="3 ids"):
        pool.acquire()
    pool.release("REG-1")
    assert pool.acquire() == "REG-1"


@pytest.mark.parametrize(
    ("template", "needle"),
    [("CP-{worker}", "needs {n}"), ("CP-{x}-{n}", "unknown placeholder"), ("CP/{n}", "'/'"), ("CP-{n", "bad")],
)
def test_bad_templates(template: str, needle: str) -> None:
    with pytest.raises(ValueError) as info:
        check_template(template)
    assert needle in str(info.value)


def test_bad_ids_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n\n")
    dup = tmp_path / "dup.txt"
    dup.write_text("A\nB\nA\n")
    for path, needle in ((empty, "lists no ids"), (dup, "duplicate"), (tmp_path / "missing.txt", "cannot read")):
        with pytest.raises(ValueError) as info:
            read_ids_file(str(path))
        assert needle in str(info.value)
