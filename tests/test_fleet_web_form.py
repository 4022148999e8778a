"""Options a person can find and a form that says what the run does: every option in one list
(``volatileocpp fleet-options``), readable labels, one environment variable convention (old names
still read, with a note), and a real ``locust`` web UI whose form is grouped, shows the current
values, and whose run uses and logs what the form said (including the options Locust's page sends
back under a mangled name)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import time
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from ocpp_users.embedded import TestbedProcess
from ocpp_users.fleet import optiontable
from ocpp_users.fleet.optiontable import Option, OptionGroup, add_group
from ocpp_users.fleet.webui import ui_key
from scenarios.cli import main
from tests.test_fleet_cli import LOCUST, LOCUSTFILE
from tests.test_secrets import _template_args, free_port, get, wait_for


def test_labels_read_as_words() -> None:
    assert Option("--cp-id-template", "").ui_label == "Charge point id template"
    assert Option("--connect-timeout", "", metavar="S").ui_label == "Connect timeout (s)"
    assert Option("--tls-url", "").ui_label == "TLS URL"
    assert Option("--max-p95", "", label="p95 limits (ms)").ui_label == "p95 limits (ms)"
    assert ui_key("max_p95") == "max_p9_5" and ui_key("cp_id_template") == "cp_id_template"


def test_an_old_variable_is_read_with_a_note_once(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VOCPP_TEST_THING", "42")
    monkeypatch.delenv("LOCUST_TEST_THING", raising=False)
    group = OptionGroup("Test", "", (Option("--test-thing", "a thing", old_env="VOCPP_TEST_THING"),))
    monkeypatch.setattr(optiontable, "_NOTED", set())
    for _ in range(2):  # Locust builds its parser more than once (the web UI re-parses)
        parser = argparse.ArgumentParser()
        monkeypatch.setattr(parser, "add_argument_group", _plain_group(parser))
        add_group(parser, group)
        assert parser.parse_args([]).test_thing == "42"
    err = capsys.readouterr().err
    assert err.count("note: VOCPP_TEST_THING is deprecated, use LOCUST_TEST_THING") == 1, err
    monkeypatch.setenv("LOCUST_TEST_THING", "7")  # the new name wins (configargparse reads it)
    parser = argparse.ArgumentParser()
    monkeypatch.setattr(parser, "add_argument_group", _plain_group(parser))
    add_group(parser, group)
    assert parser.parse_args([]).test_thing == ""


def _plain_group(parser: argparse.ArgumentParser) -> Any:
    """argparse without configargparse's ``env_var`` keyword."""
    original = parser.add_argument_group

    def add_argument_group(*args: Any, **kwargs: Any) -> Any:
        group = original(*args, **kwargs)
        add = group.add_argument

        def add_argument(*a: Any, **k: Any) -> Any:
            k.pop("env_var", None)
            return add(*a, **k)

        group.add_argument = add_argument  # type: ignore[method-assign]
        return group

    return add_argument_group


def test_fleet_options_lists_every_option_grouped(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fleet-options"]) == 0
    out = capsys.readouterr().out
    titles = [
        "CSMS connection:",
        "Charge points:",
        "Sessions and timing:",
        "Charger behaviour:",
        "Load shapes:",
        "CI gates and reports:",
    ]
    positions = [out.index(title) for title in titles]
    assert positions == sorted(positions), "the groups in the order a user thinks of them"
    flags = ("--shape", "--storm-jitter", "--storm-outage", "--cp-csv", "--max-p95", "--octt-id-tag", "--connectors")
    for flag in (*flags, "--fault-rate", "--offline-replay-rate", "--octt-profiles", "--octt-cpo-name"):
        assert f"  {flag}" in out, flag
    assert "LOCUST_OCTT_ID_TAG" in out and "VOCPP_OCTT_" in out  # one convention; the old names noted


def test_compliance_mode_reads_an_old_variable_with_a_note(tmp_path: Path) -> None:
    """``VOCPP_OCTT_ONLY`` still selects the cases, with one deprecation line."""
    compliance = str(Path(LOCUSTFILE).with_name("compliance.py"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOCUST_")}
    env["VOCPP_OCTT_ONLY"] = "TC_001"
    result = subprocess.run(
        [*LOCUST, "-f", compliance, "--headless", "-u", "1", "-r", "1", "--only-summary"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert output.count("note: VOCPP_OCTT_ONLY is deprecated, use LOCUST_OCTT_ONLY") == 1, output[-3000:]
    assert "TC_001" in output and "TC_003" not in output


# ---------------------------------------------------------------- the form of a real web UI


def _start(args: list[str], cwd: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOCUST_")}
    env["PYTHONUNBUFFERED"] = "1"
    return subprocess.Popen(
        [*LOCUST, "-f", LOCUSTFILE, *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def test_the_form_is_grouped_and_the_run_uses_what_it_said(tmp_path: Path) -> None:
    csms = TestbedProcess(["--port", "0", "--heartbeat-interval", "30", "-q"]).start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = _start(["--host", csms.ws_url, "--web-host", "127.0.0.1", "--web-port", str(port)], tmp_path)
    try:
        wait_for(base + "/")
        before = _template_args(get(base + "/")[2])
        # what Locust's page sends: its fields, snake-cased back from camel case (max_p95 -> max_p9_5)
        form = {"user_count": "2", "spawn_rate": "2", "host": csms.ws_url, "connectors": "2"}
        form |= {"cp_id_template": "FORM-{n}", "max_p9_5": "900", "id_tag": "VOCPP-VALID"}
        form |= {"shape": "boot-storm", "storm_hold": "0.5"}  # the form chooses the run's load shape
        status, _, answer = get(base + "/swarm", urllib.parse.urlencode(form).encode())
        assert status == 200 and json.loads(answer)["success"], answer
        deadline = time.monotonic() + 15
        cps: dict[str, Any] = {}
        while time.monotonic() < deadline:
            cps = {k: v for k, v in csms.api("GET", "/cps")[1]["cps"].items() if v.get("booted")}
            if len(cps) == 2 and all(len(v.get("statuses") or {}) >= 3 for v in cps.values()):
                break
            time.sleep(0.2)
        data: dict[str, Any] = {}
        while time.monotonic() < deadline + 10 and not data.get("storms"):  # the boot storm's report
            data = json.loads(get(base + "/charge-points/data")[2])
            time.sleep(0.2)
        after = _template_args(get(base + "/")[2])
        get(base + "/stop", b"")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
        csms.stop()
    keys = list(before["extra_options"])
    assert keys[0] == "security_profile" and keys.index("cp_id_template") < keys.index("id_tag"), keys
    assert keys.index("id_tag") < keys.index("shape") < keys.index("max_p95") < keys.index("security_events"), keys
    assert all(entry["help_text"] == "" for entry in before["extra_options"].values())  # the script labels them
    assert sorted(cps) == ["FORM-1", "FORM-2"], (cps, out[-3000:])
    assert all(sorted(v["statuses"]) == ["0", "1", "2"] for v in cps.values()), cps  # two connectors each
    assert data["gates"]["checks"][0]["limit"] == "900 ms", data["gates"]  # max_p9_5 reached --max-p95
    assert "options changed in the web UI: " in out and "--connectors 2 (was 1)" in out, out[-3000:]
    assert "--max-p95 900 (was '')" in out and "--cp-id-template FORM-{n} (was VOCPP-{worker}-{n:05d})" in out
    assert "fleet: 2 connector(s) per charge point, ids FORM-{n}" in out
    assert "Boot storm: 2 of 2 charge points connected and held" in out and "--shape boot-storm (was none)" in out
    assert [m["label"] for m in data["markers"]] == ["boot storm"], data["markers"]
    assert after["extra_options"]["connectors"]["default_value"] == 2  # the form shows what the next run uses
    assert "Traceback" not in out
