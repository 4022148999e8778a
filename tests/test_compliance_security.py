"""TC_085 (Basic auth) and TC_086 (TLS) against testbeds serving wss with Basic authentication: one
with only an RSA certificate (TC_086 FAILS: no ECDSA suites) and one with an RSA and an ECDSA
certificate (TC_086 PASSES: all four cipher suites of the OCPP 1.6 security whitepaper). The whole
suite over TLS is in test_compliance_security_extension.py."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ocpp_users.embedded import TestbedProcess
from ocpp_users.ocppj.transport import SecurityConfig
from scenarios import tlscheck
from scenarios.options import RunOptions, Tags
from scenarios.results import Verdict
from scenarios.runner import ConnectionFailed, Runner
from scenarios.x509 import parse_certificate

x509 = pytest.importorskip("cryptography.x509")
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, rsa  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

PASSWORD = "0123456789abcdef-tc085"


@dataclass
class Pem:
    cert: str
    key: str


def make_cert(folder: Path, kind: str, cn: str = "localhost", bits: int = 2048, stem: str | None = None) -> Pem:
    key: Any = (
        rsa.generate_private_key(public_exponent=65537, key_size=bits)
        if kind == "rsa"
        else ec.generate_private_key(ec.SECP256R1())
    )
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        # Key identifiers: the CA bundle holds several self-signed certificates named CN=localhost,
        # and OpenSSL tells their issuers apart by these.
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    stem = stem or kind
    pem = Pem(str(folder / f"{stem}.pem"), str(folder / f"{stem}.key"))
    Path(pem.cert).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    Path(pem.key).write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return pem


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Pem]:
    folder = tmp_path_factory.mktemp("certs")
    return {
        "rsa": make_cert(folder, "rsa"),
        "ec": make_cert(folder, "ec"),
        "rsa1024": make_cert(folder, "rsa", bits=1024, stem="rsa1024"),
        "rsa_wrong_cn": make_cert(folder, "rsa", cn="csms.wrong.example", stem="rsa_wrong_cn"),
    }


@pytest.fixture(scope="module")
def both_ca(certs: dict[str, Pem], tmp_path_factory: pytest.TempPathFactory) -> str:
    """A CA file trusting both (self-signed) certificates."""
    bundle = tmp_path_factory.mktemp("bundle") / "both.pem"
    bundle.write_text("".join(Path(pem.cert).read_text() for pem in certs.values()))
    return str(bundle)


def _secure_testbed(*pems: Pem, extra: tuple[str, ...] = ()) -> Iterator[TestbedProcess]:
    args = ["--port", "0", "-q", "--basic-auth-password", PASSWORD, *extra]
    for pem in pems:
        args += ["--tls-cert", pem.cert, "--tls-key", pem.key]
    proc = TestbedProcess(args)
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def secure_csms(certs: dict[str, Pem]) -> Iterator[TestbedProcess]:
    """Only an RSA certificate."""
    yield from _secure_testbed(certs["rsa"])


@pytest.fixture(scope="module")
def dual_csms(certs: dict[str, Pem]) -> Iterator[TestbedProcess]:
    """An RSA and an ECDSA certificate (``--tls-cert``/``--tls-key`` given twice)."""
    yield from _secure_testbed(certs["rsa"], certs["ec"])


def secure_options(csms: TestbedProcess, cp_id: str, ca: str, host: str = "localhost", **changes: Any) -> RunOptions:
    values: dict[str, Any] = dict(
        url=f"wss://{host}:{csms.port}/ocpp/{{cp_id}}",
        cp_id=cp_id,
        security=SecurityConfig(profile=2, password=PASSWORD, ca_file=ca),
        trigger_url=csms.api_url + "/cps/{cp_id}/{action}",
        tags=Tags(valid="VOCPP-VALID"),
        step_timeout=2.0,
        only=("TC_001_CSMS", "TC_085_CSMS", "TC_086_CSMS"),
    )
    values.update(changes)
    return RunOptions(**values)


def test_tc085_passes_and_tc086_checks_the_tls_server(
    secure_csms: TestbedProcess, certs: dict[str, Pem], cp_id: str
) -> None:
    run = Runner(secure_options(secure_csms, cp_id, certs["rsa"].cert)).run()
    by_id = run.by_id()
    assert by_id["TC_001_CSMS"].verdict == Verdict.passed
    basic = by_id["TC_085_CSMS"]
    assert basic.verdict == Verdict.passed, basic.reason
    assert any(c.message == "BootNotification.conf" and c.field == "status" and c.ok for c in basic.checks)
    for what in ("a wrong password", "no credentials"):
        refused = [c for c in basic.checks if c.expected == f"the upgrade refused with {what} (HTTP 401)"]
        assert len(refused) == 1 and refused[0].ok and "HTTP 401" in refused[0].actual, basic.checks
    tls = by_id["TC_086_CSMS"]
    checks = {
        (c.field, c.expected): c
        for c in tls.checks
        if c.message == "TLS handshake" or c.message.startswith("server certificate")
    }
    assert checks[("version", "TLSv1.2 or above")].ok
    for legacy in tlscheck.LEGACY_VERSIONS:  # refused, or that this OpenSSL cannot offer it: a note, never a check
        assert any(legacy in note for note in tls.notes), (legacy, tls.notes)
    assert checks[("key size", ">= 2048 bits (RSA)")].ok
    assert checks[("serialNumber", "present")].ok
    assert checks[("subject commonName", "localhost (the FQDN of the endpoint)")].ok
    assert checks[("format", "an X.509 certificate")].ok
    # The testbed serves only an RSA certificate: the two TLS_RSA suites work, the two ECDHE_ECDSA
    # ones cannot. The document requires all four suites, so TC_086 FAILS, naming the missing ones.
    assert tls.verdict == Verdict.failed
    failed = {c.expected for c in tls.failed_checks}
    assert failed == {
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 supported",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 supported",
    }
    supported = {c.expected for c in tls.checks if c.field == "cipher suite" and c.ok}
    assert supported == {"TLS_RSA_WITH_AES_128_GCM_SHA256 supported", "TLS_RSA_WITH_AES_256_GCM_SHA384 supported"}
    # ... and, as the document allows, the case went on: upgrade, boot and status notifications.
    assert any(c.message == "BootNotification.conf" and c.ok for c in tls.checks)


def test_tc086_fails_when_the_common_name_is_not_the_host(
    secure_csms: TestbedProcess, certs: dict[str, Pem], cp_id: str
) -> None:
    run = Runner(secure_options(secure_csms, cp_id, certs["rsa"].cert, host="127.0.0.1", only=("TC_086_CSMS",))).run()
    result = run.by_id()["TC_086_CSMS"]
    assert result.verdict == Verdict.failed
    names = [c for c in result.failed_checks if c.field == "subject commonName"]
    assert names and names[0].actual == "localhost"


def test_tc086_fails_when_the_certificate_is_not_trusted(
    secure_csms: TestbedProcess, certs: dict[str, Pem], cp_id: str
) -> None:
    def before(_case: str) -> None:
        runner.options.security = SecurityConfig(profile=2, password=PASSWORD, ca_file=certs["ec"].cert)

    runner = Runner(secure_options(secure_csms, cp_id, certs["rsa"].cert, only=("TC_086_CSMS",)), before_case=before)
    result = runner.run().by_id()["TC_086_CSMS"]
    assert result.verdict == Verdict.failed
    check = result.first_failure
    assert check is not None and "certificate verification failed" in check.actual


def test_tc085_fails_when_the_csms_refuses_the_upgrade(
    secure_csms: TestbedProcess, certs: dict[str, Pem], cp_id: str
) -> None:
    def before(_case: str) -> None:
        secure_csms.api("PUT", "/faults", {"name": "refuse_subprotocol"})

    def after(_case: str) -> None:
        secure_csms.api("DELETE", "/faults")

    options = secure_options(secure_csms, cp_id, certs["rsa"].cert, only=("TC_085_CSMS", "TC_001_CSMS"))
    run = Runner(options, before_case=before, after_case=after).run()
    result = run.by_id()["TC_085_CSMS"]
    assert result.verdict == Verdict.failed
    check = result.first_failure
    assert check is not None and check.message == "WebSocket connection" and "subprotocol" in check.actual
    assert run.by_id()["TC_001_CSMS"].verdict == Verdict.failed  # (the fault was on for every case)


def test_wrong_password_is_a_connection_error(secure_csms: TestbedProcess, certs: dict[str, Pem], cp_id: str) -> None:
    options = secure_options(
        secure_csms,
        cp_id,
        certs["rsa"].cert,
        security=SecurityConfig(profile=2, password="wrong-password-0123", ca_file=certs["rsa"].cert),
    )
    with pytest.raises(ConnectionFailed, match="401"):
        Runner(options).run()


def test_tc085_and_tc086_pass_against_a_testbed_with_rsa_and_ecdsa_certificates(
    dual_csms: TestbedProcess, both_ca: str, cp_id: str
) -> None:
    run = Runner(secure_options(dual_csms, cp_id, both_ca)).run()
    by_id = run.by_id()
    assert by_id["TC_001_CSMS"].verdict == Verdict.passed
    assert by_id["TC_085_CSMS"].verdict == Verdict.passed, by_id["TC_085_CSMS"].reason
    tls = by_id["TC_086_CSMS"]
    assert tls.verdict == Verdict.passed, [(c.expected, c.actual) for c in tls.failed_checks]
    suites = {c.expected for c in tls.checks if c.field == "cipher suite" and c.ok}
    assert suites == {f"{suite} supported" for suite in tlscheck.REQUIRED_SUITES}
    assert any(c.field == "version" and c.ok for c in tls.checks)
    assert any(c.field == "subject commonName" and c.ok for c in tls.checks)
    assert any(c.message == "BootNotification.conf" and c.ok for c in tls.checks)


def test_testbed_negotiates_each_required_suite_with_the_matching_certificate(
    dual_csms: TestbedProcess, both_ca: str
) -> None:
    security = SecurityConfig(ca_file=both_ca)
    main = tlscheck.handshake("localhost", dual_csms.port, tlscheck.main_context(security), 5)
    assert main.ok and tlscheck.version_ok(main.version), main.error
    for iana, name in tlscheck.REQUIRED_SUITES.items():
        one = tlscheck.handshake("127.0.0.1", dual_csms.port, tlscheck.suite_context(name, security), 5)
        assert one.ok and one.cipher == name and one.version == "TLSv1.2", (iana, one.error)
        key_type = parse_certificate(one.der or b"").key_type
        assert key_type == ("EC" if "ECDSA" in iana else "RSA"), (iana, key_type)


@pytest.mark.parametrize("version", list(tlscheck.LEGACY_VERSIONS))
def test_testbed_refuses_tls_below_1_2(dual_csms: TestbedProcess, version: str) -> None:
    context = tlscheck.legacy_context(tlscheck.LEGACY_VERSIONS[version], SecurityConfig())
    if context is None:
        pytest.skip(f"this OpenSSL cannot offer {version}")
    result = tlscheck.handshake("127.0.0.1", dual_csms.port, context, 5)
    if tlscheck.local_limit(result):
        pytest.skip(f"this OpenSSL cannot offer {version}: {result.error}")
    # The server ended the handshake (it closed the connection or sent a protocol_version alert);
    # not a failure on our side.
    assert not result.ok
    refusals = ("UNEXPECTED_EOF", "PROTOCOL_VERSION", "ConnectionResetError", "EOF occurred", "WRONG_VERSION_NUMBER")
    assert any(word in result.error for word in refusals), result.error


@pytest.fixture
def legacy_tls_server(certs: dict[str, Pem]) -> Iterator[int]:
    """A bare TLS server that still accepts TLS 1.0 and 1.1 (what TC_086 must catch)."""
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        server.minimum_version = ssl.TLSVersion.TLSv1
    server.set_ciphers("ALL:@SECLEVEL=0")
    server.load_cert_chain(certs["rsa"].cert, certs["rsa"].key)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            try:
                with server.wrap_socket(conn, server_side=True):
                    pass
            except OSError:
                conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        done.set()
        thread.join(2)
        listener.close()


@pytest.mark.parametrize("version", list(tlscheck.LEGACY_VERSIONS))
def test_legacy_handshake_detects_a_server_accepting_old_tls(legacy_tls_server: int, version: str) -> None:
    context = tlscheck.legacy_context(tlscheck.LEGACY_VERSIONS[version], SecurityConfig())
    if context is None:
        pytest.skip(f"this OpenSSL cannot offer {version}")
    result = tlscheck.handshake("127.0.0.1", legacy_tls_server, context, 5)
    if tlscheck.local_limit(result):
        pytest.skip(f"this OpenSSL cannot offer {version}: {result.error}")
    assert result.ok and result.version == version, result.error


def test_tc085_fails_when_the_csms_lets_in_wrong_or_missing_credentials(csms: TestbedProcess, cp_id: str) -> None:
    """The shared testbed has no Basic auth: it upgrades a connection with a wrong password and
    one without credentials, and TC_085 FAILS at step 2 (going on with the valid combination); a
    Pending boot FAILS it at step 4."""
    options = RunOptions(
        url=csms.ws_url.rstrip("/") + "/{cp_id}",
        cp_id=cp_id,
        security=SecurityConfig(profile=1, password=PASSWORD),
        step_timeout=2.0,
        only=("TC_085_CSMS",),
    )
    result = Runner(options).run().by_id()["TC_085_CSMS"]
    assert result.verdict == Verdict.failed, result.reason
    failed = result.failed_checks
    assert [(c.step, c.message, c.field) for c in failed] == [("2", "WebSocket connection", "Authorization")] * 2
    assert [c.expected for c in failed] == [
        "the upgrade refused with a wrong password (HTTP 401)",
        "the upgrade refused with no credentials (HTTP 401)",
    ]
    assert all("upgraded (HTTP 101)" in c.actual for c in failed)
    assert any(c.message == "BootNotification.conf" and c.ok for c in result.checks)  # (it went on)

    def before(_case: str) -> None:
        csms.api(
            "PUT",
            "/faults",
            {"name": "override_response", "action": "BootNotification", "payload": {"status": "Pending"}},
        )

    def after(_case: str) -> None:
        csms.api("DELETE", "/faults")

    result = Runner(options, before_case=before, after_case=after).run().by_id()["TC_085_CSMS"]
    assert result.verdict == Verdict.failed
    boot = [c for c in result.failed_checks if c.message == "BootNotification.conf"]
    assert [(c.step, c.field, c.expected, c.actual) for c in boot] == [("4", "status", "Accepted", "Pending")]


def test_tc085_fails_when_a_basic_auth_csms_accepts_any_credentials(
    secure_csms: TestbedProcess, certs: dict[str, Pem], cp_id: str
) -> None:
    def before(_case: str) -> None:
        secure_csms.api("PUT", "/faults", {"name": "accept_any_credentials"})

    def after(_case: str) -> None:
        secure_csms.api("DELETE", "/faults")

    options = secure_options(secure_csms, cp_id, certs["rsa"].cert, only=("TC_085_CSMS",))
    result = Runner(options, before_case=before, after_case=after).run().by_id()["TC_085_CSMS"]
    assert result.verdict == Verdict.failed
    check = result.first_failure
    assert check is not None and (check.step, check.field) == ("2", "Authorization")
    assert check.expected == "the upgrade refused with a wrong password (HTTP 401)"
    assert check.actual.startswith("upgraded")


@pytest.fixture(scope="module")
def weak_rsa_csms(certs: dict[str, Pem]) -> Iterator[TestbedProcess]:
    """A good ECDSA certificate beside an RSA 1024-bit one (OpenSSL security level 0 to serve it)."""
    yield from _secure_testbed(certs["ec"], certs["rsa1024"], extra=("--tls-security-level", "0"))


@pytest.fixture(scope="module")
def misnamed_rsa_csms(certs: dict[str, Pem]) -> Iterator[TestbedProcess]:
    """A good ECDSA certificate beside an RSA one whose commonName is another host."""
    yield from _secure_testbed(certs["ec"], certs["rsa_wrong_cn"])


@pytest.mark.parametrize(
    ("which", "field", "expected", "actual"),
    [
        ("weak", "key size", ">= 2048 bits (RSA)", "1024 bits"),
        ("misnamed", "subject commonName", "localhost (the FQDN of the endpoint)", "csms.wrong.example"),
    ],
)
def test_tc086_checks_every_certificate_the_csms_serves(
    weak_rsa_csms: TestbedProcess,
    misnamed_rsa_csms: TestbedProcess,
    both_ca: str,
    cp_id: str,
    which: str,
    field: str,
    expected: str,
    actual: str,
) -> None:
    """The default handshake gets the good ECDSA certificate; the RSA suites get the bad RSA one,
    and TC_086 FAILS on it (every other check holds)."""
    csms = weak_rsa_csms if which == "weak" else misnamed_rsa_csms
    result = Runner(secure_options(csms, cp_id, both_ca, only=("TC_086_CSMS",))).run().by_id()["TC_086_CSMS"]
    assert result.verdict == Verdict.failed
    failed = result.failed_checks
    assert {c.field for c in failed} == {field}, [(c.message, c.field, c.actual) for c in failed]
    (check,) = failed
    assert check.message.startswith("server certificate (RSA: TLS_RSA_WITH_AES_128_GCM_SHA256")
    assert (check.expected, check.actual) == (expected, actual)
    ec_checks = [c for c in result.checks if c.message.startswith("server certificate (EC")]
    assert ec_checks and all(c.ok for c in ec_checks)
    assert all(c.ok for c in result.checks if c.field == "cipher suite")


def test_certificate_parser_reads_serial_common_name_and_key_size(certs: dict[str, Pem]) -> None:
    for kind, key_type, bits in (("rsa", "RSA", 2048), ("ec", "EC", 256)):
        der = ssl.PEM_cert_to_DER_cert(Path(certs[kind].cert).read_text())
        info = parse_certificate(der)
        expected_serial = x509.load_der_x509_certificate(der).serial_number
        assert (info.key_type, info.key_bits, info.common_names, info.serial) == (
            key_type,
            bits,
            ["localhost"],
            expected_serial,
        )
