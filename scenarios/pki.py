"""Certificates the compliance Tool makes for itself (``cryptography``): a throwaway root for the
cases whose <Configured root certificate> the user did not give, a self-signed client certificate
no CSMS can trust (TC_087), and the demonstration's whole PKI (:func:`demo_pki`): a CPO root that
signs the testbed's TLS certificates (RSA and ECDSA, so every cipher suite of TC_086 works), the
charge point's client certificate and, as the testbed's CA, its CSRs; a manufacturer root with a
firmware signing certificate and a signature (TC_080/TC_081). Private keys are written 0600.
"""

from __future__ import annotations

import base64
import ipaddress
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

Key = Any
"""An EC or RSA private key."""


def _name(common_name: str, organization: str = "VolatileOCPP") -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _ec_key() -> Key:
    return ec.generate_private_key(ec.SECP256R1())


def _builder(subject: x509.Name, issuer: x509.Name, public_key: Any, days: float) -> x509.CertificateBuilder:
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
    )


def new_root(common_name: str, days: float = 30) -> tuple[x509.Certificate, Key]:
    """A self-signed CA certificate (EC P-256) and its key."""
    key = _ec_key()
    name = _name(common_name)
    cert = (
        _builder(name, name, key.public_key(), days)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def new_leaf(
    issuer: x509.Certificate,
    issuer_key: Key,
    common_name: str,
    *,
    usage: str,
    rsa_bits: int | None = None,
    hosts: tuple[str, ...] = (),
    days: float = 30,
) -> tuple[x509.Certificate, Key]:
    """An end-entity certificate signed by ``issuer``: ``usage`` server (TLS server, ``hosts`` as
    subjectAltName), client (TLS client) or signing (code signing); EC P-256 unless ``rsa_bits``."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=rsa_bits) if rsa_bits else _ec_key()
    builder = (
        _builder(_name(common_name), issuer.subject, key.public_key(), days)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    )
    purposes = {
        "server": ExtendedKeyUsageOID.SERVER_AUTH,
        "client": ExtendedKeyUsageOID.CLIENT_AUTH,
        "signing": ExtendedKeyUsageOID.CODE_SIGNING,
    }
    builder = builder.add_extension(x509.ExtendedKeyUsage([purposes[usage]]), critical=False)
    if hosts:
        names: list[x509.GeneralName] = []
        for host in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(issuer_key, hashes.SHA256()), key


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def key_pem(key: Key) -> bytes:
    return bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


def write_cert(path: Path, cert: x509.Certificate) -> str:
    path.write_text(pem(cert))
    return str(path)


def write_key(path: Path, key: Key) -> str:
    """The key in a file only its owner reads (0600 from the start)."""
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(handle, "wb") as out:
        out.write(key_pem(key))
    return str(path)


def sign_firmware(key: Key, image: bytes) -> str:
    """A firmware signature as a manufacturer makes it: SHA-256 with ECDSA (or RSA-PSS), base64."""
    if isinstance(key, rsa.RSAPrivateKey):
        raw = key.sign(image, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())
    else:
        raw = key.sign(image, ec.ECDSA(hashes.SHA256()))
    return base64.b64encode(raw).decode("ascii")


def throwaway_root_pem(common_name: str = "VolatileOCPP OCTT test root") -> str:
    """A fresh, valid root certificate whose key is thrown away (the cases' default
    <Configured root certificate>: it is installed and deleted, never used to sign)."""
    cert, _ = new_root(common_name)
    return pem(cert)


def untrusted_client(folder: Path, common_name: str) -> tuple[str, str]:
    """A self-signed client certificate (no CA any CSMS trusts) and its key, as files."""
    key = _ec_key()
    name = _name(common_name, "VolatileOCPP untrusted")
    cert = (
        _builder(name, name, key.public_key(), 1)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return write_cert(folder / "untrusted-client.pem", cert), write_key(folder / "untrusted-client.key", key)


def same_certificate_pem(a: str, b: str) -> bool:
    """Whether two PEM texts hold the same (first) certificate, whatever their line breaks."""
    try:
        first = x509.load_pem_x509_certificate(a.encode("utf-8", "replace"))
        second = x509.load_pem_x509_certificate(b.encode("utf-8", "replace"))
    except ValueError:
        return a.strip() == b.strip()
    return first == second


def certificate_problem(path: str) -> str | None:
    """Why ``path`` is no PEM certificate file (one line), or None."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    try:
        x509.load_pem_x509_certificates(text.encode("utf-8", "replace"))
    except ValueError:
        return "holds no PEM certificate"
    return None


@dataclass
class DemoPki:
    """The files of the demonstration's PKI (see the module's docstring)."""

    ca: str
    ca_key: str
    server_rsa: tuple[str, str]
    server_ec: tuple[str, str]
    client: tuple[str, str]
    manufacturer_root: str
    signing_certificate: str
    firmware_signature: str
    root_certificate: str


def demo_pki(folder: Path, cp_id: str, firmware_url: str) -> DemoPki:
    """Everything the demonstration needs to run every case against the testbed over TLS: the CPO
    root (the testbed's CA and the charge point's trust), TLS server certificates for localhost
    (RSA 2048 and EC P-256), a client certificate for ``cp_id``, a manufacturer root, a firmware
    signing certificate and the signature of ``firmware_url`` (the simulated charger's convention:
    the image is the location's bytes), and a second root for the certificate cases."""
    ca, ca_key = new_root("VolatileOCPP demo CPO root")
    hosts = ("localhost", "127.0.0.1")
    server_rsa, server_rsa_key = new_leaf(ca, ca_key, "localhost", usage="server", rsa_bits=2048, hosts=hosts)
    server_ec, server_ec_key = new_leaf(ca, ca_key, "localhost", usage="server", hosts=hosts)
    client, client_key = new_leaf(ca, ca_key, cp_id, usage="client")
    manufacturer, manufacturer_key = new_root("VolatileOCPP demo manufacturer root")
    signer, signer_key = new_leaf(manufacturer, manufacturer_key, "VolatileOCPP demo firmware signer", usage="signing")
    second, _ = new_root("VolatileOCPP demo root 2")
    return DemoPki(
        ca=write_cert(folder / "ca.pem", ca),
        ca_key=write_key(folder / "ca.key", ca_key),
        server_rsa=(
            write_cert(folder / "server-rsa.pem", server_rsa),
            write_key(folder / "server-rsa.key", server_rsa_key),
        ),
        server_ec=(write_cert(folder / "server-ec.pem", server_ec), write_key(folder / "server-ec.key", server_ec_key)),
        client=(write_cert(folder / "client.pem", client), write_key(folder / "client.key", client_key)),
        manufacturer_root=write_cert(folder / "manufacturer.pem", manufacturer),
        signing_certificate=write_cert(folder / "signing.pem", signer),
        firmware_signature=sign_firmware(signer_key, firmware_url.encode()),
        root_certificate=write_cert(folder / "root2.pem", second),
    )
