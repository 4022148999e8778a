"""The security extension where the connection changes: a new AuthorizationKey (A01, OCTT TC_073),
security profile upgrades with their fallback (A05, TC_083/TC_084), a new client certificate under
profile 3 (A02, TC_074) with its fallback (A02.FR.10), and a CentralSystemRootCertificate in use
(M04.FR.06). Against testbeds serving ws and wss (``--tls-port``), with Basic auth and client
certificates; TLS verifies the testbed's certificate throughout."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gevent
import pytest
from cryptography import x509

from ocpp_users.embedded import TestbedProcess
from ocpp_users.ocppj import errors
from ocpp_users.ocppj.sink import WEBSOCKET, Recorder
from ocpp_users.ocppj.transport import SecurityConfig, _system_ca_directory, ssl_context
from ocpp_users.v16.answers.security import SecurityAnswers
from ocpp_users.v16.settings import Behaviour, ChargePointSettings
from ocpp_users.v16.station import Station
from tests.securitypki import Pki, make_security_pki
from tests.test_handlers import result_of, wait_until

PASSWORD = "first-password-0123"
NEW_KEY = "4F43415F4F4354545F61646D696E5F74657374"  # OCTT TC_073: "OCA_OCTT_admin_test" hex encoded
CPO = "VolatileOCPP CPO"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_security_pki(Path(tmp_path_factory.mktemp("profiles-pki")))


def start(*args: str) -> TestbedProcess:
    proc = TestbedProcess(["--port", "0", "-q", "--heartbeat-interval", "30", *args])
    proc.start()
    return proc


def tls_url(proc: TestbedProcess) -> str:
    prefix = "testbed: TLS listener on "
    return next(line[len(prefix) :].strip() for line in proc.output if line.startswith(prefix))


@pytest.fixture(scope="module")
def split(pki: Pki) -> Iterator[TestbedProcess]:
    """ws with Basic auth on --port (profile 1), wss with Basic auth on --tls-port (profile 2)."""
    proc = start(
        "--basic-auth-password", PASSWORD, "--tls-cert", pki.server_cert, "--tls-key", pki.server_key, "--tls-port", "0"
    )
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def optional_mtls(pki: Pki) -> Iterator[TestbedProcess]:
    """wss with Basic auth (profile 2) or a client certificate (profile 3), and a CA that signs CSRs."""
    proc = start(
        *("--basic-auth-password", PASSWORD, "--tls-cert", pki.server_cert, "--tls-key", pki.server_key),
        *("--tls-client-ca", pki.ca, "--tls-client-cert-optional", "--ca-cert", pki.ca, "--ca-key", pki.ca_key),
    )
    yield proc
    proc.stop()


def reset(proc: TestbedProcess) -> TestbedProcess:
    assert proc.api("POST", "/reset")[0] == 200
    return proc


@pytest.fixture
def stations() -> Iterator[Callable[..., Station]]:
    made: list[Station] = []

    def make(
        proc: TestbedProcess, cp_id: str, security: SecurityConfig, url: str | None = None, **extra: Any
    ) -> Station:
        settings = ChargePointSettings(
            cp_id=cp_id,
            url=url or proc.ws_url,
            security=security,
            call_timeout=5,
            connect_timeout=5,
            backoff_initial=0.2,
            backoff_max=1.0,
            **extra,
        )
        cp = Station(settings, sink=Recorder())
        made.append(cp)
        cp.connect()
        assert cp.boot_until_accepted()["status"] == "Accepted"
        return cp

    yield make
    for cp in made:
        cp.stop(stop_transactions=False)


def record(proc: TestbedProcess, cp_id: str) -> dict[str, Any]:
    status, body = proc.api("GET", f"/cps/{cp_id}")
    assert status == 200, body
    return body


def connect_outcomes(cp: Station) -> list[tuple[str, str | None]]:
    sink = cp.sink
    assert isinstance(sink, Recorder)
    return [
        (e.name, type(e.exception).__name__ if e.exception else None)
        for e in sink.select(WEBSOCKET)
        if e.name in ("connect", "reconnect")
    ]


def change(proc: TestbedProcess, cp: Station, key: str, value: str) -> str:
    return str(result_of(proc, cp.cp_id, "ChangeConfiguration", {"key": key, "value": value})["status"])


def security_profile_key(proc: TestbedProcess, cp: Station) -> str:
    answer = result_of(proc, cp.cp_id, "GetConfiguration", {"key": ["SecurityProfile"]})
    return str(answer["configurationKey"][0]["value"])


def install_root(proc: TestbedProcess, cp: Station, pem_text: str) -> None:
    body = {"certificateType": "CentralSystemRootCertificate", "certificate": pem_text}
    assert result_of(proc, cp.cp_id, "InstallCertificate", body) == {"status": "Accepted"}


# ---------------------------------------------------------------- A01: AuthorizationKey (TC_073)


def test_new_authorization_key_reconnects_with_it(
    split: TestbedProcess, stations: Callable[..., Station], cp_id: str
) -> None:
    proc = reset(split)
    cp = stations(proc, cp_id, SecurityConfig(profile=1, password=PASSWORD))
    assert change(proc, cp, "AuthorizationKey", NEW_KEY) == "Accepted"
    wait_until(lambda: record(proc, cp_id)["connections"] == 2 and record(proc, cp_id)["connected"], 5, "the reconnect")
    assert connect_outcomes(cp) == [("connect", None), ("reconnect", None)]
    assert record(proc, cp_id)["security_profile"] == 1
    assert cp.heartbeat()["currentTime"]
    # The testbed took the new key (A01.FR.03): the old password is refused now.
    with pytest.raises(errors.AuthenticationFailed):
        Station(
            ChargePointSettings(cp_id=cp_id, url=proc.ws_url, security=SecurityConfig(profile=1, password=PASSWORD))
        ).connect()


def test_csms_refusing_the_new_key_is_a_counted_failure(
    split: TestbedProcess, stations: Callable[..., Station], cp_id: str
) -> None:
    proc = reset(split)
    cp = stations(proc, cp_id, SecurityConfig(profile=1, password=PASSWORD))
    assert proc.api("PUT", "/faults", {"name": "refuse_security_profile", "profile": 1})[0] == 200
    try:
        assert change(proc, cp, "AuthorizationKey", NEW_KEY) == "Accepted"
        wait_until(lambda: len(connect_outcomes(cp)) >= 3, 5, "two refused reconnects")
        assert connect_outcomes(cp)[1:3] == [("reconnect", "AuthenticationFailed")] * 2
        assert "FailedToAuthenticateAtCentralSystem" in [e.type for e in cp.state.security_log.entries]
    finally:
        proc.api("DELETE", "/faults")
    # the reconnect loop keeps trying with the new key, and gets in once the CSMS lets it
    wait_until(lambda: record(proc, cp_id)["connected"] and record(proc, cp_id)["connections"] == 2, 8, "back in")


# ---------------------------------------------------------------- A05: security profile upgrades


def test_upgrade_from_profile_1_to_2(
    split: TestbedProcess, stations: Callable[..., Station], cp_id: str, pki: Pki
) -> None:
    """OCTT TC_083: A05.FR.03 first (no CentralSystemRootCertificate: Rejected), then Accepted and a
    reconnect over wss (a port of its own, A00.FR.006); A05.FR.01: no way back (TC_084), and the
    testbed refuses profile 1 for this charge point from then on (A05.FR.09)."""
    proc = reset(split)
    cp = stations(proc, cp_id, SecurityConfig(profile=1, password=PASSWORD), tls_url=tls_url(proc))
    assert change(proc, cp, "SecurityProfile", "2") == "Rejected"
    install_root(proc, cp, Path(pki.ca).read_text())
    assert change(proc, cp, "SecurityProfile", "2") == "Accepted"
    wait_until(lambda: record(proc, cp_id)["security_profile"] == 2 and record(proc, cp_id)["connected"], 5, "wss")
    assert record(proc, cp_id)["connections"] == 2
    assert security_profile_key(proc, cp) == "2"
    assert change(proc, cp, "SecurityProfile", "1") == "Rejected"
    assert change(proc, cp, "SecurityProfile", "2") == "Rejected"
    gevent.sleep(0.3)
    assert record(proc, cp_id)["connections"] == 2
    with pytest.raises(errors.AuthenticationFailed):
        Station(
            ChargePointSettings(cp_id=cp_id, url=proc.ws_url, security=SecurityConfig(profile=1, password=PASSWORD))
        ).connect()


def test_upgrade_refused_by_the_csms_falls_back(
    split: TestbedProcess, stations: Callable[..., Station], cp_id: str, pki: Pki
) -> None:
    """A05.FR.08: the new profile does not connect: back to the previous one."""
    proc = reset(split)
    cp = stations(proc, cp_id, SecurityConfig(profile=1, password=PASSWORD), tls_url=tls_url(proc))
    install_root(proc, cp, Path(pki.ca).read_text())
    assert proc.api("PUT", "/faults", {"name": "refuse_security_profile", "profile": 2})[0] == 200
    try:
        assert change(proc, cp, "SecurityProfile", "2") == "Accepted"
        wait_until(lambda: len(connect_outcomes(cp)) == 4, 5, "two refused attempts and the fallback")
    finally:
        proc.api("DELETE", "/faults")
    assert connect_outcomes(cp) == [
        ("connect", None),
        ("reconnect", "AuthenticationFailed"),
        ("reconnect", "AuthenticationFailed"),
        ("reconnect", None),
    ]
    wait_until(lambda: record(proc, cp_id)["connected"], 3, "connected")
    assert record(proc, cp_id)["security_profile"] == 1
    assert security_profile_key(proc, cp) == "1"


def test_upgrade_from_profile_0_needs_an_authorization_key(
    csms: TestbedProcess, stations: Callable[..., Station], cp_id: str
) -> None:
    """A05.FR.02, then A01 and A05 together: key first, then profile 1 on the same ws:// URL."""
    cp = stations(csms, cp_id, SecurityConfig())
    assert change(csms, cp, "SecurityProfile", "1") == "Rejected"
    assert csms.api("PUT", f"/cps/{cp_id}/password", {"password_hex": NEW_KEY}) == (200, {"password_set": True})
    assert change(csms, cp, "AuthorizationKey", NEW_KEY) == "Accepted"
    gevent.sleep(0.2)
    assert record(csms, cp_id)["connections"] == 1, "profile 0: the key waits for the upgrade"
    assert change(csms, cp, "SecurityProfile", "1") == "Accepted"
    wait_until(
        lambda: record(csms, cp_id)["security_profile"] == 1 and record(csms, cp_id)["connected"], 5, "Basic auth"
    )
    assert record(csms, cp_id)["basic_auth_user"] == cp_id


def test_upgrade_from_profile_2_to_3(
    optional_mtls: TestbedProcess, stations: Callable[..., Station], cp_id: str, pki: Pki
) -> None:
    proc = reset(optional_mtls)
    security = SecurityConfig(
        profile=2, password=PASSWORD, ca_file=pki.ca, client_cert=pki.client_cert, client_key=pki.client_key
    )
    cp = stations(proc, cp_id, security)
    assert record(proc, cp_id)["security_profile"] == 2
    assert change(proc, cp, "SecurityProfile", "3") == "Accepted"
    wait_until(
        lambda: record(proc, cp_id)["security_profile"] == 3 and record(proc, cp_id)["connected"], 5, "profile 3"
    )
    assert record(proc, cp_id)["client_certificate"]["subject_cn"] == "CP-TLS"


def test_upgrade_to_3_needs_a_charge_point_certificate(
    optional_mtls: TestbedProcess, stations: Callable[..., Station], cp_id: str, pki: Pki
) -> None:
    """A05.FR.04."""
    proc = reset(optional_mtls)
    cp = stations(proc, cp_id, SecurityConfig(profile=2, password=PASSWORD, ca_file=pki.ca))
    assert change(proc, cp, "SecurityProfile", "3") == "Rejected"


# ---------------------------------------------------------------- A02: a new client certificate under profile 3


def new_certificate(proc: TestbedProcess, cp: Station) -> dict[str, Any]:
    assert result_of(proc, cp.cp_id, "ExtendedTriggerMessage", {"requestedMessage": "SignChargePointCertificate"}) == {
        "status": "Accepted"
    }
    [signed] = wait_until(
        lambda: [c for c in record(proc, cp.cp_id)["certificates_signed"] if "status" in c], 5, "CertificateSigned.conf"
    )
    return signed


def serial_of(chain: str) -> str:
    return format(x509.load_pem_x509_certificate(chain.encode()).serial_number, "x")


def test_profile_3_reconnects_with_the_new_certificate(
    optional_mtls: TestbedProcess, stations: Callable[..., Station], cp_id: str, pki: Pki
) -> None:
    """OCTT TC_074_CS step 7: "disconnects its current connection and reconnects to the Central
    System with the new certificate"; the testbed sees the new certificate's serial."""
    proc = reset(optional_mtls)
    security = SecurityConfig(profile=3, ca_file=pki.ca, client_cert=pki.client_cert, client_key=pki.client_key)
    cp = stations(proc, cp_id, security, url=proc.ws_url, configuration={"CpoName": CPO})
    factory_serial = record(proc, cp_id)["client_certificate"]["serial"]
    signed = new_certificate(proc, cp)
    assert signed["status"] == "Accepted"
    wait_until(lambda: record(proc, cp_id)["connections"] == 2 and record(proc, cp_id)["connected"], 5, "the reconnect")
    now = record(proc, cp_id)["client_certificate"]
    assert now["serial"] == serial_of(signed["certificateChain"]) != factory_serial
    assert now["subject_cn"] == cp_id
    assert cp.heartbeat()["currentTime"]


def test_profile_3_keeps_its_certificate_when_the_new_one_is_bad(
    optional_mtls: TestbedProcess, stations: Callable[..., Station], cp_id: str, pki: Pki
) -> None:
    proc = reset(optional_mtls)
    security = SecurityConfig(profile=3, ca_file=pki.ca, client_cert=pki.client_cert, client_key=pki.client_key)
    cp = stations(proc, cp_id, security, configuration={"CpoName": CPO})
    factory_serial = record(proc, cp_id)["client_certificate"]["serial"]
    assert proc.api("PUT", "/faults", {"name": "bad_certificate", "kind": "untrusted"})[0] == 200
    assert new_certificate(proc, cp)["status"] == "Rejected"
    gevent.sleep(0.5)
    assert record(proc, cp_id)["connections"] == 1
    assert record(proc, cp_id)["client_certificate"]["serial"] == factory_serial


def test_a_new_certificate_the_csms_refuses_falls_back_to_the_old(
    pki: Pki, stations: Callable[..., Station], cp_id: str
) -> None:
    """A02.FR.10: a CA the TLS layer of the CSMS does not trust signed the new certificate (the
    charger had that CA installed as a CentralSystemRootCertificate, so it accepted it): the
    reconnect with it is refused and the charger goes back to its previous certificate."""
    proc = start(
        *("--tls-cert", pki.server_cert, "--tls-key", pki.server_key, "--tls-client-ca", pki.ca),
        *("--ca-cert", pki.rogue_ca, "--ca-key", pki.rogue_ca_key),
    )
    try:
        security = SecurityConfig(profile=3, ca_file=pki.ca, client_cert=pki.client_cert, client_key=pki.client_key)
        cp = stations(proc, cp_id, security, configuration={"CpoName": CPO})
        factory_serial = record(proc, cp_id)["client_certificate"]["serial"]
        install_root(proc, cp, Path(pki.rogue_ca).read_text())
        assert new_certificate(proc, cp)["status"] == "Accepted"
        wait_until(lambda: len(connect_outcomes(cp)) == 4, 8, "two refused attempts and the fallback")
        assert [outcome for _, outcome in connect_outcomes(cp)][1:3] != [None, None]
        assert connect_outcomes(cp)[-1] == ("reconnect", None)
        wait_until(lambda: record(proc, cp_id)["connected"], 3, "connected")
        assert record(proc, cp_id)["client_certificate"]["serial"] == factory_serial
        assert cp.state.own_certificate.current is None
    finally:
        proc.stop()


# ---------------------------------------------------------------- M04.FR.06: the root in use


def test_the_root_in_use_cannot_be_deleted(
    split: TestbedProcess, stations: Callable[..., Station], cp_id: str, pki: Pki
) -> None:
    proc = reset(split)
    cp = stations(proc, cp_id, SecurityConfig(profile=2, password=PASSWORD, ca_file=pki.ca), url=tls_url(proc))
    install_root(proc, cp, pki.other_root)
    status, in_use = proc.api("POST", "/certificates/hash-data", {"certificate": Path(pki.ca).read_text()})
    assert status == 200
    assert result_of(proc, cp_id, "DeleteCertificate", {"certificateHashData": in_use}) == {"status": "Failed"}
    status, other = proc.api("POST", "/certificates/hash-data", {"certificate": pki.other_root})
    assert result_of(proc, cp_id, "DeleteCertificate", {"certificateHashData": other}) == {"status": "Accepted"}


# ---------------------------------------------------------------- a TLS context per charge point


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to hash a CA directory")
@pytest.mark.parametrize("trusted", [True, False])
def test_own_context_looks_system_cas_up_one_by_one(
    pki: Pki, cp_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, trusted: bool
) -> None:
    """A charge point with a client certificate of its own has a TLS context of its own; without
    --ca-file it trusts the system's CAs by looking them up in the system's hashed CA directory (no
    copy of the whole bundle per context). Here that directory is SSL_CERT_DIR, holding the
    testbed's CA (the connection verifies) or another CA only (it does not)."""
    folder = tmp_path / "system-cas"
    folder.mkdir()
    ca = pki.ca if trusted else pki.rogue_ca
    digest = subprocess.run(
        ["openssl", "x509", "-hash", "-noout", "-in", ca], capture_output=True, text=True, check=True
    )
    shutil.copy(ca, folder / f"{digest.stdout.strip()}.0")
    monkeypatch.setenv("SSL_CERT_DIR", str(folder))
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    _system_ca_directory.cache_clear()
    ssl_context.cache_clear()
    proc = start("--tls-cert", pki.server_cert, "--tls-key", pki.server_key, "--tls-client-ca", pki.ca)
    try:
        assert _system_ca_directory() == str(folder)
        own = ssl_context(None, pki.client_cert, pki.client_key, True)
        assert own.get_ca_certs() == [], "no copy of the system bundle in a charge point's own context"
        security = SecurityConfig(profile=3, client_cert=pki.client_cert, client_key=pki.client_key)
        cp = Station(ChargePointSettings(cp_id=cp_id, url=proc.ws_url, security=security, connect_timeout=5))
        if trusted:
            cp.connect()
            assert cp.boot()["status"] == "Accepted"
            cp.stop(stop_transactions=False)
        else:
            with pytest.raises(errors.TransportError, match="certificate verification failed"):
                cp.connect()
    finally:
        proc.stop()
        _system_ca_directory.cache_clear()
        ssl_context.cache_clear()


def test_with_follow_ups_off_the_caller_reconnects(
    split: TestbedProcess, stations: Callable[..., Station], cp_id: str, pki: Pki
) -> None:
    """The compliance runner turns follow-ups off and scripts the steps: the charger answers and
    switches its credentials, and reconnects when told (SecurityAnswers.reconnect)."""
    proc = reset(split)
    cp = stations(
        proc,
        cp_id,
        SecurityConfig(profile=1, password=PASSWORD),
        tls_url=tls_url(proc),
        behaviour=Behaviour(auto_follow_up=False),
    )
    install_root(proc, cp, Path(pki.ca).read_text())
    assert change(proc, cp, "SecurityProfile", "2") == "Accepted"
    gevent.sleep(0.3)
    assert record(proc, cp_id)["connections"] == 1
    security = cp.answers.profiles["Security"]
    assert isinstance(security, SecurityAnswers)
    assert security.reconnect("scripted") is True
    assert record(proc, cp_id)["security_profile"] == 2


def test_over_tls_a_round_trip_ends_when_our_loop_read_the_answer(
    split: TestbedProcess, stations: Callable[..., Station], cp_id: str, pki: Pki
) -> None:
    """OpenSSL reads a wss:// socket itself, so no kernel stamp reaches us: the arrival is when our
    receive loop read the answer (README, "A round trip is the CSMS's time"), our own stall included."""
    from tests.test_arrival import STALL_S, _heartbeat_during_a_stall

    proc = reset(split)
    cp = stations(proc, cp_id, SecurityConfig(profile=2, password=PASSWORD, ca_file=pki.ca), url=tls_url(proc))
    reported, wall = _heartbeat_during_a_stall(cp)
    assert STALL_S * 1000.0 <= reported <= wall, (reported, wall)
