"""``volatileocpp robustness`` as a user runs it (subprocesses): the demo run against the testbed and
its reports, --list, --include, usage errors and exit codes."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from ocpp_users.embedded import REPO_ROOT, TestbedProcess
from scenarios.robustness.base import all_cases
from scenarios.robustness.options import DEFAULT_GROUPS

CLI = [sys.executable, "-m", "scenarios.cli", "robustness"]
FAST = ["--quick-wait", "0.1", "--silence-grace", "0.05", "--fleet-warmup", "0.2", "--fleet-interval", "0.1"]
DEFAULT_COUNT = sum(1 for c in all_cases() if c.group in DEFAULT_GROUPS)


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], cwd=REPO_ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_demo_run_against_the_testbed_writes_every_report(tmp_path: Path) -> None:
    junit, report, html = tmp_path / "rb.xml", tmp_path / "rb.json", tmp_path / "rb.html"
    done = run_cli(*FAST, "--junit", str(junit), "--json", str(report), "--html", str(html))
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert out.startswith("No --url: testing the bundled testbed CSMS at ws://127.0.0.1:")
    assert "[frame]" in out and "[session]" in out and "[size]" not in out
    assert re.search(r"frame\.call_three_elements\s+PASSED", out)
    assert re.search(r"frame\.invalid_json\s+NON-STRICT", out)
    # NON-STRICT cases say what was expected, what happened and why it is acceptable.
    assert "expected: PASSED: CALLERROR FormationViolation" in out and "why acceptable: no answer" in out
    assert re.search(r"session\.wrong_password\s+PASSED", out)  # the demo testbed requires Basic auth
    counts = re.search(
        rf"{DEFAULT_COUNT} cases in [0-9.]+ s: (\d+) PASSED, (\d+) NON-STRICT, 0 FAILED, 0 CRASHED, "
        r"0 DEGRADED, 1 NOT APPLICABLE, 0 ERROR",
        out,
    )
    assert counts is not None, out[-600:]
    passed, non_strict = int(counts.group(1)), int(counts.group(2))
    assert passed + non_strict + 1 == DEFAULT_COUNT
    assert "exit status 0: nothing FAILED, CRASHED, DEGRADED or ERROR" in out

    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == (
        str(DEFAULT_COUNT),
        "0",
        "0",
        "1",
    )
    first = suite.findall("testcase")[0]
    assert first.get("classname") == "robustness.frame" and first.get("name") == "frame.invalid_json"
    text = first.findtext("system-out") or ""
    assert text.startswith("requirement: The whole message") and "NON-STRICT: no answer" in text and "wire log:" in text

    data = json.loads(report.read_text())
    assert data["kind"] == "robustness" and data["exit_code"] == 0
    assert data["summary"] == {
        "PASSED": passed,
        "NON-STRICT": non_strict,
        "FAILED": 0,
        "CRASHED": 0,
        "DEGRADED": 0,
        "NOT APPLICABLE": 1,
        "ERROR": 0,
    }
    assert "support" not in data and data["control_fleet"]["size"] == 3
    case = data["cases"][0]
    assert [c["step"] for c in case["checks"]] == ["answer", "liveness", "fleet"] and case["wire"]
    assert case["requirement"].startswith("The whole message")

    page = html.read_text()
    assert "OCPP 1.6J Central System robustness" in page and ">NON-STRICT<" in page and "frame.invalid_json" in page


def test_list_says_what_each_case_sends() -> None:
    done = run_cli("--list")
    assert done.returncode == 0, done.stderr
    assert f"{DEFAULT_COUNT} cases (groups: frame, payload, action, semantics, session; not included: size, abuse " in (
        done.stdout
    )
    assert "    sends:   a Heartbeat CALL cut off" in done.stdout and "accepts: PASSED: " in done.stdout
    everything = run_cli("--list", "--include", "size,abuse")
    assert f"{len(all_cases())} cases (groups: frame, payload, action, semantics, session, size, abuse)" in (
        everything.stdout
    )
    assert "size.frame_64mb" in everything.stdout and "64,000,000 bytes in one frame" in everything.stdout
    only = run_cli("--list", "--include", "all", "--only", "abuse.*,size.frame_*")
    assert only.stdout.count("\n    sends:") == 6


def test_usage_errors_are_one_line_and_exit_2() -> None:
    for args, words in [
        (["--include", "sizes"], "unknown group 'sizes'"),
        (["--url", "http://csms/"], "--url must start with ws:// or wss://"),
        (["--only", "size.*"], "the matching cases are in size: add --include size"),
        (["--only", "nothing.*"], "no case matches --only/--exclude"),
        (["--flood-count", "100000"], "--flood-count"),
        (["--security-profile", "1"], "needs a Basic auth password"),
    ]:
        done = run_cli(*args, "--url", "ws://127.0.0.1:9/") if "--url" not in args else run_cli(*args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert words in done.stderr and len(done.stderr.strip().splitlines()) == 1, (args, done.stderr)


def test_an_unreachable_csms_exits_2() -> None:
    done = run_cli("--url", f"ws://127.0.0.1:{free_port()}/ocpp/", "--connect-timeout", "2")
    assert done.returncode == 2
    assert "error: cannot connect to ws://127.0.0.1:" in done.stderr and "Traceback" not in done.stderr


def test_a_failed_case_exits_1_with_expected_actual_and_the_wire_log() -> None:
    fault = ["--fault", "accept_on", "--fault-args", '{"on": "schema_invalid"}']
    with TestbedProcess(["--port", "0", "-q", *fault]) as csms:
        done = run_cli("--url", csms.ws_url, "--only", "payload.missing_required", "--fleet-size", "0", *FAST)
    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    assert re.search(r"payload\.missing_required\s+FAILED", out)
    assert "expected: PASSED: CALLERROR OccurenceConstraintViolation or ProtocolError" in out
    assert "actual:   CALLRESULT {" in out
    assert '--> [2,"rb-' in out and '"BootNotification",{"chargePointVendor":"VolatileOCPP"}]' in out
    assert "exit status 1: 1 FAILED" in out


def test_help_lists_the_robustness_command_and_its_verdicts() -> None:
    top = subprocess.run([sys.executable, "-m", "scenarios.cli", "--help"], capture_output=True, text=True)
    assert "volatileocpp robustness" in top.stdout and "CRASHED / DEGRADED" in top.stdout
    done = run_cli("--help")
    assert done.returncode == 0
    for word in ("NON-STRICT", "CRASHED", "DEGRADED", "--include", "--fleet-max-p95", "exit status:"):
        assert word in done.stdout, word
