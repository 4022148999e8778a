"""TLS handshakes for TC_086_CSMS: version, the four required cipher suites, the server certificate.

Each cipher suite is offered alone, in its own TLS 1.2 handshake (TLS 1.3 has other suites), so
"supported" means the server completed a handshake with exactly that suite.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from dataclasses import dataclass

from ocpp_users.transport import SecurityConfig, ssl_context

#: The document's suites (IANA names) and their OpenSSL names.
REQUIRED_SUITES: dict[str, str] = {
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
    "TLS_RSA_WITH_AES_128_GCM_SHA256": "AES128-GCM-SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384": "AES256-GCM-SHA384",
}


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


def suite_context(openssl_name: str, security: SecurityConfig) -> ssl.SSLContext:
    """A TLS 1.2 client context offering only this suite (no verification: only the suite matters)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(openssl_name + ":@SECLEVEL=0")
    if security.client_cert:
        context.load_cert_chain(security.client_cert, security.client_key)
    return context


def version_ok(version: str | None) -> bool:
    return version in ("TLSv1.2", "TLSv1.3")
