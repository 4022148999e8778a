"""No secret leaves a fleet run (issue 10, item 1): every output of real ``locust`` runs is searched.

Run A: ``--basic-auth-password`` on the command line and a password in the CSMS URL
(``ws://cpuser:<pw>@host/``), web UI with ``--autostart``, ``--csv``, ``--html``,
``--json-summary``. Run B: the password from ``LOCUST_BASIC_AUTH_PASSWORD``, the run started
from the web UI's form as a browser would (every field as the page gives it). Collected: stdout,
stderr, every file written, and every page and JSON endpoint of the web UI during the run.
Searched for: each password as it is and escaped (JSON, HTML, URL), the Authorization header's
base64 token of every charge point (``cp_id:password``), and every base64 encoding that could
carry the password at any byte offset.
"""

from __future__ import annotations

import base64
import html
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from ocpp_users.embedded import TestbedProcess
from ocpp_users.fleet.secrecy import PLACEHOLDER
from tests.test_fleet_cli import LOCUST, LOCUSTFILE

PASSWORD = "Cli-S3cret&pw'42"
URL_PASSWORD = "Url-Hidden-77x"
ENV_PASSWORD = "Env-S3cret-9931"
FAST_ENV = {
    "LOCUST_HEARTBEAT_INTERVAL": "1",
    "LOCUST_IDLE_DURATION": "0.5-1",
    "LOCUST_SESSION_DURATION": "1-2",
    "LOCUST_METER_INTERVAL": "1",
}
PAGES = (
    "/",
    "/stats/requests",
    "/stats/report",
    "/stats/report?download=1",
    "/stats/requests/csv",
    "/stats/failures/csv",
    "/stats/requests_full_history/csv",
    "/exceptions",
    "/exceptions/csv",
    "/tasks",
    "/logs",
    "/charge-points",
    "/worker-count",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get(url: str, data: bytes | None = None) -> tuple[int, str, str]:
    """(status, headers, body) of one web UI request (errors included: their bodies count too)."""
    request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, str(response.headers), response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, str(exc.headers), exc.read().decode("utf-8", "replace")


def wait_for(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if get(url)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout:g} s")


def crawl(base: str) -> dict[str, str]:
    return {path: "\n".join(get(base + path)[1:]) for path in PAGES}


def forms(secret: str) -> set[str]:
    """The secret as it is and as a page or file could escape it."""
    return {
        secret,
        json.dumps(secret)[1:-1],
        json.dumps(secret)[1:-1].replace("'", "\\u0027").replace("&", "\\u0026"),
        html.escape(secret),
        html.escape(secret, quote=False),
        urllib.parse.quote(secret, safe=""),
    }


def base64_cores(secret: str) -> set[str]:
    """Base64 text that appears in every encoding of a byte string containing ``secret``, one per
    byte offset modulo 3 (the whole groups of 3 bytes inside the secret)."""
    raw = secret.encode()
    cores = set()
    for start in range(3):
        whole = (len(raw) - start) // 3 * 3
        cores.add(base64.b64encode(raw[start : start + whole]).decode())
    return {core for core in cores if len(core) >= 8}


def needles(secret: str, cp_ids: list[str]) -> set[str]:
    tokens = {base64.b64encode(f"{cp}:{secret}".encode()).decode() for cp in cp_ids}
    return forms(secret) | base64_cores(secret) | tokens


def leaks(outputs: dict[str, str], secrets: list[str], cp_ids: list[str]) -> list[str]:
    found = []
    for where, text in outputs.items():
        for secret in secrets:
            for needle in needles(secret, cp_ids):
                if needle in text:
                    found.append(f"{where}: {needle!r}")
    return found


def files_of(folder: Path) -> dict[str, str]:
    return {
        f"file {path.name}": path.read_text(encoding="utf-8", errors="replace")
        for path in folder.rglob("*")
        if path.is_file()
    }


def booted_cps(csms: TestbedProcess) -> list[str]:
    _, body = csms.api("GET", "/cps")
    return [cp for cp, record in body["cps"].items() if record["booted"] and record["basic_auth_user"] == cp]


def start_locust(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    full_env = {**os.environ, **FAST_ENV, **env}
    full_env.pop("LOCUST_HOST", None)
    return subprocess.Popen(
        [*LOCUST, "-f", LOCUSTFILE, *args],
        cwd=cwd,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def test_no_password_in_any_output_of_a_run(tmp_path: Path) -> None:
    """Run A: command-line password and a URL password; pages, JSON, CSV, HTML, summary, logs."""
    csms = TestbedProcess(["--port", "0", "-q"], env={**os.environ, "TESTBED_BASIC_AUTH_PASSWORD": PASSWORD}).start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    host = csms.ws_url.replace("ws://", f"ws://cpuser:{URL_PASSWORD}@")
    args = ["--host", host, "--security-profile", "1", "--basic-auth-password", PASSWORD]
    args += ["--web-host", "127.0.0.1", "--web-port", str(port), "--autostart", "--autoquit", "1"]
    args += ["-u", "3", "-r", "3", "-t", "6s", "--csv", "out", "--html", "report.html"]
    args += ["--json-summary", "summary.json"]
    proc = start_locust(args, tmp_path, {})
    try:
        wait_for(base + "/")
        deadline = time.monotonic() + 15
        while len(booted_cps(csms)) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        pages = crawl(base)
        out, err = proc.communicate(timeout=60)
        cp_ids = list(csms.api("GET", "/cps")[1]["cps"])
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        csms.stop()
    assert len(cp_ids) == 3 and proc.returncode == 0, (cp_ids, proc.returncode, err[-3000:])
    outputs = {"stdout": out, "stderr": err, **files_of(tmp_path), **{f"GET {p}": t for p, t in pages.items()}}
    assert {"file report.html", "file summary.json", "file out_stats.csv", "file out_failures.csv"} <= set(outputs)
    assert leaks(outputs, [PASSWORD, URL_PASSWORD], cp_ids) == []
    # the run really used both: every charge point authenticated, and the URL is shown redacted
    summary = json.loads(outputs["file summary.json"])
    assert summary["totals"]["failures"] == 0 and summary["totals"]["requests"] > 10, summary["errors"]
    assert "cpuser:***@" in outputs["file report.html"] and "cpuser:***@" in pages["/"]
    assert "cpuser:***@" in pages["/stats/report"]


def _template_args(page: str) -> dict[str, Any]:
    start = page.index("templateArgs = ") + len("templateArgs = ")
    args, _ = json.JSONDecoder().raw_decode(page[start:])
    return dict(args)


def _form_of(args: dict[str, Any], users: int) -> dict[str, str]:
    """The form the page submits: the run's size, the host, and every option as the page shows it."""
    form = {"user_count": str(users), "spawn_rate": str(users), "host": args["host"]}
    for name, option in args["extra_options"].items():
        value = option["default_value"]
        if value is None:
            continue
        form[name] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return form


def test_the_web_ui_shows_that_a_password_is_set_and_a_form_run_uses_the_real_one(tmp_path: Path) -> None:
    """Run B: the password from LOCUST_BASIC_AUTH_PASSWORD; the page masks it; the run started
    from the page's own form authenticates with the real password."""
    csms = TestbedProcess(["--port", "0", "-q"], env={**os.environ, "TESTBED_BASIC_AUTH_PASSWORD": ENV_PASSWORD})
    csms.start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = ["--host", csms.ws_url, "--security-profile", "1", "--web-host", "127.0.0.1", "--web-port", str(port)]
    proc = start_locust(args, tmp_path, {"LOCUST_BASIC_AUTH_PASSWORD": ENV_PASSWORD})
    try:
        wait_for(base + "/")
        page = get(base + "/")[2]
        template = _template_args(page)
        secret = template["extra_options"]["basic_auth_password"]
        assert secret["is_secret"] and secret["default_value"] == PLACEHOLDER, "set, and only that"
        status, _, answer = get(base + "/swarm", urllib.parse.urlencode(_form_of(template, 2)).encode())
        assert status == 200 and json.loads(answer)["success"], answer
        deadline = time.monotonic() + 15
        while len(booted_cps(csms)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        booted = booted_cps(csms)
        pages = crawl(base)
        pages["POST /swarm"] = answer
        get(base + "/stop", b"")
        os.killpg(proc.pid, signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        cp_ids = list(csms.api("GET", "/cps")[1]["cps"])
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        csms.stop()
    assert len(booted) == 2, ("the form's run did not authenticate with the real password", err[-3000:])
    outputs = {"stdout": out, "stderr": err, "GET / (before)": page, **{f"GET {p}": t for p, t in pages.items()}}
    assert leaks(outputs, [ENV_PASSWORD], cp_ids) == []


def test_the_last_line_scrubs_every_escaped_form() -> None:
    from ocpp_users.fleet.secrecy import scrub

    page = f"<input value='{html.escape(PASSWORD)}'> {json.dumps({'pw': PASSWORD})} {urllib.parse.quote(PASSWORD)}"
    clean = scrub(page, [PASSWORD])
    assert not any(form in clean for form in forms(PASSWORD)), clean
    assert scrub('{"ok": true}', ["true"]) == '{"ok": true}', "short secrets are not searched for"


def test_the_compliance_users_page_masks_its_password_too(tmp_path: Path) -> None:
    """``locustfiles/compliance.py`` has a secret option of its own (``--octt-basic-auth-password``)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    compliance = str(Path(LOCUSTFILE).with_name("compliance.py"))
    env = {**os.environ, "VOCPP_OCTT_BASIC_AUTH_PASSWORD": ENV_PASSWORD}
    env.pop("LOCUST_HOST", None)
    host = f"ws://cp:{URL_PASSWORD}@127.0.0.1:9/ocpp/"
    args = ["-f", compliance, "--host", host, "--web-host", "127.0.0.1", "--web-port", str(port)]
    proc = subprocess.Popen([*LOCUST, *args], cwd=tmp_path, env=env, text=True, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    try:
        wait_for(base + "/")
        pages = crawl(base)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    template = _template_args(pages["/"])
    assert template["extra_options"]["octt_basic_auth_password"]["default_value"] == PLACEHOLDER
    assert "cp:***@" in template["host"]
    assert leaks({"stdout": out, "stderr": err, **pages}, [ENV_PASSWORD, URL_PASSWORD], ["cp"]) == []
