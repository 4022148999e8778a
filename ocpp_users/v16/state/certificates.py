"""The charger's certificates, as the OCPP 1.6 security whitepaper (edition 2) describes them.

Two things are kept here, with no I/O:

* :class:`CertificateStore`: the installed root certificates (InstallCertificate,
  GetInstalledCertificateIds, DeleteCertificate; use cases M03-M05), of two kinds:
  ``CentralSystemRootCertificate`` (what the charger trusts when it connects over TLS) and
  ``ManufacturerRootCertificate`` (what a signed firmware's certificate must chain to, L01). The
  roots of the ``--ca-file`` the charger starts with count as its factory-installed
  CentralSystemRootCertificates, those of ``--manufacturer-root`` as its factory
  ManufacturerRootCertificates (each file parsed once per process, on first use).
* :class:`ChargePointCertificate`: the charger's own client certificate (security profile 3): a
  key pair made when a CSR is asked for (A02.FR.02; EC P-256, cheap, and of the strength
  A00.FR.503 asks), the CSR (RFC 2986, PEM; CN the charger's serial number, O the CpoName:
  A00.FR.511, A02.FR.13), and the checks of what CertificateSigned.req brings back (A02.FR.06).

Certificates are named on the wire by CertificateHashDataType (whitepaper §6.1). As in OCPP 2.0.1
and RFC 6960's CertID: ``issuerNameHash`` hashes the DER of the certificate's issuer name,
``issuerKeyHash`` the issuer's public key (the value of the subjectPublicKey BIT STRING, without
tag, length and unused-bits byte), ``serialNumber`` is the serial in hexadecimal without ``0x``
and without leading zeroes; hashes are sent in lowercase hexadecimal. When matching what a CSMS
sends, case and leading zeroes do not matter.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import itertools
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from ocpp_users.ocppj.transport import ClientIdentity


class CertificateUse(StrEnum):
    """CertificateUseEnumType (whitepaper §6.4)."""

    central_system_root = "CentralSystemRootCertificate"
    manufacturer_root = "ManufacturerRootCertificate"


HASH_ALGORITHMS: dict[str, str] = {"SHA256": "sha256", "SHA384": "sha384", "SHA512": "sha512"}
"""HashAlgorithmEnumType (§6.10). We report SHA256, as A00.FR.506 recommends."""


class CertificateProblem(ValueError):
    """Why a certificate is invalid; ``str()`` is one line, fit for a security event's techInfo."""


def now_utc() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------- parsing and hash data


def parse_pem(text: str, what: str = "certificate") -> list[x509.Certificate]:
    """The certificates of a PEM text (at least one), or :class:`CertificateProblem`."""
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise CertificateProblem(f"{what} is not a PEM encoded X.509 certificate")
    try:
        certificates = x509.load_pem_x509_certificates(text.encode("utf-8", "replace"))
    except ValueError as exc:
        raise CertificateProblem(f"{what} cannot be parsed: {str(exc).splitlines()[0][:120]}") from None
    if not certificates:
        raise CertificateProblem(f"{what} holds no certificate")
    return certificates


def pem_of(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


def _der_element(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of value, end of value) of the DER element at ``pos``."""
    tag, length = data[pos], data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    return tag, pos, pos + length


def public_key_bits(certificate: x509.Certificate) -> bytes:
    """The subjectPublicKey BIT STRING's value (without its unused-bits byte): what RFC 6960's
    issuerKeyHash hashes. SubjectPublicKeyInfo ::= SEQUENCE { algorithm, subjectPublicKey BIT STRING }."""
    spki = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _, start, _ = _der_element(spki, 0)
    _, _, after_algorithm = _der_element(spki, start)
    tag, bits_start, bits_end = _der_element(spki, after_algorithm)
    if tag != 0x03:
        raise CertificateProblem("the public key is not a BIT STRING")
    return spki[bits_start + 1 : bits_end]


def serial_hex(certificate: x509.Certificate) -> str:
    """The serial number in hexadecimal, without ``0x`` and leading zeroes (lowercase)."""
    return format(certificate.serial_number, "x")


def hash_data(certificate: x509.Certificate, issuer: x509.Certificate, algorithm: str = "SHA256") -> dict[str, str]:
    """CertificateHashDataType of ``certificate`` issued by ``issuer`` (itself, for a root)."""
    name = HASH_ALGORITHMS[algorithm]
    return {
        "hashAlgorithm": algorithm,
        "issuerNameHash": hashlib.new(name, certificate.issuer.public_bytes()).hexdigest(),
        "issuerKeyHash": hashlib.new(name, public_key_bits(issuer)).hexdigest(),
        "serialNumber": serial_hex(certificate),
    }


def same_certificate(wanted: dict[str, object], have: dict[str, str]) -> bool:
    """Whether CertificateHashData ``wanted`` (from the CSMS) names the certificate of ``have``."""
    try:
        serial = int(str(wanted.get("serialNumber", "")), 16)
    except ValueError:
        return False
    return (
        wanted.get("hashAlgorithm") == have["hashAlgorithm"]
        and str(wanted.get("issuerNameHash", "")).lower() == have["issuerNameHash"]
        and str(wanted.get("issuerKeyHash", "")).lower() == have["issuerKeyHash"]
        and serial == int(have["serialNumber"], 16)
    )


# ---------------------------------------------------------------- the checks of a certificate


def issued_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    """``issuer``'s name is the certificate's issuer and its key signed the certificate."""
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def check_period(certificate: x509.Certificate, what: str, now: datetime, allow_future: bool = False) -> None:
    """A02.FR.06 / L01.FR.12: "checking at least the period when the certificate is valid"."""
    if certificate.not_valid_after_utc < now:
        raise CertificateProblem(f"{what} expired on {certificate.not_valid_after_utc:%Y-%m-%d %H:%M:%S}Z")
    if not allow_future and certificate.not_valid_before_utc > now:
        raise CertificateProblem(f"{what} is not valid before {certificate.not_valid_before_utc:%Y-%m-%d %H:%M:%S}Z")


def check_key_strength(certificate: x509.Certificate, what: str) -> None:
    """A00.FR.502/503: RSA (or DSA) keys of at least 2048 bits, elliptic curve keys of at least 224."""
    key = certificate.public_key()
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < 2048:
        raise CertificateProblem(f"{what} has an RSA key of {key.key_size} bits (A00.FR.502: at least 2048)")
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.key_size < 224:
        raise CertificateProblem(f"{what} has an EC key of {key.curve.key_size} bits (A00.FR.503: at least 224)")


def is_ca(certificate: x509.Certificate) -> bool:
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return False
    return constraints.ca


def subject_attribute(
    certificate: x509.Certificate | x509.CertificateSigningRequest, oid: x509.ObjectIdentifier
) -> str:
    values = certificate.subject.get_attributes_for_oid(oid)
    value = values[0].value if values else ""
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def check_chain_to(chain: list[x509.Certificate], roots: list[x509.Certificate], what: str) -> None:
    """Each certificate of ``chain`` is issued by the next, and the last by one of ``roots`` (or is one)."""
    for certificate, issuer in itertools.pairwise(chain):
        if not issued_by(certificate, issuer):
            raise CertificateProblem(
                f"{what}: {certificate.subject.rfc4514_string()[:80]} is not signed by the next certificate"
            )
    last = chain[-1]
    if not any(last == root or issued_by(last, root) for root in roots):
        raise CertificateProblem(f"{what} is not signed by an installed root certificate")


# ---------------------------------------------------------------- installed roots


@dataclass(slots=True)
class InstalledCertificate:
    use: CertificateUse
    certificate: x509.Certificate
    issuer: x509.Certificate
    installed_at: datetime
    fallback: bool = False
    """An old CentralSystemRootCertificate kept as fallback (M05.FR.11) until the new one works."""

    def hash_data(self, algorithm: str = "SHA256") -> dict[str, str]:
        return hash_data(self.certificate, self.issuer, algorithm)


@functools.lru_cache(maxsize=16)
def _roots_of_file(path: str) -> tuple[x509.Certificate, ...]:
    """The CA certificates of a PEM bundle, parsed once per process (shared by every charger)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
        return tuple(c for c in parse_pem(text, path) if is_ca(c) or c.issuer == c.subject)
    except (OSError, CertificateProblem):
        return ()


class CertificateStore:
    """The installed CentralSystemRootCertificates and ManufacturerRootCertificates (M03-M05)."""

    def __init__(
        self,
        max_length: Callable[[], int],
        additional_root_check: Callable[[], bool],
        ca_file: str | None,
        manufacturer_file: str | None = None,
    ) -> None:
        self.max_length = max_length
        """CertificateStoreMaxLength (read when installing)."""
        self.additional_root_check = additional_root_check
        """AdditionalRootCertificateCheck (read when installing a CentralSystemRootCertificate)."""
        self.certificates: list[InstalledCertificate] = []
        self.changed = False
        """The CSMS installed or deleted a CentralSystemRootCertificate: TLS trusts the store now."""
        started = now_utc()
        for root in _roots_of_file(ca_file) if ca_file else ():
            self.certificates.append(InstalledCertificate(CertificateUse.central_system_root, root, root, started))
        for root in _roots_of_file(manufacturer_file) if manufacturer_file else ():
            self.certificates.append(InstalledCertificate(CertificateUse.manufacturer_root, root, root, started))

    def installed(self, use: CertificateUse | str) -> list[InstalledCertificate]:
        return [c for c in self.certificates if c.use == use]

    def roots(self, use: CertificateUse) -> list[x509.Certificate]:
        return [c.certificate for c in self.certificates if c.use == use]

    def valid_roots(self, use: CertificateUse, now: datetime | None = None) -> list[x509.Certificate]:
        moment = now or now_utc()
        return [c for c in self.roots(use) if c.not_valid_before_utc <= moment <= c.not_valid_after_utc]

    def trusted_pem(self) -> str | None:
        """The CentralSystemRootCertificates as one PEM text, once the CSMS changed them (None:
        the charger still trusts what it started with)."""
        if not self.changed:
            return None
        return "".join(pem_of(c) for c in self.roots(CertificateUse.central_system_root))

    def install(self, use: CertificateUse, text: str, now: datetime | None = None) -> str:
        """M05: install a root certificate; return the InstallCertificate status (Accepted or
        Rejected) or raise :class:`CertificateProblem` (the certificate is invalid: Rejected)."""
        moment = now or now_utc()
        certificates = parse_pem(text)
        if len(certificates) != 1:
            raise CertificateProblem(f"one certificate expected, {len(certificates)} given")
        [certificate] = certificates
        what = str(use)
        check_period(certificate, what, moment)
        check_key_strength(certificate, what)
        if not is_ca(certificate):
            raise CertificateProblem(f"{what} is not a CA certificate (basicConstraints CA:TRUE)")
        same_use = self.installed(use)
        if any(c.certificate == certificate for c in same_use):
            return "Accepted"  # installed already: nothing to do
        issuer = certificate if issued_by(certificate, certificate) else None
        if issuer is None:
            issuer = next((c.certificate for c in same_use if issued_by(certificate, c.certificate)), None)
        if issuer is None:
            raise CertificateProblem(f"{what} is neither self-signed nor signed by an installed {what}")
        entry = InstalledCertificate(use, certificate, issuer, moment)
        if use is CertificateUse.central_system_root and self.additional_root_check():
            current = [c for c in same_use if not c.fallback]
            if current:
                # M05.FR.09/10: the new root replaces the old one AND MUST be signed by it.
                old = current[-1]
                if not issued_by(certificate, old.certificate):
                    raise CertificateProblem(
                        "AdditionalRootCertificateCheck: the new CentralSystemRootCertificate is not signed by "
                        "the old one"
                    )
                # M05.FR.11: keep the old one as the (only) fallback until the new one works.
                self.certificates = [c for c in self.certificates if not (c.use == use and c is not old)]
                old.fallback = True
                entry.issuer = old.certificate
                self._append(entry)
                return "Accepted"
        if len(self.certificates) >= self.max_length():
            return "Rejected"  # M05.FR.03: no room left (CertificateStoreMaxLength)
        self._append(entry)
        return "Accepted"

    def _append(self, entry: InstalledCertificate) -> None:
        self.certificates.append(entry)
        if entry.use is CertificateUse.central_system_root:
            self.changed = True

    def find(self, wanted: dict[str, object]) -> InstalledCertificate | None:
        algorithm = str(wanted.get("hashAlgorithm", ""))
        if algorithm not in HASH_ALGORITHMS:
            return None
        return next((c for c in self.certificates if same_certificate(wanted, c.hash_data(algorithm))), None)

    def delete(self, entry: InstalledCertificate) -> None:
        self.certificates.remove(entry)
        if entry.use is CertificateUse.central_system_root:
            self.changed = True

    def root_in_use(self, peer: x509.Certificate | None) -> InstalledCertificate | None:
        """The CentralSystemRootCertificate that issued the CSMS's TLS certificate ``peer``
        (M04.FR.06). Python's ssl module gives the peer's certificate only, not its verified
        chain: a root is found when it signed that certificate directly."""
        if peer is None:
            return None
        return next(
            (
                c
                for c in self.installed(CertificateUse.central_system_root)
                if c.certificate == peer or issued_by(peer, c.certificate)
            ),
            None,
        )

    def connected_with(self, peer: x509.Certificate | None) -> bool:
        """M05.FR.12: once a TLS connection was verified by the new root, drop the fallback.
        True when a fallback was removed."""
        used = self.root_in_use(peer)
        if used is None or used.fallback:
            return False
        before = len(self.certificates)
        self.certificates = [c for c in self.certificates if not c.fallback]
        return len(self.certificates) < before


# ---------------------------------------------------------------- the charger's own certificate


@dataclass
class OwnCertificate:
    """A ChargePointCertificate the CSMS had signed (CertificateSigned.req), with its key."""

    chain: list[x509.Certificate]
    key: ec.EllipticCurvePrivateKey = field(repr=False)
    received_at: datetime

    @property
    def not_before(self) -> datetime:
        return self.chain[0].not_valid_before_utc

    def identity(self) -> ClientIdentity:
        """The certificate and key for the TLS handshake; the key leaves memory only encrypted
        with a fresh random passphrase (A02.FR.05: the private key never leaves the charger)."""
        passphrase = base64.b64encode(os.urandom(24))
        key_pem = self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(passphrase),
        )
        chain = "".join(pem_of(c) for c in self.chain).encode("ascii")
        return ClientIdentity(cert_chain_pem=chain, key_pem=key_pem, passphrase=passphrase)


class ChargePointCertificate:
    """The charger's key pairs and client certificates (A02/A03): made lazily, kept in memory."""

    def __init__(self) -> None:
        self.pending_key: ec.EllipticCurvePrivateKey | None = None
        """The key of the last CSR sent, waiting for its certificate."""
        self.pending_subject: tuple[str, str] | None = None
        """(CN, O) of the last CSR."""
        self.current: OwnCertificate | None = None
        """The certificate in use (A02.FR.09: the newest valid one)."""
        self.waiting: OwnCertificate | None = None
        """A certificate accepted before its 'Not valid before' (A02.FR.08: switch then)."""
        self.previous: OwnCertificate | None = None
        """The one before ``current`` (A02.FR.10: kept as fallback)."""

    def new_csr(self, common_name: str, organization: str) -> str:
        """A02.FR.02/03: a new key pair and its CSR (PEM), CN = the charger's serial number
        (A00.FR.511), O = CpoName (A02.FR.13)."""
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization[:64]),
            ]
        )
        csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
        self.pending_key = key
        self.pending_subject = (common_name[:64], organization[:64])
        return csr.public_bytes(serialization.Encoding.PEM).decode("ascii")

    def accept(
        self, chain_text: str, max_size: int, roots: list[x509.Certificate], now: datetime | None = None
    ) -> OwnCertificate:
        """A02.FR.06: check the certificate chain of a CertificateSigned.req; raise
        :class:`CertificateProblem` (the charger then discards it, A02.FR.07)."""
        moment = now or now_utc()
        if len(chain_text) > max_size:
            raise CertificateProblem(
                f"certificateChain has {len(chain_text)} characters, more than CertificateSignedMaxChainSize {max_size}"
            )
        chain = parse_pem(chain_text, "certificateChain")
        leaf = chain[0]
        key, subject = self.pending_key, self.pending_subject
        if key is None or subject is None:
            raise CertificateProblem("no certificate signing request is waiting for a certificate")
        own = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        theirs = leaf.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        if own != theirs:
            raise CertificateProblem("the certificate's public key is not the key of our certificate signing request")
        for index, certificate in enumerate(chain):
            check_period(
                certificate, "the certificate" if index == 0 else "a CA certificate of the chain", moment, index == 0
            )
        common_name, organization = subject
        if subject_attribute(leaf, NameOID.COMMON_NAME) != common_name:
            raise CertificateProblem(
                f"the certificate's CN is not {common_name!r} (A00.FR.511: the charger's serial number)"
            )
        if subject_attribute(leaf, NameOID.ORGANIZATION_NAME) != organization:
            raise CertificateProblem(f"the certificate's O is not the CpoName {organization!r} (A00.FR.509)")
        if is_ca(leaf):
            raise CertificateProblem("the certificate is a CA certificate")
        if roots:
            check_chain_to(chain, roots, "the certificate")
        else:
            # No CentralSystemRootCertificate installed: the hierarchy cannot be checked beyond the
            # chain itself (each certificate signed by the next).
            check_chain_to(chain, [chain[-1]], "the certificate")
        received = OwnCertificate(chain, key, moment)
        self.pending_key = self.pending_subject = None
        if received.not_before > moment:
            self.waiting = received
        else:
            self.switch_to(received)
        return received

    def switch_to(self, certificate: OwnCertificate) -> None:
        if self.waiting is certificate:
            self.waiting = None
        self.previous, self.current = self.current, certificate

    def fall_back(self) -> None:
        """The new certificate did not work: use the previous one again (A02.FR.10)."""
        self.current, self.previous = self.previous, None


# ---------------------------------------------------------------- signed firmware (L01)


def check_signing_certificate(
    text: str, roots: list[x509.Certificate], now: datetime | None = None
) -> x509.Certificate:
    """L01.FR.12/23: the firmware signing certificate is valid now and issued by an installed
    ManufacturerRootCertificate (the whitepaper: "The manufacturer SHALL NOT use intermediate
    certificates for the firmware signing certificate"). Raise :class:`CertificateProblem`."""
    moment = now or now_utc()
    certificates = parse_pem(text, "signingCertificate")
    certificate = certificates[0]
    check_period(certificate, "signingCertificate", moment)
    check_key_strength(certificate, "signingCertificate")
    if not roots:
        raise CertificateProblem("no ManufacturerRootCertificate is installed to verify the signingCertificate")
    if not any(issued_by(certificate, root) for root in roots):
        raise CertificateProblem("signingCertificate is not signed by an installed ManufacturerRootCertificate")
    return certificate


def verify_signature(certificate: x509.Certificate, signature: str, content: bytes) -> str | None:
    """L01.FR.04: the signature over the firmware with SHA-256, RSA-PSS for an RSA key and ECDSA
    for an elliptic curve key (the whitepaper names ECSchnorr, which no common library offers;
    firmware signers use ECDSA). None when it verifies, else why not."""
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return "signature is not base64"
    if not raw:
        return "signature is empty"
    key = certificate.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(
                raw,
                content,
                padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO),
                hashes.SHA256(),
            )
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(raw, content, ec.ECDSA(hashes.SHA256()))
        else:
            return f"unsupported signing key {type(key).__name__}"
    except InvalidSignature:
        return "the signature does not verify with the signingCertificate"
    return None
