"""Test certificates made on the fly with ``cryptography``: a CA, a server certificate for
127.0.0.1/localhost and a client certificate signed by it, plus a second, untrusted CA with its
own server and client certificates. Everything is written as PEM files into one directory."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

Key = ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class CertFiles:
    """Paths of the PEM files of one test PKI."""

    ca: str
    """The CA both sides trust."""
    server_cert: str
    server_key: str
    client_cert: str
    client_key: str
    rogue_ca: str
    """A CA nobody trusts."""
    rogue_server_cert: str
    rogue_server_key: str
    rogue_client_cert: str
    rogue_client_key: str
    misnamed_server_cert: str
    """Signed by the trusted CA, but for ``other.example`` only."""
    misnamed_server_key: str


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "VolatileOCPP tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _key() -> Key:
    return ec.generate_private_key(ec.SECP256R1())


def _builder(subject: str, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey) -> x509.CertificateBuilder:
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=2))
    )


def make_ca(common_name: str) -> tuple[x509.Certificate, Key]:
    key = _key()
    cert = (
        _builder(common_name, _name(common_name), key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def make_leaf(
    ca: x509.Certificate,
    ca_key: Key,
    common_name: str,
    *,
    server: bool,
    names: tuple[str, ...] = ("localhost", "127.0.0.1"),
) -> tuple[x509.Certificate, Key]:
    key = _key()
    builder = (
        _builder(common_name, ca.subject, key.public_key())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([_general_name(name) for name in names]),
            critical=False,
        )
    return builder.sign(ca_key, hashes.SHA256()), key


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _write_cert(path: Path, cert: x509.Certificate) -> str:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(path)


def _write_key(path: Path, key: Key) -> str:
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    path.chmod(0o600)
    return str(path)


def make_pki(directory: Path, client_cn: str = "CP-TLS") -> CertFiles:
    """Write a trusted and a rogue PKI into ``directory``; the client certificate's CN is ``client_cn``."""
    ca, ca_key = make_ca("VolatileOCPP test CA")
    server, server_key = make_leaf(ca, ca_key, "localhost", server=True)
    client, client_key = make_leaf(ca, ca_key, client_cn, server=False)
    rogue, rogue_key = make_ca("Rogue CA")
    rogue_server, rogue_server_key = make_leaf(rogue, rogue_key, "localhost", server=True)
    rogue_client, rogue_client_key = make_leaf(rogue, rogue_key, client_cn, server=False)
    misnamed, misnamed_key = make_leaf(ca, ca_key, "other.example", server=True, names=("other.example",))
    return CertFiles(
        ca=_write_cert(directory / "ca.pem", ca),
        server_cert=_write_cert(directory / "server.pem", server),
        server_key=_write_key(directory / "server.key", server_key),
        client_cert=_write_cert(directory / "client.pem", client),
        client_key=_write_key(directory / "client.key", client_key),
        rogue_ca=_write_cert(directory / "rogue-ca.pem", rogue),
        rogue_server_cert=_write_cert(directory / "rogue-server.pem", rogue_server),
        rogue_server_key=_write_key(directory / "rogue-server.key", rogue_server_key),
        rogue_client_cert=_write_cert(directory / "rogue-client.pem", rogue_client),
        rogue_client_key=_write_key(directory / "rogue-client.key", rogue_client_key),
        misnamed_server_cert=_write_cert(directory / "misnamed-server.pem", misnamed),
        misnamed_server_key=_write_key(directory / "misnamed-server.key", misnamed_key),
    )
