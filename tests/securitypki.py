"""The certificates the security-extension tests need, made on the fly with ``cryptography``: a CPO
root (the CA the testbed signs CSRs with, and the one behind its TLS server certificate), a
charge point client certificate, other roots (valid, expired, not a CA, a cross-signed successor),
a manufacturer root with EC and RSA firmware signing certificates, and a rogue CA."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from tests.certs import _write_cert, _write_key, make_ca, make_leaf


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "VolatileOCPP tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _ca_extensions(builder: x509.CertificateBuilder, key: Any) -> x509.CertificateBuilder:
    return builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).add_extension(
        x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
    )


def make_root(
    cn: str,
    *,
    days: tuple[float, float] = (-1, 30),
    key: Any = None,
    signer: tuple[x509.Certificate, Any] | None = None,
) -> tuple[x509.Certificate, Any]:
    """A CA certificate (self-signed unless ``signer`` = (issuer certificate, issuer key))."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    issuer_name = signer[0].subject if signer else _name(cn)
    signing_key = signer[1] if signer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + timedelta(days=days[0]))
        .not_valid_after(now + timedelta(days=days[1]))
    )
    return _ca_extensions(builder, key).sign(signing_key, hashes.SHA256()), key


def make_signing_cert(issuer: x509.Certificate, issuer_key: Any, key: Any) -> x509.Certificate:
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name("Firmware signing"))
        .issuer_name(issuer.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(issuer_key, hashes.SHA256())
    )


def sign_firmware(key: Any, location: str) -> str:
    """The firmware signature as a manufacturer makes it: over the image (here, by the simulator's
    convention, the location's bytes) with SHA-256; ECDSA or RSA-PSS; base64."""
    data = location.encode()
    if isinstance(key, rsa.RSAPrivateKey):
        raw = key.sign(data, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())
    else:
        raw = key.sign(data, ec.ECDSA(hashes.SHA256()))
    return base64.b64encode(raw).decode("ascii")


@dataclass
class Pki:
    ca: str
    """The CPO root: file path (TLS trust, the testbed's CA)."""
    ca_key: str
    ca_cert: x509.Certificate
    ca_private: Any
    server_cert: str
    server_key: str
    client_cert: str
    client_key: str
    rogue_ca: str
    rogue_ca_key: str
    other_root: str
    """PEM of another valid self-signed root."""
    expired_root: str
    not_ca: str
    """PEM of a valid certificate that is no CA."""
    successor_root: str
    """PEM of a new root signed by the CPO root (AdditionalRootCertificateCheck)."""
    manufacturer_root: str
    signing_cert: str
    signing_key: Any
    rsa_signing_cert: str
    rsa_signing_key: Any
    rogue_signing_cert: str
    rogue_signing_key: Any


def make_security_pki(directory: Path, client_cn: str = "CP-TLS") -> Pki:
    ca, ca_key = make_ca("VolatileOCPP CPO root")
    server, server_key = make_leaf(ca, ca_key, "localhost", server=True)
    client, client_key = make_leaf(ca, ca_key, client_cn, server=False)
    rogue, rogue_key = make_ca("Rogue CA")
    other, _ = make_root("Another CPO root")
    expired, _ = make_root("Expired root", days=(-30, -1))
    not_ca, _ = make_leaf(ca, ca_key, "not a CA", server=False)
    successor, _ = make_root("VolatileOCPP CPO root 2", signer=(ca, ca_key))
    manufacturer, manufacturer_key = make_root("Manufacturer root")
    signing_key = ec.generate_private_key(ec.SECP256R1())
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rogue_signing_key = ec.generate_private_key(ec.SECP256R1())
    rogue_manufacturer, rogue_manufacturer_key = make_root("Manufacturer root")  # same name, other key
    return Pki(
        ca=_write_cert(directory / "ca.pem", ca),
        ca_key=_write_key(directory / "ca.key", ca_key),
        ca_cert=ca,
        ca_private=ca_key,
        server_cert=_write_cert(directory / "server.pem", server),
        server_key=_write_key(directory / "server.key", server_key),
        client_cert=_write_cert(directory / "client.pem", client),
        client_key=_write_key(directory / "client.key", client_key),
        rogue_ca=_write_cert(directory / "rogue-ca.pem", rogue),
        rogue_ca_key=_write_key(directory / "rogue-ca.key", rogue_key),
        other_root=pem(other),
        expired_root=pem(expired),
        not_ca=pem(not_ca),
        successor_root=pem(successor),
        manufacturer_root=pem(manufacturer),
        signing_cert=pem(make_signing_cert(manufacturer, manufacturer_key, signing_key)),
        signing_key=signing_key,
        rsa_signing_cert=pem(make_signing_cert(manufacturer, manufacturer_key, rsa_key)),
        rsa_signing_key=rsa_key,
        rogue_signing_cert=pem(make_signing_cert(rogue_manufacturer, rogue_manufacturer_key, rogue_signing_key)),
        rogue_signing_key=rogue_signing_key,
    )
