"""``volatileocpp scenarios`` and ``locustfiles/compliance.py`` as a user runs them (subprocesses)."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import socket
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ocpp_users.embedded import REPO_ROOT, TestbedProcess
from tests.test_compliance_suite import REGISTERED_IDS

CLI = [sys.executable, "-m", "scenarios.cli", "scenarios"]


def run_cli(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], cwd=REPO_ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_demo_run_without_url_passes_every_case_and_writes_reports(tmp_path: Path) -> None:
    """The demonstration starts the testbed over TLS with a PKI made for the run: all 75 cases run
    and PASS (the profile 3 cases with the client certificate)."""
    junit, report, html = tmp_path / "out.xml", tmp_path / "out.json", tmp_path / "out.html"
    started = time.monotonic()
    done = run_cli("--junit", str(junit), "--json", str(report), "--html", str(html))
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "No --url: testing the bundled testbed CSMS at wss://localhost:" in out
    assert "Supports method: Authorize" in out
    for case_id in REGISTERED_IDS:
        assert re.search(rf"Running scenario: {case_id}\s+-- PASSED!", out), case_id
    total = len(REGISTERED_IDS)
    assert total == 75
    assert f"{total} cases in " in out and f"{total} PASSED, 0 FAILED, 0 NOT APPLICABLE, 0 ERROR" in out
    assert "exit status 0: every case ran and PASSED" in out
    # Generous bounds (a loaded 2-core CI machine); the benchmark reports the real figures.
    assert elapsed < 60
    probe = re.search(r"\(probe took ([0-9.]+) s\)", out)
    assert probe is not None and float(probe.group(1)) < 10

    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == (
        str(total),
        "0",
        "0",
        "0",
    )
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == REGISTERED_IDS

    data = json.loads(report.read_text())
    assert data["summary"] == {"PASSED": total, "FAILED": 0, "NOT APPLICABLE": 0, "ERROR": 0}
    assert data["exit_code"] == 0 and data["not_run"] == []
    assert data["probe_duration_s"] < 10
    # TC_073's new key stays out of the reports (masked in the wire log), and no private key is in them.
    tc073 = next(c for c in data["cases"] if c["id"] == "TC_073_CSMS")
    change = [w["raw"] for w in tc073["wire"] if '"ChangeConfiguration"' in w["raw"]]
    assert len(change) == 1 and '"key":"AuthorizationKey","value":"***"' in change[0], change
    assert all("PRIVATE KEY" not in path.read_text() for path in (report, html, junit))
    first = data["cases"][0]
    assert first["id"] == "TC_001_CSMS" and first["verdict"] == "PASSED" and first["duration_s"] >= 0
    check = next(c for c in first["checks"] if c["field"] == "status" and c["side"] == "csms")
    assert (check["expected"], check["actual"], check["ok"]) == ("Accepted", "Accepted", True)
    directions = {w["direction"] for w in first["wire"]}
    assert directions == {"in", "out"} and first["wire"][0]["at"].endswith("Z")

    page = html.read_text()
    assert page.startswith("<!DOCTYPE html>") and "TC_064_CSMS" in page
    assert "http://" not in page.split("</style>")[0] and "<script" not in page


def test_failed_cases_print_expected_actual_and_wire_log_and_exit_1(
    csms: TestbedProcess, cp_id: str, tmp_path: Path
) -> None:
    csms.api("PUT", "/faults", {"name": "accept_all_tags"})
    password = "s3cret-password-0123456789"
    report = tmp_path / "r.json"
    done = run_cli(
        "--url",
        csms.ws_url + "{cp_id}",
        "--cp-id",
        cp_id,
        "--id-tag",
        "VOCPP-VALID",
        "--blocked-tag",
        "VOCPP-BLOCKED",
        "--expired-tag",
        "VOCPP-EXPIRED",
        "--only",
        "TC_023*",
        "--basic-auth-password",
        password,
        "--json",
        str(report),
    )
    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    assert re.search(r"Running scenario: TC_023_3_CSMS\s+-- FAILED!", out)
    assert "expected: idTagInfo.status Blocked   actual: Accepted" in out
    assert "expected: idTagInfo.status Expired   actual: Accepted" in out
    assert re.search(r'\d\d:\d\d:\d\d\.\d{3} --> \[2,"[^"]+","Authorize",\{"idTag":"VOCPP-BLOCKED"\}\]', out)
    assert re.search(r"\d\d:\d\d:\d\d\.\d{3} <-- \[3,", out)
    assert password not in out + done.stderr + report.read_text()


def test_usage_errors_are_one_line_and_exit_2() -> None:
    for args in (
        ["--step-timeout", "-1"],
        ["--bogus"],
        ["--protocol", "ocpp2.0.1"],
        ["--only", "TC_999"],
        ["--url", "http://example.invalid/"],
        ["--security-profile", "2", "--url", "ws://h/"],
        ["--trigger-url", "http://x/{action}", "--trigger-cmd", "true"],
        ["--url", "wss://127.0.0.1:1/", "--ca-file", "/missing/ca.pem"],
        ["--url", "wss://127.0.0.1:1/", "--client-cert", "/missing/cp.pem", "--client-key", "/missing/cp.key"],
        ["--url", "wss://127.0.0.1:1/", "--ca-file", "/"],
        ["--client-key", str(Path(__file__))],
        ["--profiles", "Core,Billing"],
        ["--stack-level", "98"],
        ["--charging-rate-unit", "kW"],
    ):
        done = run_cli(*args, timeout=30)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1, (args, done.stderr)
        assert "error:" in done.stderr
    done = subprocess.run(
        [sys.executable, "-m", "scenarios.cli"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1


def test_missing_tls_files_are_named() -> None:
    done = run_cli("--url", "wss://127.0.0.1:1/", "--ca-file", "/missing/ca.pem", timeout=30)
    assert done.returncode == 2
    assert done.stderr.strip() == "volatileocpp scenarios: error: --ca-file /missing/ca.pem: no such file (see --help)"


def test_an_unsupported_core_action_exits_1(csms: TestbedProcess, cp_id: str) -> None:
    csms.api("PUT", "/faults", {"name": "callerror", "action": "Authorize", "code": "NotImplemented"})
    done = run_cli("--url", csms.ws_url + "{cp_id}", "--cp-id", cp_id, "--only", "TC_023_1,TC_064")
    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    assert "Does not support method: Authorize" in out
    assert re.search(r"Running scenario: TC_023_1_CSMS\s+-- FAILED!", out)
    assert "expected: Authorize supported (Core profile)   actual: CALLERROR NotImplemented" in out
    assert re.search(r"Running scenario: TC_064_CSMS\s+-- PASSED!", out)


def test_unreachable_csms_is_one_line_and_exit_2() -> None:
    done = run_cli("--url", f"ws://127.0.0.1:{free_port()}/ocpp/", "--id-tag", "X", timeout=30)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "cannot connect" in done.stderr and "refused" in done.stderr


def test_a_csms_that_never_answers_the_boot_exits_2_within_the_connect_timeout(
    csms: TestbedProcess, cp_id: str
) -> None:
    csms.api("PUT", "/faults", {"name": "no_answer", "action": "BootNotification"})
    started = time.monotonic()
    done = run_cli("--url", csms.ws_url + "{cp_id}", "--cp-id", cp_id, "--connect-timeout", "1", timeout=30)
    assert done.returncode == 2, done.stdout + done.stderr
    assert time.monotonic() - started < 15  # (a process start included; 387 s before)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "did not answer the BootNotification within 1 s" in lines[0]


def test_require_all_exits_3_when_cases_did_not_run(csms: TestbedProcess, cp_id: str) -> None:
    args = ["--url", csms.ws_url + "{cp_id}", "--cp-id", cp_id, "--id-tag", "VOCPP-VALID", "--only", "TC_010,TC_064"]
    done = run_cli(*args, "--require-all")
    assert done.returncode == 3, done.stdout + done.stderr
    assert "1 case needs a driver: give --trigger-url or --trigger-cmd" in done.stdout
    assert "exit status 3: --require-all, and 1 case did not run" in done.stdout


def test_help_and_list() -> None:
    done = run_cli("--help", timeout=30)
    assert done.returncode == 0 and "--trigger-url" in done.stdout and "exit status" in done.stdout
    for code in ("0  every case that ran PASSED", "1  a case FAILED", "2  usage error", "3  with --require-all"):
        assert code in done.stdout
    assert "--profiles" in done.stdout and "--firmware-url" in done.stdout and "--expiry-offset" in done.stdout
    done = run_cli("--list", timeout=30)
    assert done.returncode == 0 and re.findall(r"^(TC_\S+)", done.stdout, re.M) == REGISTERED_IDS
    done = run_cli("--list", "--only", "TC_01*,TC_061", "--exclude", "TC_014", timeout=30)
    assert done.returncode == 0, done.stderr
    ids = re.findall(r"^(TC_\S+)", done.stdout, re.M)
    assert ids == [
        "TC_061_CSMS",
        "TC_010_CSMS",
        "TC_011_1_CSMS",
        "TC_011_2_CSMS",
        "TC_012_CSMS",
        "TC_013_CSMS",
        "TC_017_1_CSMS",
        "TC_017_2_CSMS",
        "TC_018_1_CSMS",
        "TC_019_1_CSMS",
        "TC_019_2_CSMS",
    ]
    assert "CSMS->CP RemoteStartTransaction" in done.stdout and "3.4.1" in done.stdout


def test_without_driver_or_terminal_csms_initiated_cases_are_not_applicable(csms: TestbedProcess, cp_id: str) -> None:
    done = run_cli(
        "--url", csms.ws_url + "{cp_id}", "--cp-id", cp_id, "--id-tag", "VOCPP-VALID", "--only", "TC_010,TC_061,TC_064"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (
        "Skipping incompatible test TC_010_CSMS (needs RemoteStartTransaction from the CSMS; no driver" in done.stdout
    )
    assert "Skipping incompatible test TC_061_CSMS (needs ClearCache" in done.stdout
    assert re.search(r"Running scenario: TC_064_CSMS\s+-- PASSED!", done.stdout)
    assert "2 cases need a driver: give --trigger-url or --trigger-cmd (or run at a terminal)" in done.stdout
    assert "exit status 0: every case that ran PASSED, but 2 did not run" in done.stdout


class Pty:
    """The CLI under a pseudo-terminal, as an operator runs it."""

    def __init__(self, args: list[str]) -> None:
        master, slave = pty.openpty()
        self.master = master
        self.proc = subprocess.Popen(
            [*CLI, *args], cwd=REPO_ROOT, stdin=slave, stdout=slave, stderr=slave, close_fds=True
        )
        os.close(slave)
        self.output = ""

    def read_until(self, text: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while text not in self.output:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{text!r} not seen; output so far:\n{self.output}")
            ready, _, _ = select.select([self.master], [], [], remaining)
            if ready:
                try:
                    data = os.read(self.master, 4096)
                except OSError:
                    data = b""
                if not data:
                    raise AssertionError(f"{text!r} not seen before EOF; output:\n{self.output}")
                self.output += data.decode("utf-8", "replace")
        return self.output

    def send(self, text: str) -> None:
        os.write(self.master, text.encode())

    def finish(self, timeout: float) -> int:
        try:
            self.read_until("\x00never\x00", timeout)
        except AssertionError:
            pass
        code = self.proc.wait(timeout=timeout)
        os.close(self.master)
        return code


@pytest.mark.parametrize("operator_acts", [True, False], ids=["operator-triggers", "prompt-times-out"])
def test_prompt_at_a_terminal(csms: TestbedProcess, cp_id: str, operator_acts: bool) -> None:
    term = Pty(
        [
            "--url",
            csms.ws_url + "{cp_id}",
            "--cp-id",
            cp_id,
            "--only",
            "TC_061",
            "--prompt-timeout",
            "3",
            "--step-timeout",
            "1",
        ]
    )
    try:
        term.read_until("then press Enter", 20)
        assert f"Make the CSMS send ClearCache to charge point {cp_id}, then press Enter" in term.output
        if operator_acts:
            threading.Thread(target=csms.api, args=("POST", f"/cps/{cp_id}/ClearCache", {})).start()
            term.read_until("ClearCache.req received", 10)
            term.send("\n")
        code = term.finish(20)
    finally:
        if term.proc.poll() is None:
            term.proc.kill()
    if operator_acts:
        assert re.search(r"TC_061_CSMS\s+-- PASSED!", term.output), term.output
        assert code == 0
    else:
        assert re.search(r"TC_061_CSMS\s+-- FAILED!", term.output), term.output
        assert "none within 1 s (trigger: no Enter within 3 s)" in term.output
        assert code == 1


def _locust(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        "locustfiles/compliance.py",
        "--headless",
        "-u",
        "1",
        "-r",
        "1",
        "--only-summary",
        *args,
    ]
    return subprocess.run(
        command,
        cwd=REPO_ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=90,
        env={**os.environ, **(env or {})},
    )


def test_locust_runs_cases_as_stats_entries(csms: TestbedProcess, cp_id: str, tmp_path: Path) -> None:
    csms.api("PUT", "/faults", {"name": "accept_all_tags"})
    junit = tmp_path / "l.xml"
    done = _locust(
        "--host",
        csms.ws_url,
        "--octt-cp-id",
        cp_id,
        "--octt-junit",
        str(junit),
        env={"VOCPP_OCTT_ONLY": "TC_023_3,TC_064,TC_086", "VOCPP_OCTT_BLOCKED_TAG": "VOCPP-BLOCKED"},
    )
    text = done.stdout + done.stderr
    assert done.returncode == 1, text
    assert re.search(r"OCTT\s+TC_023_3_CSMS\s+1\s+1\(100\.00%\)", text), text
    assert re.search(r"OCTT\s+TC_064_CSMS\s+1\s+0\(0\.00%\)", text), text
    assert re.search(r"OCTT n/a\s+TC_086_CSMS", text), text
    assert "expected idTagInfo.status Blocked, actual Accepted" in text
    names = [c.get("name") for c in ET.parse(junit).getroot().iter("testcase")]
    assert names == ["TC_023_3_CSMS", "TC_064_CSMS", "TC_086_CSMS"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--host", "wss://127.0.0.1:1/ocpp/", "--octt-ca-file", "/missing/ca.pem"], "--octt-ca-file /missing/ca.pem"),
        (["--host", "wss://127.0.0.1:1/ocpp/", "--octt-client-key", "/missing/cp.key"], "--octt-client-key"),
        (["--host", "ws://127.0.0.1:1/ocpp/", "--octt-security-profile", "2"], "needs a wss:// URL"),
        (["--host", "ws://127.0.0.1:1/ocpp/", "--octt-security-profile", "1"], "needs a Basic auth password"),
    ],
)
def test_locust_bad_options_fail_early_with_exit_2(args: list[str], message: str) -> None:
    done = _locust(*args, "--loglevel", "WARNING")
    assert done.returncode == 2, done.stdout + done.stderr
    errors = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("locust: error: ") and message in errors[0], done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--octt-profiles", "Core,Bogus"], "unknown feature profile 'Bogus'"),
        (["--octt-stack-level", "99"], "--octt-stack-level must be 0 to 97, not 99"),
        (["--octt-root-certificate", "/missing/root.pem"], "/missing/root.pem: no such file"),
        (["--octt-authorization-key", "0123"], "32 to 40 hexadecimal digits"),
    ],
)
def test_locust_bad_test_data_fails_early_with_exit_2(args: list[str], message: str) -> None:
    done = _locust("--host", "ws://127.0.0.1:1/ocpp/", *args, "--loglevel", "WARNING")
    assert done.returncode == 2, done.stdout + done.stderr
    errors = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and ": error: " in errors[0] and message in errors[0], done.stderr
    assert "0123" not in errors[0] or "authorization" not in args[0]  # (a key is never echoed)


def test_locust_profiles_require_all_and_test_data_reach_the_run(
    csms: TestbedProcess, cp_id: str, tmp_path: Path
) -> None:
    """--octt-profiles makes a case of another profile NOT APPLICABLE, --octt-require-all then exits
    3 as the CLI does; the test data options (here by their VOCPP_OCTT_... variables) reach the cases."""
    report = tmp_path / "l.json"
    done = _locust(
        "--host",
        csms.ws_url,
        "--octt-cp-id",
        cp_id,
        "--octt-trigger-url",
        csms.api_url + "/cps/{cp_id}/{action}",
        "--octt-profiles",
        "Core,FirmwareManagement",
        "--octt-require-all",
        "--octt-json",
        str(report),
        env={
            "VOCPP_OCTT_ONLY": "TC_044_1,TC_046",
            "VOCPP_OCTT_ID_TAG": "VOCPP-VALID",
            "VOCPP_OCTT_FIRMWARE_URL": "https://fw.example.org/octt/v9.bin",
        },
    )
    text = done.stdout + done.stderr
    assert done.returncode == 3, text
    assert re.search(r"OCTT\s+TC_044_1_CSMS\s+1\s+0\(0\.00%\)", text), text
    assert re.search(r"OCTT n/a\s+TC_046_CSMS", text), text
    data = json.loads(report.read_text())
    assert data["profiles"] == {"declared": ["Core", "FirmwareManagement"], "source": "--profiles"}
    reservation = next(c for c in data["cases"] if c["id"] == "TC_046_CSMS")
    assert "the Reservation profile is not declared (--profiles Core,FirmwareManagement)" in reservation["reason"]
    firmware = next(c for c in data["cases"] if c["id"] == "TC_044_1_CSMS")
    location = next(c for c in firmware["checks"] if c["field"] == "location")
    assert location["expected"] == "https://fw.example.org/octt/v9.bin" and location["ok"]


def test_locust_client_certificate_options_reach_the_run(tmp_path: Path) -> None:
    """--octt-client-cert/--octt-client-key (or their VOCPP_OCTT_... variables) choose profile 3."""
    cert, key = tmp_path / "cp.pem", tmp_path / "cp.key"
    cert.write_text("not a certificate")
    key.write_text("not a key")
    done = _locust(
        "--host",
        f"wss://127.0.0.1:{free_port()}/ocpp/",
        "--loglevel",
        "WARNING",
        env={"VOCPP_OCTT_CLIENT_CERT": str(cert), "VOCPP_OCTT_CLIENT_KEY": str(key), "VOCPP_OCTT_ONLY": "TC_001"},
    )
    text = done.stdout + done.stderr
    # the options passed; the (unloadable) certificate fails the connect: exit 2, as the CLI's
    assert done.returncode == 2, text
    assert re.search(r"OCTT\s+connect\s+1\s+1\(100\.00%\)", text), text
    assert "cannot connect to wss://" in text and "Traceback" not in text


def test_locust_without_host_starts_the_testbed() -> None:
    done = _locust("--octt-only", "TC_001,TC_010")
    text = done.stdout + done.stderr
    assert done.returncode == 0, text
    assert re.search(r"OCTT\s+TC_001_CSMS\s+1\s+0\(0\.00%\)", text), text
    assert re.search(r"OCTT\s+TC_010_CSMS\s+1\s+0\(0\.00%\)", text), text


def test_locust_prints_the_cli_verdicts_in_document_order() -> None:
    """The Locust user shows what ``volatileocpp scenarios`` prints: a line per case in document
    order, then the summary line (here against the testbed it starts itself)."""
    done = _locust(env={"VOCPP_OCTT_ONLY": "TC_010,TC_001,TC_003"})
    text = done.stdout + done.stderr
    assert done.returncode == 0, text
    order = [line.split()[2] for line in done.stdout.splitlines() if line.startswith("Running scenario:")]
    assert order == ["TC_001_CSMS", "TC_003_CSMS", "TC_010_CSMS"], text
    assert re.search(r"^3 cases in [0-9.]+ s: 3 PASSED, 0 FAILED, 0 NOT APPLICABLE, 0 ERROR$", done.stdout, re.M), text
