"""The OCPP 1.6 security extension (whitepaper "Improved security for OCPP 1.6-J", edition 2), charge
point side, driven by the real testbed over ws:// (the TLS parts are in test_security_profiles.py):
each message is sent through the control API (``POST /cps/{id}/{Action}``) and both the charger's
answer and what the testbed received afterwards are asserted; each check has a run against a
testbed fault (or a bad payload) that makes it fail."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import gevent
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ocpp_users.embedded import TestbedProcess
from ocpp_users.ocppj.errors import OcppCallError
from ocpp_users.ocppj.sink import CP_TO_CSMS, Recorder
from ocpp_users.ocppj.transport import SecurityConfig
from ocpp_users.v16.link import mask_secrets
from ocpp_users.v16.security_events import SecurityEvent
from ocpp_users.v16.settings import Behaviour
from ocpp_users.v16.station import Station
from tests.securitypki import Pki, make_security_pki, sign_firmware
from tests.test_handlers import iso, make_settings, payloads, received, result_of, wait_until

CPO = "VolatileOCPP CPO"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_security_pki(Path(tmp_path_factory.mktemp("security-pki")))


@pytest.fixture(scope="module")
def ca_testbed(pki: Pki) -> Iterator[TestbedProcess]:
    """A testbed that is also a Certificate Authority (OCTT TC_074: "the tool shall take on the
    role of both Central System and Certificate Authority Server")."""
    proc = TestbedProcess(
        ["--port", "0", "-q", "--heartbeat-interval", "30", "--ca-cert", pki.ca, "--ca-key", pki.ca_key]
    )
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def tb(ca_testbed: TestbedProcess) -> TestbedProcess:
    status, body = ca_testbed.api("POST", "/reset")
    assert status == 200, body
    return ca_testbed


@pytest.fixture
def make_cp(tb: TestbedProcess, cp_id: str, pki: Pki) -> Iterator[Callable[..., Station]]:
    """A booted charger whose factory CentralSystemRootCertificate is the CPO root (``--ca-file``),
    the testbed's message log cleared."""
    made: list[Station] = []

    def make(clear: bool = True, **overrides: Any) -> Station:
        overrides.setdefault("security", SecurityConfig(ca_file=pki.ca))
        cp = Station(make_settings(tb, cp_id, **overrides), sink=Recorder())
        made.append(cp)
        cp.connect()
        assert cp.boot_until_accepted()["status"] == "Accepted"
        if clear:
            gevent.sleep(0.1)
            assert tb.api("DELETE", f"/cps/{cp_id}/messages")[0] == 200
        return cp

    yield make
    for cp in made:
        cp.stop(stop_transactions=False)


def record(tb: TestbedProcess, cp_id: str) -> dict[str, Any]:
    status, body = tb.api("GET", f"/cps/{cp_id}")
    assert status == 200, body
    return body


def events(tb: TestbedProcess, cp_id: str) -> list[str]:
    return [event["type"] for event in record(tb, cp_id)["security_events"]]


def wait_event(tb: TestbedProcess, cp_id: str, kind: str, timeout: float = 5.0) -> dict[str, Any]:
    found = wait_until(
        lambda: [e for e in record(tb, cp_id)["security_events"] if e["type"] == kind], timeout, f"event {kind}"
    )
    return found[0]


def failures(cp: Station, action: str) -> list[str]:
    sink = cp.sink
    assert isinstance(sink, Recorder)
    return [type(e.exception).__name__ for e in sink.select(CP_TO_CSMS, action) if e.exception is not None]


def hash_data(tb: TestbedProcess, certificate: str, issuer: str | None = None, algorithm: str = "SHA256") -> dict:
    """CertificateHashData as the testbed (the CSMS) computes it, independently of the charger."""
    body: dict[str, Any] = {"certificate": certificate, "hashAlgorithm": algorithm}
    if issuer is not None:
        body["issuer"] = issuer
    status, data = tb.api("POST", "/certificates/hash-data", body)
    assert status == 200, data
    return data


def ca_pem(pki: Pki) -> str:
    return Path(pki.ca).read_text()


def installed(tb: TestbedProcess, cp_id: str, kind: str) -> dict:
    return result_of(tb, cp_id, "GetInstalledCertificateIds", {"certificateType": kind})


def set_fault(tb: TestbedProcess, **fault: Any) -> None:
    status, body = tb.api("PUT", "/faults", fault)
    assert status == 200, body


# ---------------------------------------------------------------- configuration keys


def test_security_keys_are_reported_and_the_authorization_key_never(
    tb: TestbedProcess, make_cp: Callable[..., Station]
) -> None:
    cp = make_cp(security=SecurityConfig(profile=1, password="a-password-of-16+"))
    keys = {k["key"]: k for k in result_of(tb, cp.cp_id, "GetConfiguration", {})["configurationKey"]}
    assert keys["SecurityProfile"] == {"key": "SecurityProfile", "readonly": False, "value": "1"}
    assert (
        keys["CertificateSignedMaxChainSize"]["value"] == "10000" and keys["CertificateSignedMaxChainSize"]["readonly"]
    )
    assert keys["CertificateStoreMaxLength"]["readonly"] and keys["AdditionalRootCertificateCheck"]["value"] == "false"
    # Whitepaper §7.2: AuthorizationKey is write-only: listed, never with a value.
    assert keys["AuthorizationKey"] == {"key": "AuthorizationKey", "readonly": False}
    asked = result_of(tb, cp.cp_id, "GetConfiguration", {"key": ["AuthorizationKey"]})
    assert asked == {"configurationKey": [{"key": "AuthorizationKey", "readonly": False}]}


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("4F43415F4F4354545F61646D696E5F74657374", "Accepted"),  # OCTT TC_073: "OCA_OCTT_admin_test" in hex
        ("00112233445566778899aabbccddeeff00112233", "Accepted"),  # 20 bytes
        ("4F43415F", "Rejected"),  # 4 bytes: A00.FR.205 wants at least 16
        ("OCA_OCTT_admin_test_plain_text", "Rejected"),  # not hexadecimal
        ("00112233445566778899aabbccddeeff0011223344", "Rejected"),  # 21 bytes: more than 20
    ],
)
def test_authorization_key_values(tb: TestbedProcess, make_cp: Callable[..., Station], value: str, status: str) -> None:
    cp = make_cp()  # profile 0: the key is stored for a later upgrade, no reconnect
    assert result_of(tb, cp.cp_id, "ChangeConfiguration", {"key": "AuthorizationKey", "value": value}) == {
        "status": status
    }
    gevent.sleep(0.3)
    assert record(tb, cp.cp_id)["connections"] == 1
    expected = bytes.fromhex(value) if status == "Accepted" else None
    assert cp.link.security.password == expected


def test_wire_log_masks_the_authorization_key(tb: TestbedProcess, cp_id: str, pki: Pki) -> None:
    frames: list[str] = []
    cp = Station(make_settings(tb, cp_id), sink=Recorder(), wire_log=lambda d, raw: frames.append(str(raw)))
    try:
        cp.connect()
        cp.boot()
        key = "4F43415F4F4354545F61646D696E5F74657374"
        assert (
            result_of(tb, cp_id, "ChangeConfiguration", {"key": "AuthorizationKey", "value": key})["status"]
            == "Accepted"
        )
        wait_until(lambda: any("AuthorizationKey" in f for f in frames), 3, "the frame in the wire log")
        assert not any(key in f or key.lower() in f for f in frames)
        assert any('"value":"***"' in f for f in frames)
    finally:
        cp.stop(stop_transactions=False)
    assert mask_secrets('{"value":"x","key":"authorizationKEY"}') == '{"value":"***","key":"authorizationKEY"}'


# ---------------------------------------------------------------- security events (A04)


def test_invalid_central_system_root_is_rejected_then_notified(
    tb: TestbedProcess, make_cp: Callable[..., Station], pki: Pki
) -> None:
    """OCTT TC_078_CS: InstallCertificate.conf Rejected, then SecurityEventNotification
    InvalidCentralSystemCertificate."""
    cp = make_cp()
    answer = result_of(
        tb,
        cp.cp_id,
        "InstallCertificate",
        {"certificateType": "CentralSystemRootCertificate", "certificate": pki.expired_root},
    )
    assert answer == {"status": "Rejected"}
    event = wait_event(tb, cp.cp_id, "InvalidCentralSystemCertificate")
    assert "expired" in event["techInfo"]
    order = [(m["type"], m["action"]) for m in tb.api("GET", f"/cps/{cp.cp_id}/messages")[1]["messages"]]
    assert order.index((3, "InstallCertificate")) < order.index((2, "SecurityEventNotification")), order


def test_security_event_answered_with_a_callerror_is_a_counted_failure(
    tb: TestbedProcess, make_cp: Callable[..., Station], pki: Pki
) -> None:
    cp = make_cp()
    set_fault(tb, name="callerror", action="SecurityEventNotification", code="InternalError")
    result_of(
        tb,
        cp.cp_id,
        "InstallCertificate",
        {"certificateType": "CentralSystemRootCertificate", "certificate": "garbage"},
    )
    wait_until(lambda: failures(cp, "SecurityEventNotification"), 5, "the failed notification")
    assert failures(cp, "SecurityEventNotification") == ["InternalError"]
    assert cp.security_events.queued == 0, "answered (with an error): delivered, not sent again"


def test_life_cycle_events_only_when_asked_for(tb: TestbedProcess, make_cp: Callable[..., Station]) -> None:
    quiet = make_cp(clear=False)
    gevent.sleep(0.3)
    assert events(tb, quiet.cp_id) == [], "a CSMS without the extension gets none by default"
    assert [e.type for e in quiet.state.security_log.entries] == ["StartupOfTheDevice"], "but the log has it"


def test_startup_and_reset_events(tb: TestbedProcess, make_cp: Callable[..., Station]) -> None:
    cp = make_cp(clear=False, security_events=True)
    wait_event(tb, cp.cp_id, "StartupOfTheDevice")
    assert result_of(tb, cp.cp_id, "Reset", {"type": "Soft"}) == {"status": "Accepted"}
    wait_event(tb, cp.cp_id, "ResetOrReboot")
    wait_until(lambda: events(tb, cp.cp_id).count("StartupOfTheDevice") == 2, 5, "a second StartupOfTheDevice")
    actions = [a for a, _ in received(tb, cp.cp_id) if a in ("BootNotification", "SecurityEventNotification")]
    # ResetOrReboot is told after the reboot's BootNotification (the queue waits for Accepted).
    reboot = actions.index("BootNotification", 1)
    assert actions[reboot:] == ["BootNotification", "SecurityEventNotification", "SecurityEventNotification"], actions


def test_events_raised_offline_are_delivered_after_the_reconnect(
    tb: TestbedProcess, make_cp: Callable[..., Station]
) -> None:
    """A04.FR.02: "queued with a guaranteed delivery at the Central System"."""
    cp = make_cp(backoff_initial=0.5)
    cp.drop()
    assert not cp.connected
    cp.security_events.raise_event(SecurityEvent.tamper_detection_activated, "test", notify=True)
    assert cp.security_events.queued == 1
    event = wait_event(tb, cp.cp_id, "TamperDetectionActivated", timeout=8)
    assert event["techInfo"] == "test"
    assert cp.security_events.queued == 0


# ---------------------------------------------------------------- SignCertificate / CertificateSigned (A02)


def trigger_sign(tb: TestbedProcess, cp: Station) -> dict:
    return result_of(tb, cp.cp_id, "ExtendedTriggerMessage", {"requestedMessage": "SignChargePointCertificate"})


def test_sign_certificate_needs_a_cpo_name(tb: TestbedProcess, make_cp: Callable[..., Station]) -> None:
    cp = make_cp()
    assert trigger_sign(tb, cp) == {"status": "Rejected"}  # A02 prerequisite: CpoName MUST be set
    gevent.sleep(0.3)
    assert payloads(tb, cp.cp_id, "SignCertificate") == []


def test_certificate_update_by_request_of_the_csms(tb: TestbedProcess, make_cp: Callable[..., Station]) -> None:
    """OCTT TC_074_CS over ws://: ExtendedTriggerMessage, SignCertificate (a CSR: CN the serial
    number, O the CpoName, an EC P-256 key), CertificateSigned Accepted."""
    cp = make_cp(serial_number="SN-0042")
    assert result_of(tb, cp.cp_id, "ChangeConfiguration", {"key": "CpoName", "value": CPO}) == {"status": "Accepted"}
    assert trigger_sign(tb, cp) == {"status": "Accepted"}
    [request] = wait_until(lambda: payloads(tb, cp.cp_id, "SignCertificate"), 5, "SignCertificate")
    csr = x509.load_pem_x509_csr(request["csr"].encode())
    assert csr.is_signature_valid
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "SN-0042"
    assert csr.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == CPO
    key = csr.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey) and key.curve.key_size >= 224
    [signed] = wait_until(
        lambda: [c for c in record(tb, cp.cp_id)["certificates_signed"] if "status" in c], 5, "CertificateSigned.conf"
    )
    assert signed["status"] == "Accepted", signed
    assert events(tb, cp.cp_id) == []
    own = cp.state.own_certificate.current
    assert (
        own is not None
        and own.chain[0].serial_number
        == x509.load_pem_x509_certificate(signed["certificateChain"].encode()).serial_number
    )
    gevent.sleep(0.3)
    assert record(tb, cp.cp_id)["connections"] == 1, "profile 0: no reconnect (the certificate waits for profile 3)"


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("wrong_key", "not the key of our certificate signing request"),
        ("expired", "expired"),
        ("untrusted", "not signed by an installed root"),
        ("wrong_cn", "CN"),
        ("not_pem", "not a PEM"),
        ("too_long", "CertificateSignedMaxChainSize"),
    ],
)
def test_bad_signed_certificate_is_rejected_and_notified(
    tb: TestbedProcess, make_cp: Callable[..., Station], kind: str, reason: str
) -> None:
    """OCTT TC_077_CS: CertificateSigned.conf Rejected, then InvalidChargePointCertificate (A02.FR.07)."""
    cp = make_cp(configuration={"CpoName": CPO, "CertificateSignedMaxChainSize": "1500"})
    set_fault(tb, name="bad_certificate", kind=kind)
    assert trigger_sign(tb, cp) == {"status": "Accepted"}
    [signed] = wait_until(
        lambda: [c for c in record(tb, cp.cp_id)["certificates_signed"] if "status" in c], 5, "CertificateSigned.conf"
    )
    assert signed["status"] == "Rejected", signed
    event = wait_event(tb, cp.cp_id, "InvalidChargePointCertificate")
    assert reason in event["techInfo"], event
    assert cp.state.own_certificate.current is None


def test_a_second_certificate_for_the_same_csr_after_a_bad_one(
    tb: TestbedProcess, make_cp: Callable[..., Station]
) -> None:
    cp = make_cp(configuration={"CpoName": CPO})
    tb.api("PATCH", "/config", {"auto_sign": False})
    assert trigger_sign(tb, cp) == {"status": "Accepted"}
    wait_until(lambda: record(tb, cp.cp_id)["csr"], 5, "the CSR")
    status, bad = tb.api("POST", f"/cps/{cp.cp_id}/ca/sign", {"kind": "expired"})
    assert (status, bad) == (200, {"result": {"status": "Rejected"}})
    status, good = tb.api("POST", f"/cps/{cp.cp_id}/ca/sign", {})
    assert (status, good) == (200, {"result": {"status": "Accepted"}})


def test_sign_certificate_rejected_by_the_csms_is_a_counted_failure(csms: TestbedProcess, cp_id: str) -> None:
    """The shared testbed has no CA: A02.FR.12, SignCertificate.conf Rejected."""
    cp = Station(make_settings(csms, cp_id, configuration={"CpoName": CPO}), sink=Recorder())
    try:
        cp.connect()
        cp.boot()
        assert result_of(csms, cp_id, "ExtendedTriggerMessage", {"requestedMessage": "SignChargePointCertificate"}) == {
            "status": "Accepted"
        }
        wait_until(lambda: failures(cp, "SignCertificate"), 5, "the rejected SignCertificate")
        assert failures(cp, "SignCertificate") == ["RejectedError"]
        assert cp.state.own_certificate.pending_key is None, "no certificate will come for that key"
    finally:
        cp.stop(stop_transactions=False)


# ---------------------------------------------------------------- installed certificates (M03-M05)


def test_install_list_and_delete_a_manufacturer_root(
    tb: TestbedProcess, make_cp: Callable[..., Station], pki: Pki
) -> None:
    """OCTT TC_075_1 and TC_076: the hash data is checked against the testbed's own calculation."""
    cp = make_cp()
    kind = "ManufacturerRootCertificate"
    assert installed(tb, cp.cp_id, kind) == {"status": "NotFound"}
    assert result_of(
        tb, cp.cp_id, "InstallCertificate", {"certificateType": kind, "certificate": pki.manufacturer_root}
    ) == {"status": "Accepted"}
    expected = hash_data(tb, pki.manufacturer_root)
    assert installed(tb, cp.cp_id, kind) == {"status": "Accepted", "certificateHashData": [expected]}
    # M04.FR.07: the CSMS may name it with another algorithm too.
    sha384 = hash_data(tb, pki.manufacturer_root, algorithm="SHA384")
    assert result_of(tb, cp.cp_id, "DeleteCertificate", {"certificateHashData": sha384}) == {"status": "Accepted"}
    assert installed(tb, cp.cp_id, kind) == {"status": "NotFound"}
    assert result_of(tb, cp.cp_id, "DeleteCertificate", {"certificateHashData": expected}) == {"status": "NotFound"}


def test_central_system_roots_start_with_the_ca_file(
    tb: TestbedProcess, make_cp: Callable[..., Station], pki: Pki
) -> None:
    """OCTT TC_075_2: the factory root (``--ca-file``) is listed; a second one is added beside it."""
    cp = make_cp()
    kind = "CentralSystemRootCertificate"
    factory = hash_data(tb, ca_pem(pki))
    assert installed(tb, cp.cp_id, kind) == {"status": "Accepted", "certificateHashData": [factory]}
    assert result_of(tb, cp.cp_id, "InstallCertificate", {"certificateType": kind, "certificate": pki.other_root}) == {
        "status": "Accepted"
    }
    assert installed(tb, cp.cp_id, kind)["certificateHashData"] == [factory, hash_data(tb, pki.other_root)]
    # The hash data names the certificate whatever the case of the hexadecimal and leading zeroes.
    shouting = {
        **factory,
        "issuerKeyHash": factory["issuerKeyHash"].upper(),
        "serialNumber": factory["serialNumber"].upper().rjust(40, "0"),
    }
    assert result_of(tb, cp.cp_id, "DeleteCertificate", {"certificateHashData": shouting}) == {"status": "Accepted"}
    assert installed(tb, cp.cp_id, kind)["certificateHashData"] == [hash_data(tb, pki.other_root)]


@pytest.mark.parametrize(
    ("certificate", "kind"),
    [
        ("garbage", "CentralSystemRootCertificate"),
        ("expired_root", "ManufacturerRootCertificate"),
        ("not_ca", "CentralSystemRootCertificate"),
    ],
)
def test_invalid_certificates_are_rejected(
    tb: TestbedProcess, make_cp: Callable[..., Station], pki: Pki, certificate: str, kind: str
) -> None:
    """M05.FR.06. The bad certificate is put in by the testbed's override_call fault."""
    cp = make_cp()
    bad = getattr(pki, certificate, certificate)
    set_fault(tb, name="override_call", action="InstallCertificate", payload={"certificate": bad})
    answer = result_of(tb, cp.cp_id, "InstallCertificate", {"certificateType": kind, "certificate": pki.other_root})
    assert answer == {"status": "Rejected"}
    if kind == "CentralSystemRootCertificate":
        wait_event(tb, cp.cp_id, "InvalidCentralSystemCertificate")
    else:
        gevent.sleep(0.3)
        assert events(tb, cp.cp_id) == []
    tb.api("DELETE", "/faults")
    assert installed(tb, cp.cp_id, "ManufacturerRootCertificate") == {"status": "NotFound"}


def test_certificate_store_max_length(tb: TestbedProcess, make_cp: Callable[..., Station], pki: Pki) -> None:
    """M05.FR.03: Rejected when CertificateStoreMaxLength certificates are installed."""
    cp = make_cp(configuration={"CertificateStoreMaxLength": "2"})  # the factory root is one
    install = {"certificateType": "ManufacturerRootCertificate"}
    assert (
        result_of(tb, cp.cp_id, "InstallCertificate", {**install, "certificate": pki.manufacturer_root})["status"]
        == "Accepted"
    )
    assert (
        result_of(tb, cp.cp_id, "InstallCertificate", {**install, "certificate": pki.other_root})["status"]
        == "Rejected"
    )


def test_additional_root_certificate_check(tb: TestbedProcess, make_cp: Callable[..., Station], pki: Pki) -> None:
    """M05.FR.08-11: one CentralSystemRootCertificate (plus a fallback); a new one must be signed by it."""
    cp = make_cp(configuration={"AdditionalRootCertificateCheck": "true"})
    kind = "CentralSystemRootCertificate"
    assert result_of(tb, cp.cp_id, "InstallCertificate", {"certificateType": kind, "certificate": pki.other_root}) == {
        "status": "Rejected"
    }
    assert result_of(
        tb, cp.cp_id, "InstallCertificate", {"certificateType": kind, "certificate": pki.successor_root}
    ) == {"status": "Accepted"}
    listed = installed(tb, cp.cp_id, kind)["certificateHashData"]
    assert listed == [hash_data(tb, ca_pem(pki)), hash_data(tb, pki.successor_root, ca_pem(pki))], (
        "the old one as fallback"
    )


def test_the_charge_point_certificate_cannot_be_deleted(
    tb: TestbedProcess, make_cp: Callable[..., Station], pki: Pki
) -> None:
    """M04.FR.05."""
    cp = make_cp(security=SecurityConfig(ca_file=pki.ca, client_cert=pki.client_cert, client_key=pki.client_key))
    own = hash_data(tb, Path(pki.client_cert).read_text(), ca_pem(pki))
    assert result_of(tb, cp.cp_id, "DeleteCertificate", {"certificateHashData": own}) == {"status": "Failed"}


# ---------------------------------------------------------------- ExtendedTriggerMessage


@pytest.mark.parametrize(
    ("requested", "action", "expected"),
    [
        ("BootNotification", "BootNotification", {"chargePointModel": "VirtualCP"}),
        ("Heartbeat", "Heartbeat", {}),
        ("StatusNotification", "StatusNotification", {"connectorId": 1, "status": "Available"}),
        ("MeterValues", "MeterValues", {"connectorId": 1}),
        ("FirmwareStatusNotification", "SignedFirmwareStatusNotification", {"status": "Idle"}),
        ("LogStatusNotification", "LogStatusNotification", {"status": "Idle"}),
    ],
)
def test_extended_trigger_message(
    tb: TestbedProcess, make_cp: Callable[..., Station], requested: str, action: str, expected: dict
) -> None:
    cp = make_cp()
    payload: dict[str, Any] = {"requestedMessage": requested}
    if requested in ("StatusNotification", "MeterValues"):
        payload["connectorId"] = 1
    assert result_of(tb, cp.cp_id, "ExtendedTriggerMessage", payload) == {"status": "Accepted"}
    [message] = wait_until(lambda: payloads(tb, cp.cp_id, action), 5, action)
    assert {key: message[key] for key in expected} == expected
    if action in ("SignedFirmwareStatusNotification", "LogStatusNotification"):
        assert "requestId" not in message  # L01.FR.21, N01.FR.12: none when Idle


@pytest.mark.parametrize("connector_id", [0, 9])
def test_extended_trigger_message_for_a_missing_connector(
    tb: TestbedProcess, make_cp: Callable[..., Station], connector_id: int
) -> None:
    cp = make_cp()
    body = {"requestedMessage": "StatusNotification", "connectorId": connector_id}
    assert result_of(tb, cp.cp_id, "ExtendedTriggerMessage", body) == {"status": "Rejected"}


def test_triggered_notification_answered_with_a_callerror(tb: TestbedProcess, make_cp: Callable[..., Station]) -> None:
    cp = make_cp()
    set_fault(tb, name="callerror", action="SignedFirmwareStatusNotification", code="NotSupported")
    result_of(tb, cp.cp_id, "ExtendedTriggerMessage", {"requestedMessage": "FirmwareStatusNotification"})
    wait_until(lambda: failures(cp, "SignedFirmwareStatusNotification"), 5, "the failure")
    assert failures(cp, "SignedFirmwareStatusNotification") == ["NotSupportedError"]


# ---------------------------------------------------------------- GetLog (N01)


def get_log(tb: TestbedProcess, cp: Station, request_id: int, **extra: Any) -> dict:
    body = {
        "logType": "SecurityLog",
        "requestId": request_id,
        "log": {"remoteLocation": "ftp://logs.example/up"},
        **extra,
    }
    return result_of(tb, cp.cp_id, "GetLog", body)


def test_get_security_log(tb: TestbedProcess, make_cp: Callable[..., Station]) -> None:
    """OCTT TC_079_CS: GetLog.conf Accepted, LogStatusNotification Uploading then Uploaded."""
    cp = make_cp(time_factor=5.0)
    answer = get_log(tb, cp, 7)
    assert answer == {"status": "Accepted", "filename": f"SecurityLog-{cp.cp_id}-7.log"}
    wait_until(lambda: len(record(tb, cp.cp_id)["log_statuses"]) == 2, 5, "two LogStatusNotifications")
    assert record(tb, cp.cp_id)["log_statuses"] == [
        {"status": "Uploading", "requestId": 7},
        {"status": "Uploaded", "requestId": 7},
    ]


def test_get_log_upload_failure(tb: TestbedProcess, make_cp: Callable[..., Station]) -> None:
    cp = make_cp(time_factor=5.0, behaviour=Behaviour(log_outcome="PermissionDenied"))
    assert get_log(tb, cp, 8)["status"] == "Accepted"
    wait_until(lambda: len(record(tb, cp.cp_id)["log_statuses"]) == 2, 5, "two LogStatusNotifications")
    assert record(tb, cp.cp_id)["log_statuses"][-1] == {"status": "PermissionDenied", "requestId": 8}


def test_a_new_get_log_cancels_the_upload(tb: TestbedProcess, make_cp: Callable[..., Station]) -> None:
    """N01.FR.11 (AcceptedCanceled) and N01.FR.12 (a triggered status of the upload carries its requestId)."""
    cp = make_cp(time_factor=1.0)
    assert get_log(tb, cp, 1)["status"] == "Accepted"
    wait_until(lambda: record(tb, cp.cp_id)["log_statuses"], 3, "Uploading")
    result_of(tb, cp.cp_id, "ExtendedTriggerMessage", {"requestedMessage": "LogStatusNotification"})
    wait_until(lambda: len(record(tb, cp.cp_id)["log_statuses"]) == 2, 3, "the triggered status")
    assert get_log(tb, cp, 2)["status"] == "AcceptedCanceled"
    wait_until(lambda: {"status": "Uploaded", "requestId": 2} in record(tb, cp.cp_id)["log_statuses"], 5, "upload 2")
    statuses = record(tb, cp.cp_id)["log_statuses"]
    assert statuses[:2] == [{"status": "Uploading", "requestId": 1}, {"status": "Uploading", "requestId": 1}]
    assert {"status": "Uploaded", "requestId": 1} not in statuses


def test_log_status_answered_with_a_callerror(tb: TestbedProcess, make_cp: Callable[..., Station]) -> None:
    cp = make_cp(time_factor=5.0)
    set_fault(tb, name="schema_invalid_response", action="LogStatusNotification")
    get_log(tb, cp, 3)
    wait_until(lambda: len(failures(cp, "LogStatusNotification")) == 2, 5, "two failures")
    assert failures(cp, "LogStatusNotification") == ["SchemaViolation", "SchemaViolation"]


def test_security_log_holds_the_events_and_no_secret(
    tb: TestbedProcess, make_cp: Callable[..., Station], pki: Pki
) -> None:
    cp = make_cp()
    key = "00112233445566778899aabbccddeeff"
    result_of(tb, cp.cp_id, "ChangeConfiguration", {"key": "AuthorizationKey", "value": key})
    result_of(
        tb, cp.cp_id, "InstallCertificate", {"certificateType": "CentralSystemRootCertificate", "certificate": "junk"}
    )
    text = cp.state.security_log.render(list(cp.state.security_log.entries))
    assert "ReconfigurationOfSecurityParameters AuthorizationKey changed" in text
    assert "InvalidCentralSystemCertificate" in text
    assert key not in text and key.upper() not in text  # A01.FR.12
    later = iso(datetime.now(UTC) + timedelta(hours=1))
    assert cp.state.security_log.between(oldest=later) == []


# ---------------------------------------------------------------- SignedUpdateFirmware (L01)


def signed_update(
    pki: Pki,
    location: str,
    *,
    cert: str | None = None,
    key: Any = None,
    signature: str | None = None,
    request_id: int = 42,
) -> dict:
    return {
        "requestId": request_id,
        "firmware": {
            "location": location,
            "retrieveDateTime": iso(datetime.now(UTC) - timedelta(seconds=1)),
            "signingCertificate": cert or pki.signing_cert,
            "signature": signature if signature is not None else sign_firmware(key or pki.signing_key, location),
        },
    }


def firmware_statuses(tb: TestbedProcess, cp_id: str) -> list[str]:
    return [s["status"] for s in record(tb, cp_id)["signed_firmware_statuses"]]


def with_manufacturer_root(tb: TestbedProcess, make_cp: Callable[..., Station], pki: Pki, **overrides: Any) -> Station:
    cp = make_cp(time_factor=10.0, **overrides)
    body = {"certificateType": "ManufacturerRootCertificate", "certificate": pki.manufacturer_root}
    assert result_of(tb, cp.cp_id, "InstallCertificate", body) == {"status": "Accepted"}
    cp.report_all_statuses()
    tb.api("DELETE", f"/cps/{cp.cp_id}/messages")
    return cp


@pytest.mark.parametrize("signer", ["ec", "rsa"])
def test_secure_firmware_update(tb: TestbedProcess, make_cp: Callable[..., Station], pki: Pki, signer: str) -> None:
    """OCTT TC_080_CS/CSMS: Downloading, Downloaded, SignatureVerified, connectors Unavailable,
    Installing, InstallRebooting, the reboot, FirmwareUpdated, Available, Installed (one requestId)."""
    cp = with_manufacturer_root(tb, make_cp, pki)
    location = "https://firmware.example/v2.bin"
    cert, key = (pki.signing_cert, pki.signing_key) if signer == "ec" else (pki.rsa_signing_cert, pki.rsa_signing_key)
    assert result_of(tb, cp.cp_id, "SignedUpdateFirmware", signed_update(pki, location, cert=cert, key=key)) == {
        "status": "Accepted"
    }
    wait_until(lambda: "Installed" in firmware_statuses(tb, cp.cp_id), 10, "Installed")
    assert firmware_statuses(tb, cp.cp_id) == [
        "Downloading",
        "Downloaded",
        "SignatureVerified",
        "Installing",
        "InstallRebooting",
        "Installed",
    ]
    assert {s.get("requestId") for s in record(tb, cp.cp_id)["signed_firmware_statuses"]} == {42}  # L01.FR.10
    assert "FirmwareUpdated" in events(tb, cp.cp_id)
    sequence = [f"Status:{p['status']}" if a == "StatusNotification" else a for a, p in received(tb, cp.cp_id)]
    first_installing = next(
        i
        for i, (a, p) in enumerate(received(tb, cp.cp_id))
        if a == "SignedFirmwareStatusNotification" and p["status"] == "Installing"
    )
    assert "Status:Unavailable" in sequence[:first_installing], sequence
    assert sequence.index("BootNotification") < len(sequence) - sequence[::-1].index("Status:Available") - 1
    # L01.FR.28: triggered after Installed, the status is Idle
    result_of(tb, cp.cp_id, "ExtendedTriggerMessage", {"requestedMessage": "FirmwareStatusNotification"})
    wait_until(lambda: firmware_statuses(tb, cp.cp_id)[-1] == "Idle", 5, "Idle")


def test_firmware_with_an_invalid_signature(tb: TestbedProcess, make_cp: Callable[..., Station], pki: Pki) -> None:
    """OCTT TC_081_CS: ... Downloaded, InvalidSignature; L01.FR.03: InvalidFirmwareSignature."""
    cp = with_manufacturer_root(tb, make_cp, pki)
    location = "https://firmware.example/v2.bin"
    body = signed_update(pki, location, signature=sign_firmware(pki.signing_key, "https://firmware.example/other.bin"))
    assert result_of(tb, cp.cp_id, "SignedUpdateFirmware", body) == {"status": "Accepted"}
    wait_until(lambda: "InvalidSignature" in firmware_statuses(tb, cp.cp_id), 10, "InvalidSignature")
    assert firmware_statuses(tb, cp.cp_id) == ["Downloading", "Downloaded", "InvalidSignature"]
    assert wait_event(tb, cp.cp_id, "InvalidFirmwareSignature")["techInfo"]
    # L01.FR.29: triggered after a failure, the last status again, with its requestId
    result_of(tb, cp.cp_id, "ExtendedTriggerMessage", {"requestedMessage": "FirmwareStatusNotification"})
    wait_until(lambda: len(firmware_statuses(tb, cp.cp_id)) == 4, 5, "the triggered status")
    assert record(tb, cp.cp_id)["signed_firmware_statuses"][-1] == {"status": "InvalidSignature", "requestId": 42}


def test_firmware_signature_spoiled_by_the_csms(tb: TestbedProcess, make_cp: Callable[..., Station], pki: Pki) -> None:
    """The same good request, its signature replaced in flight by the testbed's override_call fault."""
    cp = with_manufacturer_root(tb, make_cp, pki)
    set_fault(tb, name="override_call", action="SignedUpdateFirmware", payload={"firmware": {"signature": "AAAA"}})
    assert (
        result_of(tb, cp.cp_id, "SignedUpdateFirmware", signed_update(pki, "https://fw.example/a.bin"))["status"]
        == "Accepted"
    )
    wait_until(lambda: "InvalidSignature" in firmware_statuses(tb, cp.cp_id), 10, "InvalidSignature")


@pytest.mark.parametrize("case", ["not_from_the_manufacturer_root", "no_manufacturer_root", "not_pem"])
def test_firmware_with_an_invalid_signing_certificate(
    tb: TestbedProcess, make_cp: Callable[..., Station], pki: Pki, case: str
) -> None:
    """L01.FR.24 (InvalidCertificate) and L01.FR.02 (InvalidFirmwareSigningCertificate)."""
    if case == "no_manufacturer_root":
        cp = make_cp(time_factor=10.0)
        body = signed_update(pki, "https://fw.example/a.bin")
    elif case == "not_pem":
        cp = with_manufacturer_root(tb, make_cp, pki)
        body = signed_update(pki, "https://fw.example/a.bin", cert="MIIB...")
    else:
        cp = with_manufacturer_root(tb, make_cp, pki)
        body = signed_update(pki, "https://fw.example/a.bin", cert=pki.rogue_signing_cert, key=pki.rogue_signing_key)
    assert result_of(tb, cp.cp_id, "SignedUpdateFirmware", body) == {"status": "InvalidCertificate"}
    wait_event(tb, cp.cp_id, "InvalidFirmwareSigningCertificate")
    gevent.sleep(0.3)
    assert firmware_statuses(tb, cp.cp_id) == []


def test_firmware_installation_failed_gives_the_connectors_back(
    tb: TestbedProcess, make_cp: Callable[..., Station], pki: Pki
) -> None:
    cp = with_manufacturer_root(tb, make_cp, pki, behaviour=Behaviour(firmware_outcome="InstallationFailed"))
    result_of(tb, cp.cp_id, "SignedUpdateFirmware", signed_update(pki, "https://fw.example/a.bin"))
    wait_until(lambda: "InstallationFailed" in firmware_statuses(tb, cp.cp_id), 10, "InstallationFailed")
    wait_until(
        lambda: [p["status"] for p in payloads(tb, cp.cp_id, "StatusNotification")] == ["Unavailable", "Available"],
        5,
        "Available again",
    )
    assert "BootNotification" not in [a for a, _ in received(tb, cp.cp_id)]


def test_a_new_signed_update_cancels_the_running_one(
    tb: TestbedProcess, make_cp: Callable[..., Station], pki: Pki
) -> None:
    """L01.FR.26: AcceptedCanceled; L01.FR.13: a later retrieveDateTime is DownloadScheduled."""
    cp = with_manufacturer_root(tb, make_cp, pki)
    first = signed_update(pki, "https://fw.example/a.bin", request_id=1)
    first["firmware"]["retrieveDateTime"] = iso(datetime.now(UTC) + timedelta(hours=1))
    assert result_of(tb, cp.cp_id, "SignedUpdateFirmware", first) == {"status": "Accepted"}
    wait_until(lambda: firmware_statuses(tb, cp.cp_id) == ["DownloadScheduled"], 5, "DownloadScheduled")
    second = signed_update(pki, "https://fw.example/b.bin", request_id=2)
    assert result_of(tb, cp.cp_id, "SignedUpdateFirmware", second) == {"status": "AcceptedCanceled"}
    wait_until(lambda: "Installed" in firmware_statuses(tb, cp.cp_id), 10, "Installed")
    assert {s.get("requestId") for s in record(tb, cp.cp_id)["signed_firmware_statuses"][1:]} == {2}


@pytest.mark.parametrize(
    ("action", "payload", "code"),
    [
        ("SecurityEventNotification", {"type": "StartupOfTheDevice"}, "OccurenceConstraintViolation"),
        ("SignedFirmwareStatusNotification", {"status": "Flashing", "requestId": 1}, "PropertyConstraintViolation"),
        ("LogStatusNotification", {"status": "Uploaded", "requestId": "7"}, "TypeConstraintViolation"),
        ("SignCertificate", {"csr": 5}, "TypeConstraintViolation"),
    ],
)
def test_the_testbed_checks_what_comes_back(
    tb: TestbedProcess, make_cp: Callable[..., Station], action: str, payload: dict, code: str
) -> None:
    """The testbed validates the security notifications against the official schemas (a charger
    sending a bad one gets a CALLERROR), and keeps the good ones (GET /cps/{id})."""
    cp = make_cp(validate=False)
    with pytest.raises(OcppCallError) as info:
        cp.call(action, payload)
    assert info.value.code == code, info.value
    assert record(tb, cp.cp_id)["security_events"] == [] and record(tb, cp.cp_id)["log_statuses"] == []


def test_factory_manufacturer_roots(
    tb: TestbedProcess, make_cp: Callable[..., Station], pki: Pki, tmp_path: Path
) -> None:
    """``manufacturer_roots`` (``--manufacturer-root``): installed from the start, so a signed
    update needs no InstallCertificate first."""
    roots = tmp_path / "manufacturer.pem"
    roots.write_text(pki.manufacturer_root)
    cp = make_cp(time_factor=10.0, manufacturer_roots=str(roots))
    expected = hash_data(tb, pki.manufacturer_root)
    assert installed(tb, cp.cp_id, "ManufacturerRootCertificate") == {
        "status": "Accepted",
        "certificateHashData": [expected],
    }
    body = signed_update(pki, "https://fw.example/factory.bin")
    assert result_of(tb, cp.cp_id, "SignedUpdateFirmware", body) == {"status": "Accepted"}
    wait_until(lambda: "SignatureVerified" in firmware_statuses(tb, cp.cp_id), 10, "SignatureVerified")
