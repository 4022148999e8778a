"""The testbed as its own Certificate Authority (OCTT TC_074/TC_077: "the tool shall take on the role
of both Central System and Certificate Authority Server"), and the CSMS's side of the security
whitepaper's certificate hash data.

With ``--ca-cert/--ca-key`` the testbed signs the CSR of a SignCertificate.req (answered Accepted,
A02.FR.11) and sends the certificate back in a CertificateSigned.req. The ``bad_certificate``
fault makes it send a certificate a charger must refuse (A02.FR.06): one for another key, an
expired one, one signed by an unknown CA, one with another CN, text that is no PEM, a chain of
more than 2000 characters (refused by a charger whose CertificateSignedMaxChainSize is smaller).

CertificateHashData is computed here with ``cryptography``'s OCSP request builder (RFC 6960's
CertID), independently of the engine's own code, as the OCTT "verifies ... based on its own
calculation of the certificateHashData".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID

BAD_CERTIFICATES = ("wrong_key", "expired", "untrusted", "wrong_cn", "not_pem", "too_long")
"""The kinds of the ``bad_certificate`` fault."""

_HASHES: dict[str, hashes.HashAlgorithm] = {
    "SHA256": hashes.SHA256(),
    "SHA384": hashes.SHA384(),
    "SHA512": hashes.SHA512(),
}


class CaError(ValueError):
    """A CSR the CA will not sign, or a CA that cannot be loaded; one line."""


def _load(cert_file: str, key_file: str) -> tuple[x509.Certificate, Any]:
    try:
        with open(cert_file, "rb") as handle:
            cert = x509.load_pem_x509_certificate(handle.read())
        with open(key_file, "rb") as handle:
            key = serialization.load_pem_private_key(handle.read(), password=None)
    except (OSError, ValueError) as exc:
        raise CaError(f"cannot load the CA ({cert_file}, {key_file}): {exc}") from None
    return cert, key


@dataclass
class Issued:
    """What the CA sends back: the certificateChain text, and a one-line description."""

    chain: str
    note: str


class CertificateAuthority:
    """Signs charge point CSRs with one CA certificate and key."""

    def __init__(self, cert_file: str, key_file: str, validity_days: int = 30) -> None:
        self.cert, self.key = _load(cert_file, key_file)
        self.validity = timedelta(days=validity_days)

    @staticmethod
    def parse_csr(csr_pem: str) -> x509.CertificateSigningRequest:
        """The CSR of a SignCertificate.req, checked (PEM, signature); raise :class:`CaError`."""
        try:
            csr = x509.load_pem_x509_csr(csr_pem.encode("utf-8", "replace"))
        except ValueError as exc:
            raise CaError(f"the csr is not a PEM certificate signing request: {str(exc)[:100]}") from None
        if not csr.is_signature_valid:
            raise CaError("the csr's signature does not verify")
        return csr

    def _builder(
        self, subject: x509.Name, public_key: Any, issuer: x509.Name, start: datetime, end: datetime
    ) -> x509.CertificateBuilder:
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        )

    def issue(self, csr_pem: str, bad: str | None = None) -> Issued:
        """Sign ``csr_pem`` (or, with ``bad``, make the certificate a charger must refuse)."""
        csr = self.parse_csr(csr_pem)
        now = datetime.now(UTC)
        subject, public_key = csr.subject, csr.public_key()
        start, end = now - timedelta(minutes=5), now + self.validity
        signer_key, issuer = self.key, self.cert.subject
        note = "signed by the testbed CA"
        if bad == "not_pem":
            return Issued("this is not a certificate", "not PEM")
        if bad == "wrong_key":
            public_key = ec.generate_private_key(ec.SECP256R1()).public_key()
            note = "for another key than the CSR's"
        elif bad == "expired":
            start, end = now - timedelta(days=10), now - timedelta(days=1)
            note = "expired"
        elif bad == "untrusted":
            signer_key = ec.generate_private_key(ec.SECP256R1())
            issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Unknown CA")])
            note = "signed by an unknown CA"
        elif bad == "wrong_cn":
            others = [a for a in subject if a.oid != NameOID.COMMON_NAME]
            subject = x509.Name([*others, x509.NameAttribute(NameOID.COMMON_NAME, "SOMEONE-ELSE")])
            note = "with another CN"
        cert = self._builder(subject, public_key, issuer, start, end).sign(signer_key, hashes.SHA256())
        chain = cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
        if bad == "too_long":
            # A valid chain (the certificate, then the CA's, repeated) of more than 2000 characters:
            # longer than a small CertificateSignedMaxChainSize (the schema caps the field at 10000).
            filler = self.cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
            while len(chain) <= 2000:
                chain += filler
            note = f"a chain of {len(chain)} characters"
        return Issued(chain, note)


def certificate_hash_data(certificate_pem: str, issuer_pem: str | None, algorithm: str = "SHA256") -> dict[str, str]:
    """CertificateHashDataType of a certificate (its issuer: ``issuer_pem``, or itself for a root):
    RFC 6960 CertID fields by ``cryptography``'s OCSP builder, hashes in lowercase hexadecimal,
    the serial number in hexadecimal without leading zeroes. Raise ValueError on bad input."""
    if algorithm not in _HASHES:
        raise ValueError(f"hashAlgorithm must be one of {', '.join(_HASHES)}")
    cert = x509.load_pem_x509_certificate(certificate_pem.encode("utf-8"))
    issuer = x509.load_pem_x509_certificate(issuer_pem.encode("utf-8")) if issuer_pem else cert
    request = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, _HASHES[algorithm]).build()
    return {
        "hashAlgorithm": algorithm,
        "issuerNameHash": request.issuer_name_hash.hex(),
        "issuerKeyHash": request.issuer_key_hash.hex(),
        "serialNumber": format(request.serial_number, "x"),
    }


def peer_certificate_info(der: bytes | None) -> dict[str, Any] | None:
    """Serial and SHA-256 fingerprint of a TLS client certificate (DER), for the control API."""
    if not der:
        return None
    cert = x509.load_der_x509_certificate(der)
    common_name = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return {
        "serial": format(cert.serial_number, "x"),
        "sha256": cert.fingerprint(hashes.SHA256()).hex(),
        "subject_cn": str(common_name[0].value) if common_name else None,
    }
