"""TLS handshakes for TC_086_CSMS: version, the four required cipher suites, the server certificate.

Each cipher suite is offered alone, in its own TLS 1.2 handshake (TLS 1.3 has other suites), so
"supported" means the server completed a handshake with exactly that suite. "TLS version 1.2 or
above" is checked both ways: the normal handshake must negotiate 1.2 or 1.3, and a handshake
offering only TLS 1.0, or only TLS 1.1, must fail (when the local OpenSSL can offer them at all).
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import warnings
from dataclasses import dataclass

from ocpp_users.ocppj.transport import SecurityConfig, ssl_context

#: The document's suites (IANA names) and their OpenSSL names.
REQUIRED_SUITES: dict[str, str] = {
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
    "TLS_RSA_WITH_AES_128_GCM_SHA256": "AES128-GCM-SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384": "AES256-GCM-SHA384",
}


#: Versions below TLS 1.2 a CSMS must refuse, by the names ``SSLSocket.version()`` reports.
LEGACY_VERSIONS: dict[str, ssl.TLSVersion] = {
    "TLSv1": ssl.TLSVersion.TLSv1,
    "TLSv1.1": ssl.TLSVersion.TLSv1_1,
}

#: OpenSSL's words for "this client cannot offer the version" (a local limit, not the server's refusal).
_LOCAL_LIMITS = ("NO_PROTOCOLS_AVAILABLE", "no protocols available", "NO_CIPHERS_AVAILABLE", "no ciphers available")


@dataclass
class Handshake:
    ok: bool
    version: str | None = None
    cipher: str | None = None
    der: bytes | None = None
    error: str = ""


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate verification failed: {exc.verify_message}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error: {exc.reason or exc}"
    return f"{type(exc).__name__}: {exc}"


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def handshake(host: str, port: int, context: ssl.SSLContext, timeout: float) -> Handshake:
    try:
        raw = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        return Handshake(False, error=f"connection failed: {exc.strerror or exc}")
    try:
        with context.wrap_socket(raw, server_hostname=host) as tls:
            cipher = tls.cipher()
            return Handshake(True, tls.version(), cipher[0] if cipher else None, tls.getpeercert(binary_form=True))
    except (OSError, ssl.SSLError) as exc:
        return Handshake(False, error=_describe(exc))
    finally:
        raw.close()


def main_context(security: SecurityConfig) -> ssl.SSLContext:
    """The context the charge point uses (verifies the server unless told otherwise)."""
    return ssl_context(security.ca_file, security.client_cert, security.client_key, security.verify)


def suite_context(openssl_name: str, security: SecurityConfig, verify: bool = False) -> ssl.SSLContext:
    """A TLS 1.2 client context offering only this suite. Without ``verify`` only the suite
    matters; with it the certificate must verify as the charge point's own context requires (the
    CA file or the system's, and the host name), at any key size so that a weak key is reported
    by the key-size check rather than hidden in a handshake failure."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(openssl_name + ":@SECLEVEL=0")  # (before the CA file: weak keys load too)
    if verify:
        if security.ca_file:
            context.load_verify_locations(cafile=security.ca_file)
        else:
            context.load_default_certs(ssl.Purpose.SERVER_AUTH)
    else:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if security.client_cert:
        context.load_cert_chain(security.client_cert, security.client_key)
    return context


def legacy_context(version: ssl.TLSVersion, security: SecurityConfig) -> ssl.SSLContext | None:
    """A client context offering only ``version`` (any cipher, no verification); None when the local
    OpenSSL refuses to configure it."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = version
            context.maximum_version = version
        context.set_ciphers("ALL:@SECLEVEL=0")
    except (ValueError, ssl.SSLError):
        return None
    if security.client_cert:
        context.load_cert_chain(security.client_cert, security.client_key)
    return context


def local_limit(result: Handshake) -> bool:
    """The handshake failed on our side before the server could answer (the version is not
    available in this OpenSSL), or never reached the server: no verdict on the server."""
    if result.error.startswith("connection failed"):
        return True
    return any(word in result.error for word in _LOCAL_LIMITS)


def version_ok(version: str | None) -> bool:
    return version in ("TLSv1.2", "TLSv1.3")
