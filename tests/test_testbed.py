"""The reference CSMS (``testbed``), exercised by an independent ``websockets`` client.

Uses the ``csms`` (shared testbed, reset before each test) and ``cp_id`` fixtures from
conftest.py; tests needing other start-up options start their own TestbedProcess.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import ssl
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import ocpp
import pytest
from jsonschema import Draft4Validator, FormatChecker
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from ocpp_users.embedded import REPO_ROOT, TestbedProcess, TestbedStartError

SCHEMAS = Path(ocpp.__file__).parent / "v16" / "schemas"
NOW = "2024-05-01T12:00:00Z"
BOOT = {"chargePointVendor": "VolatileOCPP", "chargePointModel": "Sim"}


def schema_errors(action: str, payload: Any, response: bool = True) -> list[str]:
    name = f"{action}Response.json" if response else f"{action}.json"
    schema = json.loads((SCHEMAS / name).read_text())
    validator = Draft4Validator(schema, format_checker=FormatChecker())
    return [e.message for e in validator.iter_errors(payload)]


class Client:
    """A deliberately simple OCPP-J client written against the spec, not against the testbed."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.extra: list[Any] = []

    def send(self, frame: Any) -> None:
        self.ws.send(frame if isinstance(frame, str) else json.dumps(frame))

    def recv(self, timeout: float = 5.0) -> Any:
        raw = self.ws.recv(timeout)
        try:
            return json.loads(raw)
        except ValueError:
            return raw

    def call(self, action: str, payload: dict[str, Any], timeout: float = 5.0) -> list[Any]:
        uid = str(uuid.uuid4())
        self.send([2, uid, action, payload])
        deadline = time.monotonic() + timeout
        while True:
            frame = self.recv(max(0.01, deadline - time.monotonic()))
            if isinstance(frame, list) and len(frame) > 1 and frame[1] == uid:
                return frame
            self.extra.append(frame)

    def result(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        frame = self.call(action, payload)
        assert frame[0] == 3, frame
        assert schema_errors(action, frame[2]) == [], frame
        return frame[2]


def open_cp(csms: TestbedProcess, cp_id: str, **kwargs: Any) -> ClientConnection:
    kwargs.setdefault("subprotocols", ["ocpp1.6"])
    return connect(csms.ws_url + "ocpp/" + cp_id, open_timeout=5, close_timeout=2, **kwargs)


def messages(csms: TestbedProcess, cp_id: str) -> list[dict[str, Any]]:
    status, body = csms.api("GET", f"/cps/{cp_id}/messages")
    assert status == 200, body
    return body["messages"]


def wait_for(predicate: Any, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


def answer_calls(ws: ClientConnection, count: int, answer: Any, seen: list[Any]) -> threading.Thread:
    """Answer ``count`` CSMS-initiated CALLs in a thread; ``answer(frame)`` builds the reply."""

    def run() -> None:
        for _ in range(count):
            frame = json.loads(ws.recv(10))
            seen.append(frame)
            ws.send(json.dumps(answer(frame)))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


# --- start-up, CLI, process control ------------------------------------------------


def test_health_and_startup_lines(csms: TestbedProcess) -> None:
    assert csms.ws_url.startswith("ws://127.0.0.1:") and csms.ws_url.endswith("/")
    assert csms.api("GET", "/health") == (200, {"ok": True})


def test_bad_cli_value_is_one_line_and_exit_2() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "testbed", "--boot-status", "Maybe"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_start_error_reports_output() -> None:
    with pytest.raises(TestbedStartError, match=r"tags\.txt"):
        TestbedProcess(["--tags-file", "/nonexistent/tags.txt"]).start()


def test_restart_on_same_ports_and_sigterm_exit_0(cp_id: str) -> None:
    proc = TestbedProcess(["-q", "--tag", "RESTART-TAG=Blocked", "--port", "0"]).start()
    try:
        ws_url, api_url = proc.ws_url, proc.api_url
        with open_cp(proc, cp_id) as ws:
            Client(ws).result("BootNotification", BOOT)
        proc.restart()
        assert (proc.ws_url, proc.api_url) == (ws_url, api_url)
        assert proc.api("GET", "/cps") == (200, {"cps": {}})
        with open_cp(proc, cp_id) as ws:
            info = Client(ws).result("Authorize", {"idTag": "RESTART-TAG"})["idTagInfo"]
        assert info["status"] == "Blocked"
    finally:
        assert proc.stop() == 0
    assert any("control API on" in line for line in proc.output)


# --- charge-point-initiated actions --------------------------------------------------


def test_boot_and_heartbeat(csms: TestbedProcess, cp_id: str) -> None:
    with open_cp(csms, cp_id) as ws:
        assert ws.subprotocol == "ocpp1.6"
        client = Client(ws)
        boot = client.result("BootNotification", BOOT)
        assert boot["status"] == "Accepted" and boot["interval"] == 30  # conftest: --heartbeat-interval 30
        assert client.result("Heartbeat", {})["currentTime"].endswith("Z")
        client.result("Heartbeat", {})
        cp = csms.api("GET", "/cps")[1]["cps"][cp_id]
    assert cp["connected"] and cp["booted"] and cp["connections"] == 1
    assert cp["counts"] == {"BootNotification": 1, "Heartbeat": 2}
    assert cp["last_boot"] == BOOT and cp["subprotocol"] == "ocpp1.6" and cp["basic_auth_user"] is None
    wait_for(lambda: not csms.api("GET", "/cps")[1]["cps"][cp_id]["connected"])


def test_boot_status_from_config(csms: TestbedProcess, cp_id: str) -> None:
    status, config = csms.api("PATCH", "/config", {"boot_status": "Pending", "boot_retry_interval": 7})
    assert status == 200 and config["boot_status"] == "Pending"
    assert csms.api("PATCH", "/config", {"boot_status": "Maybe"})[0] == 400
    assert csms.api("PATCH", "/config", {"heartbeat_interval": "5"})[0] == 400
    assert csms.api("PATCH", "/config", {"nope": 1})[0] == 400
    with open_cp(csms, cp_id) as ws:
        client = Client(ws)
        assert client.result("BootNotification", BOOT)["interval"] == 7
        assert client.result("Heartbeat", {})  # lenient: answered before an Accepted boot
        assert csms.api("GET", "/cps")[1]["cps"][cp_id]["booted"] is False
    assert csms.api("GET", "/config")[1]["heartbeat_interval"] == 30


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("VOCPP-VALID", "Accepted"),
        ("vocpp-valid-2", "Accepted"),  # idToken is a case-insensitive CiString
        ("VOCPP-VALID-3", "Accepted"),
        ("VOCPP-BLOCKED", "Blocked"),
        ("VOCPP-EXPIRED", "Expired"),
        ("VOCPP-INVALID", "Invalid"),
        ("VOCPP-CONCURRENT", "ConcurrentTx"),
        ("VOCPP-LOAD-000123", "Accepted"),
        ("NOBODY", "Invalid"),
    ],
)
def test_authorize_tag_statuses(csms: TestbedProcess, cp_id: str, tag: str, expected: str) -> None:
    with open_cp(csms, cp_id) as ws:
        info = Client(ws).result("Authorize", {"idTag": tag})["idTagInfo"]
    assert info["status"] == expected
    if expected == "Expired":
        assert info["expiryDate"] < NOW


def test_transactions(csms: TestbedProcess, cp_id: str) -> None:
    with open_cp(csms, cp_id) as ws:
        client = Client(ws)
        start = {"connectorId": 1, "idTag": "VOCPP-VALID", "meterStart": 100, "timestamp": NOW}
        first = client.result("StartTransaction", start)
        second = client.result("StartTransaction", {**start, "connectorId": 2, "idTag": "VOCPP-BLOCKED"})
        assert isinstance(first["transactionId"], int) and second["transactionId"] == first["transactionId"] + 1
        assert second["idTagInfo"]["status"] == "Blocked"
        stop = {"transactionId": first["transactionId"], "meterStop": 900, "timestamp": NOW}
        assert client.result("StopTransaction", {**stop, "idTag": "VOCPP-VALID", "reason": "Local"}) == {
            "idTagInfo": {"status": "Accepted"}
        }
        assert client.result("StopTransaction", {**stop, "transactionId": 999999}) == {}
    txs = {t["id"]: t for t in csms.api("GET", "/transactions")[1]["transactions"]}
    done = txs[first["transactionId"]]
    assert (done["cp_id"], done["connector_id"], done["meter_start"], done["meter_stop"]) == (cp_id, 1, 100, 900)
    assert done["reason"] == "Local" and done["active"] is False and done["stop"] == NOW
    assert txs[second["transactionId"]]["active"] is True


def test_other_notifications(csms: TestbedProcess, cp_id: str) -> None:
    with open_cp(csms, cp_id) as ws:
        client = Client(ws)
        client.result("StatusNotification", {"connectorId": 0, "errorCode": "NoError", "status": "Available"})
        client.result("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Charging"})
        client.result(
            "MeterValues",
            {
                "connectorId": 1,
                "meterValue": [
                    {
                        "timestamp": NOW,
                        "sampledValue": [{"value": "12.5", "measurand": "Energy.Active.Import.Register"}],
                    }
                ],
            },
        )
        assert client.result("DataTransfer", {"vendorId": "VolatileOCPP", "data": "x"})["status"] == "Accepted"
        assert client.result("DataTransfer", {"vendorId": "Other"})["status"] == "UnknownVendorId"
        client.result("DiagnosticsStatusNotification", {"status": "Uploaded"})
        client.result("FirmwareStatusNotification", {"status": "Installed"})
    statuses = csms.api("GET", "/cps")[1]["cps"][cp_id]["statuses"]
    assert statuses == {"0": "Available", "1": "Charging"}


# --- CALLERRORs -------------------------------------------------------------------------


def test_unknown_and_unsupported_actions(csms: TestbedProcess, cp_id: str) -> None:
    with open_cp(csms, cp_id) as ws:
        client = Client(ws)
        unknown = client.call("MakeCoffee", {})
        assert unknown[0] == 4 and unknown[2] == "NotImplemented" and isinstance(unknown[4], dict)
        assert client.call("Reset", {"type": "Hard"})[2] == "NotSupported"  # a CSMS->CP action


@pytest.mark.parametrize(
    ("action", "payload", "code"),
    [
        ("BootNotification", {"chargePointVendor": "v"}, "OccurenceConstraintViolation"),
        (
            "StartTransaction",
            {"connectorId": "1", "idTag": "A", "meterStart": 0, "timestamp": NOW},
            "TypeConstraintViolation",
        ),
        (
            "StartTransaction",
            {"connectorId": 1, "idTag": "A", "meterStart": 0, "timestamp": "yesterday"},
            "TypeConstraintViolation",
        ),
        ("Authorize", {"idTag": "X" * 21}, "TypeConstraintViolation"),
        (
            "StatusNotification",
            {"connectorId": 1, "errorCode": "NoError", "status": "Sleeping"},
            "PropertyConstraintViolation",
        ),
        ("Heartbeat", {"extra": 1}, "FormationViolation"),
    ],
)
def test_schema_invalid_requests(csms: TestbedProcess, cp_id: str, action: str, payload: Any, code: str) -> None:
    with open_cp(csms, cp_id) as ws:
        frame = Client(ws).call(action, payload)
    assert frame[0] == 4 and frame[2] == code, frame


def test_malformed_frames(csms: TestbedProcess, cp_id: str) -> None:
    with open_cp(csms, cp_id) as ws:
        client = Client(ws)
        client.send("this is not json")
        client.send([2, 17, "Heartbeat", {}])
        client.send('[2,"bad-payload","Heartbeat",[]]')
        frame = client.recv()
        assert frame[:3] == [4, "bad-payload", "FormationViolation"]
        client.result("Heartbeat", {})  # the connection survives
    log = messages(csms, cp_id)
    assert log[0]["type"] is None and log[0]["raw"] == "this is not json" and log[0]["direction"] == "in"


# --- control API ------------------------------------------------------------------------


def test_get_configuration_round_trip(csms: TestbedProcess, cp_id: str) -> None:
    config = {"configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "30"}]}
    with open_cp(csms, cp_id) as ws:
        seen: list[Any] = []
        thread = answer_calls(ws, 1, lambda f: [3, f[1], config], seen)
        status, body = csms.api("POST", f"/cps/{cp_id}/GetConfiguration", {"key": ["HeartbeatInterval"]})
        thread.join(5)
    assert (status, body) == (200, {"result": config})
    assert seen[0][0] == 2 and seen[0][2:] == ["GetConfiguration", {"key": ["HeartbeatInterval"]}]
    log = messages(csms, cp_id)
    assert [(m["direction"], m["type"], m["action"]) for m in log] == [
        ("out", 2, "GetConfiguration"),
        ("in", 3, "GetConfiguration"),
    ]
    assert log[0]["id"] == log[1]["id"] == seen[0][1] and log[1]["payload"] == config
    assert isinstance(log[0]["ts"], float)


def test_call_error_timeout_nowait_and_404(csms: TestbedProcess, cp_id: str) -> None:
    assert csms.api("POST", "/cps/NOBODY/Reset", {"type": "Soft"}) == (404, {"error": "not connected"})
    with open_cp(csms, cp_id) as ws:
        seen: list[Any] = []
        thread = answer_calls(ws, 1, lambda f: [4, f[1], "NotSupported", "no", {"k": 1}], seen)
        status, body = csms.api("POST", f"/cps/{cp_id}/Reset", {"type": "Bogus"})  # not validated
        thread.join(5)
        assert (status, body) == (200, {"error": {"code": "NotSupported", "description": "no", "details": {"k": 1}}})
        assert csms.api("POST", f"/cps/{cp_id}/ClearCache?timeout=0.3") == (504, {"error": "timeout"})
        status, body = csms.api("POST", f"/cps/{cp_id}/ClearCache?wait=0", b"")
        assert status == 202 and body["sent"] is True
        frames = [json.loads(ws.recv(5)), json.loads(ws.recv(5))]
    assert frames[1] == [2, body["id"], "ClearCache", {}]
    assert csms.api("POST", f"/cps/{cp_id}/Reset?timeout=abc")[0] == 400


def test_concurrent_posts_are_serialized(csms: TestbedProcess, cp_id: str) -> None:
    outstanding: list[int] = []

    with open_cp(csms, cp_id) as ws:

        def respond() -> None:
            for _ in range(3):
                frame = json.loads(ws.recv(10))
                outstanding.append(frame[0])
                try:  # a second CALL must not arrive while this one is unanswered
                    outstanding.append(json.loads(ws.recv(0.15))[0])
                except TimeoutError:
                    pass
                ws.send(json.dumps([3, frame[1], {"status": "Accepted"}]))

        responder = threading.Thread(target=respond, daemon=True)
        responder.start()
        results: list[Any] = []
        posts = [
            threading.Thread(target=lambda: results.append(csms.api("POST", f"/cps/{cp_id}/ClearCache")))
            for _ in range(3)
        ]
        for t in posts:
            t.start()
        for t in posts:
            t.join(10)
        responder.join(5)
    assert outstanding == [2, 2, 2]
    assert results == [(200, {"result": {"status": "Accepted"}})] * 3


def test_messages_log_clear_and_unknown(csms: TestbedProcess, cp_id: str) -> None:
    with open_cp(csms, cp_id) as ws:
        Client(ws).result("Heartbeat", {})
    log = messages(csms, cp_id)
    assert [(m["direction"], m["type"], m["action"]) for m in log] == [("in", 2, "Heartbeat"), ("out", 3, "Heartbeat")]
    assert csms.api("DELETE", f"/cps/{cp_id}/messages")[0] == 200
    assert messages(csms, cp_id) == []
    assert csms.api("GET", "/cps/NOBODY/messages")[0] == 404


def test_tags_api(csms: TestbedProcess, cp_id: str) -> None:
    assert csms.api("GET", "/tags")[1]["tags"]["VOCPP-BLOCKED"] == "Blocked"
    assert csms.api("PUT", "/tags/NEW-TAG", {"status": "Blocked"})[0] == 200
    assert csms.api("PUT", "/tags/VOCPP-VALID", {"status": "Expired"})[0] == 200
    assert csms.api("PUT", "/tags/NEW-TAG", {"status": "Maybe"})[0] == 400
    with open_cp(csms, cp_id) as ws:
        client = Client(ws)
        assert client.result("Authorize", {"idTag": "NEW-TAG"})["idTagInfo"]["status"] == "Blocked"
        assert client.result("Authorize", {"idTag": "VOCPP-VALID"})["idTagInfo"]["status"] == "Expired"
    assert csms.api("GET", "/tags")[1]["tags"]["NEW-TAG"] == "Blocked"
    csms.api("POST", "/reset")
    assert "NEW-TAG" not in csms.api("GET", "/tags")[1]["tags"]


def test_api_errors(csms: TestbedProcess) -> None:
    assert csms.api("GET", "/nothing")[0] == 404
    assert csms.api("PUT", "/tags/X", b"{not json")[0] == 400
    assert csms.api("PUT", "/faults", {"name": "explode"})[0] == 400
    assert csms.api("PUT", "/faults", {"name": "close_after"})[0] == 400  # count missing
    assert csms.api("DELETE", "/health")[0] == 405
    status, body = csms.api("GET", "/faults")
    assert status == 200 and body["active"] is None and len(body["available"]) == 35


def test_reset(csms: TestbedProcess, cp_id: str) -> None:
    with open_cp(csms, cp_id) as ws:
        Client(ws).result("StartTransaction", {"connectorId": 1, "idTag": "A", "meterStart": 0, "timestamp": NOW})
        csms.api("PUT", "/faults", {"name": "no_answer"})
        csms.api("PATCH", "/config", {"heartbeat_interval": 5})
        assert csms.api("POST", "/reset") == (200, {"reset": True})
        assert Client(ws).result("BootNotification", BOOT)["interval"] == 30  # fault gone, config restored
        assert csms.api("GET", "/cps")[1]["cps"][cp_id]["connected"] is True
    assert csms.api("GET", "/transactions")[1]["transactions"] == []


# --- connections: disconnect, reconnect, auth, subprotocol, TLS ---------------------------


def test_disconnect_and_reconnect(csms: TestbedProcess, cp_id: str) -> None:
    with open_cp(csms, cp_id) as ws:
        assert csms.api("POST", f"/cps/{cp_id}/disconnect?code=4001") == (200, {"closed": True})
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4001
    assert csms.api("POST", f"/cps/{cp_id}/disconnect")[0] == 404
    with open_cp(csms, cp_id) as first, open_cp(csms, cp_id) as second:
        with pytest.raises(ConnectionClosed):  # the newer connection replaces the older one
            first.recv(5)
        Client(second).result("Heartbeat", {})
        cp = csms.api("GET", "/cps")[1]["cps"][cp_id]
    assert cp["connections"] == 3 and cp["connected"] is True


def test_cp_id_is_last_url_segment_decoded(csms: TestbedProcess) -> None:
    with connect(csms.ws_url + "a/b/CP%20X/", subprotocols=[Subprotocol("ocpp1.6")], open_timeout=5) as ws:
        Client(ws).result("Heartbeat", {})
    assert "CP X" in csms.api("GET", "/cps")[1]["cps"]


@pytest.mark.parametrize("offered", [None, ["ocpp2.0.1"]])
def test_subprotocol_required(csms: TestbedProcess, cp_id: str, offered: list[str] | None) -> None:
    with pytest.raises(InvalidStatus) as refused:
        open_cp(csms, cp_id, subprotocols=offered)
    assert refused.value.response.status_code == 400
    assert b"ocpp1.6" in refused.value.response.body


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_basic_auth(cp_id: str) -> None:
    with TestbedProcess(["-q", "--port", "0", "--basic-auth-password", "s3cret-pw"]) as proc:
        for headers in ({}, basic(cp_id, "wrong"), basic("someone-else", "s3cret-pw")):
            with pytest.raises(InvalidStatus) as refused:
                open_cp(proc, cp_id, additional_headers=headers)
            assert refused.value.response.status_code == 401
        with open_cp(proc, cp_id, additional_headers=basic(cp_id, "s3cret-pw")) as ws:
            Client(ws).result("Heartbeat", {})
        assert proc.api("GET", "/cps")[1]["cps"][cp_id]["basic_auth_user"] == cp_id
    assert not any("s3cret-pw" in line for line in proc.output[1:])  # line 0 is the command line


def test_fault_from_command_line(cp_id: str) -> None:
    args = [
        "-q",
        "--port",
        "0",
        "--fault",
        "override_response",
        "--fault-args",
        '{"action": "Authorize", "payload": {"idTagInfo": {"parentIdTag": "P"}}}',
    ]
    with TestbedProcess(args) as proc:
        assert proc.api("GET", "/faults")[1]["active"]["name"] == "override_response"
        with open_cp(proc, cp_id) as ws:
            info = Client(ws).result("Authorize", {"idTag": "VOCPP-BLOCKED"})["idTagInfo"]
    assert info == {"status": "Blocked", "parentIdTag": "P"}


def _make_certs(directory: Path) -> dict[str, Path]:
    crypto = pytest.importorskip("cryptography")
    del crypto
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)

    def make(name: str, issuer: tuple[Any, Any] | None, ca: bool, server: bool) -> tuple[Any, Any]:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer[0].subject if issuer else subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if server:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
            )
        cert = builder.sign(issuer[1] if issuer else key, hashes.SHA256())
        return cert, key

    ca = make("testbed test CA", None, True, False)
    paths = {}
    for name, (cert, key) in {
        "ca": ca,
        "server": make("127.0.0.1", ca, False, True),
        "client": make("CPTLS", ca, False, False),
    }.items():
        paths[name] = directory / f"{name}.pem"
        paths[name].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        paths[name + "_key"] = directory / f"{name}.key"
        paths[name + "_key"].write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    return paths


def test_tls_with_client_certificate(tmp_path: Path) -> None:
    certs = _make_certs(tmp_path)
    args = [
        "-q",
        "--port",
        "0",
        "--tls-cert",
        str(certs["server"]),
        "--tls-key",
        str(certs["server_key"]),
        "--tls-client-ca",
        str(certs["ca"]),
    ]
    with TestbedProcess(args) as proc:
        assert proc.ws_url.startswith("wss://127.0.0.1:")
        context = ssl.create_default_context(cafile=str(certs["ca"]))
        with pytest.raises((ssl.SSLError, OSError, ConnectionClosed, InvalidHandshake)):
            with open_cp(proc, "CPTLS", ssl=context) as ws:  # no client certificate
                ws.recv(2)
        context.load_cert_chain(str(certs["client"]), str(certs["client_key"]))
        with open_cp(proc, "CPTLS", ssl=context) as ws:
            Client(ws).result("Heartbeat", {})
    assert not any("Traceback" in line for line in proc.output)


# --- fault switches ------------------------------------------------------------------------


def set_fault(csms: TestbedProcess, **fault: Any) -> None:
    status, body = csms.api("PUT", "/faults", fault)
    assert status == 200, body
    assert body["active"]["name"] == fault["name"]


def test_fault_accept_and_reject_all_tags(csms: TestbedProcess, cp_id: str) -> None:
    with open_cp(csms, cp_id) as ws:
        client = Client(ws)
        set_fault(csms, name="accept_all_tags")
        assert client.result("Authorize", {"idTag": "VOCPP-EXPIRED"})["idTagInfo"] == {"status": "Accepted"}
        set_fault(csms, name="reject_all_tags")
        start = client.result(
            "StartTransaction", {"connectorId": 1, "idTag": "VOCPP-VALID", "meterStart": 0, "timestamp": NOW}
        )
        assert start["idTagInfo"]["status"] == "Invalid"


def test_fault_omit_transaction_id(csms: TestbedProcess, cp_id: str) -> None:
    set_fault(csms, name="omit_transaction_id")
    with open_cp(csms, cp_id) as ws:
        frame = Client(ws).call(
            "StartTransaction", {"connectorId": 1, "idTag": "VOCPP-VALID", "meterStart": 0, "timestamp": NOW}
        )
    assert frame[0] == 3 and "transactionId" not in frame[2]
    assert schema_errors("StartTransaction", frame[2])


def test_fault_wrong_error_code(csms: TestbedProcess, cp_id: str) -> None:
    set_fault(csms, name="wrong_error_code")
    with open_cp(csms, cp_id) as ws:
        client = Client(ws)
        assert client.call("MakeCoffee", {})[2] == "GenericError"
        assert client.call("Heartbeat", {"extra": 1})[2] == "GenericError"


def test_fault_close_after(csms: TestbedProcess, cp_id: str) -> None:
    set_fault(csms, name="close_after", count=2)
    with open_cp(csms, cp_id) as ws:
        client = Client(ws)
        client.result("Heartbeat", {})
        with pytest.raises(ConnectionClosed) as closed:
            client.call("Heartbeat", {})
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1011
    assert csms.api("GET", "/cps")[1]["cps"][cp_id]["counts"]["Heartbeat"] == 2


def test_fault_late_answer(csms: TestbedProcess, cp_id: str) -> None:
    set_fault(csms, name="late_answer", seconds=1.5, action="Heartbeat")
    with open_cp(csms, cp_id) as ws:
        client = Client(ws)
        began = time.monotonic()
        client.result("Authorize", {"idTag": "VOCPP-VALID"})
        assert time.monotonic() - began < 1.2
        began = time.monotonic()
        client.result("Heartbeat", {})
        assert time.monotonic() - began >= 1.5


def test_fault_malformed_frame(csms: TestbedProcess, cp_id: str) -> None:
    set_fault(csms, name="malformed_frame")
    with open_cp(csms, cp_id) as ws:
        client = Client(ws)
        client.send([2, "m1", "Heartbeat", {}])
        raw = ws.recv(5)
    with pytest.raises(ValueError):
        json.loads(raw)
    assert "m1" in raw


def test_fault_wrong_message_id(csms: TestbedProcess, cp_id: str) -> None:
    set_fault(csms, name="wrong_message_id", action="Heartbeat")
    with open_cp(csms, cp_id) as ws:
        client = Client(ws)
        client.send([2, "w1", "Heartbeat", {}])
        frame = client.recv()
    assert frame[0] == 3 and frame[1] != "w1" and "currentTime" in frame[2]


def test_fault_no_answer(csms: TestbedProcess, cp_id: str) -> None:
    set_fault(csms, name="no_answer", action="Heartbeat")
    with open_cp(csms, cp_id) as ws:
        client = Client(ws)
        with pytest.raises(TimeoutError):
            client.call("Heartbeat", {}, timeout=0.4)
        client.result("Authorize", {"idTag": "VOCPP-VALID"})


def test_fault_refuse_subprotocol(csms: TestbedProcess, cp_id: str) -> None:
    set_fault(csms, name="refuse_subprotocol")
    with open_cp(csms, cp_id) as ws:
        assert ws.subprotocol is None
    assert csms.api("GET", "/cps")[1]["cps"][cp_id]["subprotocol"] is None


def test_fault_override_response(csms: TestbedProcess, cp_id: str) -> None:
    set_fault(csms, name="override_response", action="BootNotification", payload={"status": "Rejected"})
    with open_cp(csms, cp_id) as ws:
        client = Client(ws)
        boot = client.result("BootNotification", BOOT)
        assert boot["status"] == "Rejected" and boot["interval"] == 30
        set_fault(csms, name="override_response", action="Heartbeat", payload={"currentTime": NOW}, merge=False)
        assert client.result("Heartbeat", {}) == {"currentTime": NOW}
    assert csms.api("GET", "/cps")[1]["cps"][cp_id]["booted"] is False


def test_fault_callerror(csms: TestbedProcess, cp_id: str) -> None:
    set_fault(csms, name="callerror", action="Heartbeat", code="InternalError", description="boom")
    with open_cp(csms, cp_id) as ws:
        client = Client(ws)
        assert client.call("Heartbeat", {})[2:4] == ["InternalError", "boom"]
        assert client.call("Authorize", {"idTag": "VOCPP-VALID"})[0] == 3


@pytest.mark.parametrize("action", ["Heartbeat", "BootNotification", "StartTransaction", "StatusNotification"])
def test_fault_schema_invalid_response(csms: TestbedProcess, cp_id: str, action: str) -> None:
    payloads: dict[str, dict[str, Any]] = {
        "Heartbeat": {},
        "BootNotification": BOOT,
        "StartTransaction": {"connectorId": 1, "idTag": "VOCPP-VALID", "meterStart": 0, "timestamp": NOW},
        "StatusNotification": {"connectorId": 1, "errorCode": "NoError", "status": "Available"},
    }
    set_fault(csms, name="schema_invalid_response")
    with open_cp(csms, cp_id) as ws:
        frame = Client(ws).call(action, payloads[action])
    assert frame[0] == 3 and schema_errors(action, frame[2])


def test_fault_ignore_trigger(csms: TestbedProcess, cp_id: str) -> None:
    set_fault(csms, name="ignore_trigger")
    with open_cp(csms, cp_id) as ws:
        assert csms.api("POST", f"/cps/{cp_id}/TriggerMessage", {"requestedMessage": "Heartbeat"}) == (
            200,
            {"result": None, "ignored": True},
        )
        with pytest.raises(TimeoutError):
            ws.recv(0.3)


def test_fault_send_malformed_call(csms: TestbedProcess, cp_id: str) -> None:
    set_fault(csms, name="send_malformed_call")
    with open_cp(csms, cp_id) as ws:
        assert csms.api("POST", f"/cps/{cp_id}/Reset", {"type": "Soft"}) == (200, {"sent_garbage": True})
        raw = ws.recv(5)
    with pytest.raises(ValueError):
        json.loads(raw)


def test_fault_drop_on_boot(csms: TestbedProcess, cp_id: str) -> None:
    set_fault(csms, name="drop_on_boot")
    with open_cp(csms, cp_id) as ws:
        client = Client(ws)
        client.result("Heartbeat", {})
        with pytest.raises(ConnectionClosed):
            client.call("BootNotification", BOOT)
    assert [m["direction"] for m in messages(csms, cp_id)][-1] == "in"


def test_fault_unsolicited_result(csms: TestbedProcess, cp_id: str) -> None:
    set_fault(csms, name="unsolicited_result")
    with open_cp(csms, cp_id) as ws:
        client = Client(ws)
        client.send([2, "u1", "Heartbeat", {}])
        first, second = client.recv(), client.recv()
    assert first[:2] == [3, "u1"] and second[0] == 3 and second[1] != "u1"
