"""Security profiles 1-3 against testbeds started with ``--basic-auth-password``, ``--tls-cert/--tls-key``
and ``--tls-client-ca``, using certificates generated here (tests/certs.py). TLS verifies by default;
the Basic auth password never shows up in logs or reprs."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ocpp_users.embedded import TestbedProcess
from ocpp_users.ocppj import errors
from ocpp_users.ocppj.sink import WEBSOCKET, Recorder
from ocpp_users.ocppj.transport import SecurityConfig
from ocpp_users.v16.protocol import VERSION
from ocpp_users.v16.settings import ChargePointSettings
from ocpp_users.v16.station import Station
from tests.certs import CertFiles, make_pki

PASSWORD = "S3cr3t-Pa55w0rd-xyzzy"
WRONG = "not-the-password"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> CertFiles:
    return make_pki(Path(tmp_path_factory.mktemp("pki")))


def _testbed(*args: str) -> Iterator[TestbedProcess]:
    proc = TestbedProcess(["--port", "0", "-q", *args])
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def basic_csms() -> Iterator[TestbedProcess]:
    """Profile 1: ws:// with HTTP Basic auth."""
    yield from _testbed("--basic-auth-password", PASSWORD)


@pytest.fixture(scope="module")
def tls_csms(pki: CertFiles) -> Iterator[TestbedProcess]:
    """Profile 2: wss:// with HTTP Basic auth."""
    yield from _testbed("--basic-auth-password", PASSWORD, "--tls-cert", pki.server_cert, "--tls-key", pki.server_key)


@pytest.fixture(scope="module")
def mtls_csms(pki: CertFiles) -> Iterator[TestbedProcess]:
    """Profile 3: wss:// with client certificates signed by the test CA."""
    yield from _testbed("--tls-cert", pki.server_cert, "--tls-key", pki.server_key, "--tls-client-ca", pki.ca)


def charger(csms: TestbedProcess, cp_id: str, security: SecurityConfig) -> Station:
    settings = ChargePointSettings(
        cp_id=cp_id, url=csms.ws_url, security=security, call_timeout=5, connect_timeout=5, reconnect=False
    )
    return Station(settings, sink=Recorder())


def connect_and_boot(csms: TestbedProcess, cp_id: str, security: SecurityConfig) -> Station:
    cp = charger(csms, cp_id, security)
    cp.connect()
    try:
        assert cp.boot()["status"] == "Accepted"
        assert cp.heartbeat()["currentTime"]
    finally:
        cp.stop(stop_transactions=False)
    return cp


def connect_fails(
    csms: TestbedProcess, cp_id: str, security: SecurityConfig, expected: type[errors.TransportError]
) -> errors.TransportError:
    cp = charger(csms, cp_id, security)
    with pytest.raises(expected) as info:
        cp.connect()
    assert not cp.connected
    sink = cp.sink
    assert isinstance(sink, Recorder)
    [event] = sink.select(WEBSOCKET, "connect")
    assert event.exception is info.value, "the failed handshake is a counted failure"
    return info.value


def cp_record(csms: TestbedProcess, cp_id: str) -> dict[str, Any]:
    status, body = csms.api("GET", f"/cps/{cp_id}")
    assert status == 200, body
    return body


# ---------------------------------------------------------------- configuration checks


@pytest.mark.parametrize(
    ("security", "url", "needle"),
    [
        (SecurityConfig(profile=1, password=PASSWORD), "wss://h/ocpp", "profile 1 is plain ws://"),
        (SecurityConfig(profile=1), "ws://h/ocpp", "needs a Basic auth password"),
        (SecurityConfig(profile=2, password=PASSWORD), "ws://h/ocpp", "needs a wss:// URL"),
        (SecurityConfig(profile=3), "wss://h/ocpp", "needs a client certificate"),
        (SecurityConfig(profile=4), "wss://h/ocpp", "must be 0, 1, 2 or 3"),
        (SecurityConfig(), "http://h/ocpp", "scheme must be ws or wss"),
    ],
)
def test_security_config_check(security: SecurityConfig, url: str, needle: str) -> None:
    with pytest.raises(ValueError, match=needle) as info:
        security.check(url)
    assert PASSWORD not in str(info.value)


def test_security_config_defaults_verify() -> None:
    assert SecurityConfig().verify is True
    SecurityConfig(profile=2, password=PASSWORD, ca_file="x").check("wss://h/ocpp")


# ---------------------------------------------------------------- profile 1


def test_profile_1_success(basic_csms: TestbedProcess, cp_id: str) -> None:
    connect_and_boot(basic_csms, cp_id, SecurityConfig(profile=1, password=PASSWORD))
    assert cp_record(basic_csms, cp_id)["basic_auth_user"] == cp_id


def test_profile_1_wrong_password(basic_csms: TestbedProcess, cp_id: str) -> None:
    exc = connect_fails(basic_csms, cp_id, SecurityConfig(profile=1, password=WRONG), errors.AuthenticationFailed)
    assert isinstance(exc, errors.AuthenticationFailed) and exc.status == 401
    assert str(exc) == "handshake refused: HTTP 401 (credentials rejected)"


def test_profile_1_server_refuses_missing_credentials(basic_csms: TestbedProcess, cp_id: str) -> None:
    connect_fails(basic_csms, cp_id, SecurityConfig(profile=0), errors.AuthenticationFailed)


# ---------------------------------------------------------------- profile 2


def test_profile_2_success(tls_csms: TestbedProcess, pki: CertFiles, cp_id: str) -> None:
    assert tls_csms.ws_url.startswith("wss://")
    connect_and_boot(tls_csms, cp_id, SecurityConfig(profile=2, password=PASSWORD, ca_file=pki.ca))
    assert cp_record(tls_csms, cp_id)["basic_auth_user"] == cp_id


def test_profile_2_wrong_password(tls_csms: TestbedProcess, pki: CertFiles, cp_id: str) -> None:
    connect_fails(
        tls_csms, cp_id, SecurityConfig(profile=2, password=WRONG, ca_file=pki.ca), errors.AuthenticationFailed
    )


@pytest.mark.parametrize("trust", ["rogue CA", "system CAs"])
def test_profile_2_untrusted_server_certificate(
    tls_csms: TestbedProcess, pki: CertFiles, cp_id: str, trust: str
) -> None:
    ca_file = pki.rogue_ca if trust == "rogue CA" else None
    exc = connect_fails(
        tls_csms, cp_id, SecurityConfig(profile=2, password=PASSWORD, ca_file=ca_file), errors.TransportError
    )
    assert type(exc) is errors.TransportError
    assert str(exc).startswith("TLS certificate verification failed")
    assert cp_id not in (tls_csms.api("GET", "/cps")[1]["cps"]), "no WebSocket upgrade reached the CSMS"


def test_profile_2_verification_only_off_when_asked(tls_csms: TestbedProcess, cp_id: str) -> None:
    connect_and_boot(tls_csms, cp_id, SecurityConfig(profile=2, password=PASSWORD, verify=False))


def test_profile_2_host_name_is_verified(pki: CertFiles, cp_id: str) -> None:
    """A certificate from the trusted CA, but for another host name, is refused."""
    for proc in _testbed("--tls-cert", pki.misnamed_server_cert, "--tls-key", pki.misnamed_server_key):
        exc = connect_fails(
            proc, cp_id, SecurityConfig(profile=2, password=PASSWORD, ca_file=pki.ca), errors.TransportError
        )
        assert str(exc).startswith("TLS certificate verification failed")
        assert "mismatch" in str(exc).lower()


# ---------------------------------------------------------------- profile 3


def test_profile_3_success(mtls_csms: TestbedProcess, pki: CertFiles, cp_id: str) -> None:
    security = SecurityConfig(profile=3, ca_file=pki.ca, client_cert=pki.client_cert, client_key=pki.client_key)
    security.check(mtls_csms.ws_url)
    connect_and_boot(mtls_csms, cp_id, security)
    assert cp_record(mtls_csms, cp_id)["connected"] is False  # stopped cleanly after booting


def test_profile_3_missing_client_certificate(mtls_csms: TestbedProcess, pki: CertFiles, cp_id: str) -> None:
    security = SecurityConfig(profile=3, ca_file=pki.ca)
    with pytest.raises(ValueError, match="client certificate"):
        security.check(mtls_csms.ws_url)
    connect_fails(mtls_csms, cp_id, security, errors.TransportError)
    assert cp_id not in mtls_csms.api("GET", "/cps")[1]["cps"]


def test_profile_3_client_certificate_from_an_untrusted_ca(
    mtls_csms: TestbedProcess, pki: CertFiles, cp_id: str
) -> None:
    security = SecurityConfig(
        profile=3, ca_file=pki.ca, client_cert=pki.rogue_client_cert, client_key=pki.rogue_client_key
    )
    connect_fails(mtls_csms, cp_id, security, errors.TransportError)
    assert cp_id not in mtls_csms.api("GET", "/cps")[1]["cps"]


# ---------------------------------------------------------------- secrets


def test_password_never_in_logs_or_reprs(
    basic_csms: TestbedProcess, tls_csms: TestbedProcess, pki: CertFiles, cp_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = base64.b64encode(f"{cp_id}:{PASSWORD}".encode()).decode()
    good = SecurityConfig(profile=1, password=PASSWORD)
    cp = connect_and_boot(basic_csms, cp_id, good)
    failed = charger(basic_csms, cp_id + "x", SecurityConfig(profile=1, password=PASSWORD + "-wrong"))
    with pytest.raises(errors.AuthenticationFailed) as auth_error:
        failed.connect()
    tls = charger(tls_csms, cp_id + "y", SecurityConfig(profile=2, password=PASSWORD, ca_file=pki.rogue_ca))
    with pytest.raises(errors.TransportError) as tls_error:
        tls.connect()
    texts = [
        caplog.text,
        repr(good),
        str(good),
        repr(cp.settings),
        repr(failed.settings),
        repr(tls.settings),
        str(auth_error.value),
        repr(auth_error.value),
        str(tls_error.value),
        repr(tls_error.value),
    ]
    for sim in (cp, failed, tls):
        assert isinstance(sim.sink, Recorder)
        texts += [repr(r) for r in sim.sink.records]
        texts.append(repr(sim.last_error))
    for text in texts:
        assert PASSWORD not in text
        assert token not in text
    assert "password" not in repr(good), "the field is left out of the repr altogether"


def test_a_missing_ca_file_is_a_transport_error_not_a_crash(tmp_path) -> None:
    from ocpp_users.ocppj.errors import TransportError
    from ocpp_users.ocppj.transport import SecurityConfig, connect

    security = SecurityConfig(profile=2, password="x" * 16, ca_file=str(tmp_path / "missing.pem"))
    with pytest.raises(TransportError, match="TLS configuration error"):
        connect("wss://127.0.0.1:9/", "CP1", security, subprotocol=VERSION.subprotocol, timeout=1)
    bogus = tmp_path / "bogus.pem"
    bogus.write_text("not a certificate")
    with pytest.raises(TransportError, match="TLS configuration error"):
        connect(
            "wss://127.0.0.1:9/",
            "CP1",
            SecurityConfig(profile=2, password="x" * 16, ca_file=str(bogus)),
            subprotocol=VERSION.subprotocol,
            timeout=1,
        )
