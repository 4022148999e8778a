"""Per-station credentials (issue 12, deliverable 3): a Basic auth password per charge point in the
ids file (``id,password``), a client certificate per charge point in ``--client-cert-dir``, the
password travelling with its id from the master to a worker, and no password or key material in
any log, report or web page. Against testbeds that know each charge point's own password
(``--passwords-file``) or verify client certificates."""

from __future__ import annotations

import argparse
import json
import re
import sys
import uuid
from pathlib import Path
from typing import Any

import gevent
import pytest
from locust.env import Environment

from ocpp_users.embedded import TestbedProcess
from ocpp_users.fleet.config import OptionError, fleet_config
from ocpp_users.fleet.ids import IdLedger, LeasedIdPool, read_credentials, read_ids_file
from ocpp_users.fleet.options import help_text, parse_args
from ocpp_users.fleet.runtime import Fleet
from tests.certs import _write_cert, _write_key, make_ca, make_leaf
from tests.test_distributed import assert_clean, run_distributed, run_local
from tests.test_fleet_user import FAST, errors, run_fleet, wait_until

HOST = "ws://csms.example/ocpp/"


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6]}"


def passwords_for(ids: list[str]) -> dict[str, str]:
    return {cp_id: f"pw-{uuid.uuid4().hex}" for cp_id in ids}


def write_ids(path: Path, passwords: dict[str, str], header: bool = True) -> str:
    lines = ["# registered stations", *(["id,password"] if header else [])]
    lines += [f"{cp_id},{pw}" for cp_id, pw in passwords.items()]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def start_testbed(*args: str) -> TestbedProcess:
    proc = TestbedProcess(["--port", "0", "-q", "--heartbeat-interval", "30", *args])
    proc.start()
    return proc


# ---------------------------------------------------------------- the ids file


def test_ids_file_with_passwords(tmp_path: Path) -> None:
    path = tmp_path / "ids.csv"
    path.write_text(
        "id,password\n"
        "# a comment\n"
        "CP-1,first-secret\n"
        'CP-2,"with,comma and # hash"\n'
        "CP-3\n"
        "CP-4  # no password, a comment\n"
        "CP-5,un,quoted,commas\n"
    )
    found = read_credentials(str(path))
    assert found.ids == ("CP-1", "CP-2", "CP-3", "CP-4", "CP-5")
    assert found.passwords == {"CP-1": "first-secret", "CP-2": "with,comma and # hash", "CP-5": "un,quoted,commas"}
    assert read_ids_file(str(path)) == found.ids
    assert "first-secret" not in repr(found)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("CP-1,\n", "charge point 'CP-1' has an empty password"),
        ("CP-1,top\x07secret\n", "holds control characters"),
        ("CP-1,one-secret\nCP-1,other-secret\n", "duplicate charge point id 'CP-1'"),
        ("CP 1,a-secret\n", "contains '/', '?' or blanks"),
    ],
)
def test_bad_ids_files_never_show_a_password(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "ids.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=re.escape(needle)) as info:
        read_credentials(str(path))
    for secret in ("secret", "top"):
        assert secret not in str(info.value)


def test_fleet_config_gives_each_charge_point_its_password(tmp_path: Path) -> None:
    passwords = {"CP-1": "one-password", "CP-2": "two-password"}
    ids = write_ids(tmp_path / "ids.csv", passwords)
    config = fleet_config(parse_args(["--cp-ids-file", ids, "--security-profile", "1"]), HOST)
    assert config.security_for("CP-1").password == "one-password"
    assert config.settings_for("CP-2", HOST).security.password == "two-password"
    assert "one-password" not in repr(config) and "one-password" not in config.describe()
    assert "2 with a password of their own" in config.describe()
    # a fleet password stands in for the ids without one
    (tmp_path / "mixed.csv").write_text("CP-1,own-password\nCP-2\n")
    argv = [
        "--cp-ids-file",
        str(tmp_path / "mixed.csv"),
        "--security-profile",
        "1",
        "--basic-auth-password",
        "fleet-pw",
    ]
    config = fleet_config(parse_args(argv), HOST)
    assert (config.security_for("CP-1").password, config.security_for("CP-2").password) == ("own-password", "fleet-pw")


def test_ids_without_a_password_and_no_fleet_password(tmp_path: Path) -> None:
    (tmp_path / "ids.csv").write_text("CP-1,own-password\nCP-2\nCP-3\n")
    options = parse_args(["--cp-ids-file", str(tmp_path / "ids.csv"), "--security-profile", "1"])
    with pytest.raises(OptionError, match=r"2 charge point\(s\) without a password \(first: CP-2\)") as info:
        fleet_config(options, HOST)
    assert "own-password" not in str(info.value)
    # a worker does not read the file: the master lends the ids with their passwords
    assert fleet_config(options, HOST, read_ids=False).passwords == {}


def test_client_cert_dir_per_charge_point(tmp_path: Path) -> None:
    folder = tmp_path / "certs"
    folder.mkdir()
    (folder / "CP-1.pem").write_text("cert")
    (folder / "CP-1.key").write_text("key")
    (folder / "CP-2.pem").write_text("cert and key")
    (tmp_path / "ids.txt").write_text("CP-1\nCP-2\n")
    host = "wss://csms.example/ocpp/"
    argv = ["--security-profile", "3", "--client-cert-dir", str(folder)]
    config = fleet_config(parse_args([*argv, "--cp-ids-file", str(tmp_path / "ids.txt")]), host)
    one, two = config.security_for("CP-1"), config.security_for("CP-2")
    assert (one.client_cert, one.client_key) == (str(folder / "CP-1.pem"), str(folder / "CP-1.key"))
    assert (two.client_cert, two.client_key) == (str(folder / "CP-2.pem"), None)
    (tmp_path / "more.txt").write_text("CP-1\nCP-2\nCP-3\n")
    with pytest.raises(
        OptionError, match=r"--client-cert-dir: 1 charge point\(s\) without a certificate \(first: CP-3.pem\)"
    ):
        fleet_config(parse_args([*argv, "--cp-ids-file", str(tmp_path / "more.txt")]), host)
    templated = fleet_config(parse_args(argv), host)  # template ids: checked when a charge point starts
    with pytest.raises(OptionError, match=r"no VOCPP-0-00001\.pem in"):
        templated.security_for("VOCPP-0-00001")
    with pytest.raises(SystemExit) as exit_info:  # checked at parse time: one line, exit code 2
        parse_args(["--client-cert-dir", str(tmp_path / "nowhere")])
    assert exit_info.value.code == 2
    with pytest.raises(OptionError, match="no such directory"):
        fleet_config(argparse.Namespace(client_cert_dir=str(tmp_path / "nowhere")), host)


def test_security_extension_options(tmp_path: Path) -> None:
    roots = tmp_path / "manufacturer.pem"
    roots.write_text("-----BEGIN CERTIFICATE-----\n")
    config = fleet_config(parse_args(["--manufacturer-root", str(roots)]), HOST)
    assert config.settings_for("CP-1", HOST).manufacturer_roots == str(roots)
    argv = [
        "--security-events",
        "--cpo-name",
        "My CPO",
        "--firmware-signature",
        "certificate",
        "--tls-url",
        "wss://h:9443/",
    ]
    config = fleet_config(parse_args(argv), HOST)
    settings = config.settings_for("CP-1", HOST)
    assert settings.security_events and settings.tls_url == "wss://h:9443/"
    assert settings.configuration["CpoName"] == "My CPO"
    assert settings.behaviour.signed_firmware_check == "certificate"
    with pytest.raises(OptionError, match="--tls-url: expected a wss:// URL"):
        fleet_config(parse_args(["--tls-url", "ws://h/"]), HOST)
    text = help_text()
    for flag in (
        "--client-cert-dir",
        "--tls-url",
        "--security-events",
        "--cpo-name",
        "--firmware-signature",
        "--manufacturer-root",
    ):
        assert flag in text
    assert "LOCUST_CLIENT_CERT_DIR" in text and "LOCUST_SECURITY_EVENTS" in text


# ---------------------------------------------------------------- the password travels with its id


def test_the_password_travels_with_the_lent_id() -> None:
    ledger = IdLedger(("A", "B", "C"), {"A": "pw-a", "C": "pw-c"})
    worker_passwords: dict[str, str] = {}
    to_master: list[tuple[str, dict[str, Any]]] = []
    pool = LeasedIdPool(lambda kind, data: to_master.append((kind, data)), timeout=2, passwords=worker_passwords)
    waiting = gevent.spawn(pool.acquire)
    gevent.sleep(0.01)
    [(kind, request)] = to_master
    assert kind == "vocpp_ids_request"
    grant = ledger.grant("w1", request["seq"], 2)
    assert grant == {"seq": request["seq"], "ids": ["A", "B"], "short": "", "passwords": {"A": "pw-a"}}
    pool.on_grant(grant)
    assert waiting.get(timeout=1) == "A" and pool.acquire() == "B"
    assert worker_passwords == {"A": "pw-a"}
    late = ledger.grant("w1", 99, 1)  # an answer to no request: given back, its password not kept
    pool.on_grant(late)
    assert worker_passwords == {"A": "pw-a"} and to_master[-1] == ("vocpp_ids_return", {"ids": ["C"]})


# ---------------------------------------------------------------- real runs


def test_each_charge_point_connects_with_its_own_password(tmp_path: Path) -> None:
    ids = [unique("PW-") for _ in range(3)]
    passwords = passwords_for(ids)
    proc = start_testbed("--passwords-file", write_ids(tmp_path / "csms.csv", passwords, header=False))
    try:
        wrong = {**passwords, ids[2]: "not-the-password"}
        argv = [*FAST, "--security-profile", "1", "--cp-ids-file", write_ids(tmp_path / "ids.csv", wrong)]
        env = run_fleet(proc.ws_url, argv, users=3, seconds=4)
        cps = proc.api("GET", "/cps")[1]["cps"]
        assert {cp_id for cp_id in ids[:2] if cps[cp_id]["booted"]} == set(ids[:2])
        assert cps[ids[0]]["basic_auth_user"] == ids[0]
        assert not cps.get(ids[2], {}).get("connections")
        connect_errors = [e for e in errors(env) if e[1] == "connect"]
        assert connect_errors == [
            ("WebSocket", "connect", "AuthenticationFailed('handshake refused: HTTP 401 (credentials rejected)')")
        ]
    finally:
        proc.stop()


def make_cert_dir(folder: Path, ids: list[str]) -> tuple[str, str]:
    """A CA and a client certificate (CN = the id) per charge point; the CA file and its key text."""
    folder.mkdir()
    ca, ca_key = make_ca("Fleet CA")
    for cp_id in ids:
        cert, key = make_leaf(ca, ca_key, cp_id, server=False)
        _write_cert(folder / f"{cp_id}.pem", cert)
        _write_key(folder / f"{cp_id}.key", key)
    server, server_key = make_leaf(ca, ca_key, "localhost", server=True)
    _write_cert(folder.parent / "server.pem", server)
    _write_key(folder.parent / "server.key", server_key)
    return _write_cert(folder.parent / "ca.pem", ca), _write_key(folder.parent / "ca.key", ca_key)


def test_each_charge_point_presents_its_own_certificate(tmp_path: Path) -> None:
    ids = [unique("MT-") for _ in range(3)]
    ca, _ = make_cert_dir(tmp_path / "certs", ids)
    (tmp_path / "ids.txt").write_text("\n".join(ids) + "\n")
    proc = start_testbed(
        "--tls-cert", str(tmp_path / "server.pem"), "--tls-key", str(tmp_path / "server.key"), "--tls-client-ca", ca
    )
    try:
        argv = [*FAST, "--security-profile", "3", "--ca-file", ca, "--client-cert-dir", str(tmp_path / "certs")]
        run_fleet(proc.ws_url, [*argv, "--cp-ids-file", str(tmp_path / "ids.txt")], users=3, seconds=4)
        cps = proc.api("GET", "/cps")[1]["cps"]
        assert {cp_id: cps[cp_id]["client_certificate"]["subject_cn"] for cp_id in ids} == {i: i for i in ids}
        assert all(cps[cp_id]["security_profile"] == 3 and cps[cp_id]["booted"] for cp_id in ids)
    finally:
        proc.stop()


def secrets_of(passwords: dict[str, str], key_files: list[Path]) -> list[str]:
    """Every password (as is and in hexadecimal) and every line of key material."""
    found = [*passwords.values(), *(pw.encode().hex() for pw in passwords.values())]
    for path in key_files:
        found += [line for line in path.read_text().splitlines() if line and not line.startswith("-----")]
    found.append("PRIVATE KEY")
    return found


def assert_no_secret(where: str, text: str, secrets: list[str]) -> None:
    leaked = [secret[:6] + "..." for secret in secrets if secret in text]
    assert leaked == [], f"secret material in {where}: {leaked}"


def test_distributed_run_lends_passwords_and_shows_none(tmp_path: Path) -> None:
    """Master and two workers; the ids file carries a password per charge point: the master lends
    each id with its password, every charge point gets in with its own, and no password shows in
    any process's log (DEBUG level) or the JSON summary."""
    ids = [f"DP-{i:02d}" for i in range(8)]
    passwords = passwords_for(ids)
    proc = start_testbed("--passwords-file", write_ids(tmp_path / "csms.csv", passwords, header=False))
    try:
        summary = tmp_path / "summary.json"
        run = run_distributed(
            [
                *("--host", proc.ws_url, "--cp-ids-file", write_ids(tmp_path / "ids.csv", passwords)),
                *("--security-profile", "1", "-u", "8", "-r", "8", "-t", "6s", "--loglevel", "DEBUG"),
                *("--json-summary", str(summary), "--max-failure-ratio", "0"),
            ]
        )
        assert run.returncode == 0, run.logs[-4000:]
        assert_clean(run)
        cps = proc.api("GET", "/cps")[1]["cps"]
        assert sorted(cp_id for cp_id, cp in cps.items() if cp["booted"]) == ids
        assert json.loads(summary.read_text())["totals"]["failures"] == 0
        secrets = secrets_of(passwords, [])
        assert_no_secret("the logs", run.logs, secrets)
        assert_no_secret("the JSON summary", summary.read_text(), secrets)
    finally:
        proc.stop()


def test_no_secret_in_logs_reports_or_web_pages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A local run with per-station passwords (profile 2, TLS) and one with per-station client
    certificates (profile 3): the output at DEBUG level, the CSV and HTML reports, the JSON
    summary and the web UI's pages hold no password and no line of a private key."""
    ids = [unique("SX-") for _ in range(3)]
    passwords = passwords_for(ids)
    ca, ca_key = make_cert_dir(tmp_path / "certs", ids)
    key_files = [tmp_path / "certs" / f"{cp_id}.key" for cp_id in ids] + [Path(ca_key)]
    secrets = secrets_of(passwords, key_files)
    tls = ["--tls-cert", str(tmp_path / "server.pem"), "--tls-key", str(tmp_path / "server.key")]
    proc = start_testbed(
        "--passwords-file",
        write_ids(tmp_path / "csms.csv", passwords),
        *tls,
        "--tls-client-ca",
        ca,
        "--tls-client-cert-optional",
    )
    try:
        ids_file = write_ids(tmp_path / "ids.csv", passwords)
        for profile, extra in (("2", []), ("3", ["--client-cert-dir", str(tmp_path / "certs")])):
            out = tmp_path / f"p{profile}"
            out.mkdir()
            run = run_local(
                [
                    *("--host", proc.ws_url, "--cp-ids-file", ids_file, "--security-profile", profile, "--ca-file", ca),
                    *extra,
                    *("-u", "3", "-r", "3", "-t", "4s", "--loglevel", "DEBUG", "--csv", str(out / "run")),
                    *("--html", str(out / "report.html"), "--json-summary", str(out / "summary.json")),
                ]
            )
            assert run.returncode == 0, run.output[-3000:]
            assert "Traceback" not in run.output
            assert_no_secret(f"the profile {profile} output", run.output, secrets)
            for report in out.iterdir():
                assert_no_secret(str(report.name), report.read_text(errors="replace"), secrets)
            cps = proc.api("GET", "/cps")[1]["cps"]
            assert all(cps[cp_id]["security_profile"] == int(profile) for cp_id in ids)

        monkeypatch.setattr(sys, "argv", ["locust"])  # the web UI re-parses the command line
        pages: dict[str, str] = {}

        def during(env: Environment) -> None:
            assert env.web_ui is not None
            client = env.web_ui.app.test_client()
            wait_until(
                lambda: Fleet.of(env).monitor.counts()["booted"] + Fleet.of(env).monitor.counts()["charging"] == 3, 10
            )
            for page in ("/", "/charge-points", "/stats/requests", "/stats/report", "/exceptions"):
                pages[page] = client.get(page).get_data(as_text=True)

        argv = [*FAST, "--security-profile", "2", "--ca-file", ca, "--cp-ids-file", ids_file]
        run_fleet(proc.ws_url.replace("ws://", "wss://"), argv, users=3, during=during, web_ui=True)
        assert pages and all(pages.values())
        for page, text in pages.items():
            assert_no_secret(f"the web page {page}", text, secrets)
    finally:
        proc.stop()
