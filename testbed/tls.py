"""TLS server context for wss (security profiles 2 and 3).

The OCPP 1.6 security whitepaper (and OCTT case TC_086_CSMS) wants a Central System to support
TLS 1.2 or above with four cipher suites: two ECDHE-ECDSA ones, which need an ECDSA certificate,
and two with RSA key exchange, which need an RSA certificate. Several certificate/key pairs can
therefore be loaded into the one context (one per key type); OpenSSL picks the certificate that
fits the negotiated cipher suite.
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence

#: TLS 1.2 cipher suites offered (OpenSSL names), in server preference order: forward-secret
#: suites first. Required by the whitepaper: ECDHE-ECDSA-AES128-GCM-SHA256 and
#: ECDHE-ECDSA-AES256-GCM-SHA384 (TLS_ECDHE_ECDSA_WITH_AES_{128_GCM_SHA256,256_GCM_SHA384}, need an
#: ECDSA certificate), AES128-GCM-SHA256 and AES256-GCM-SHA384 (TLS_RSA_WITH_AES_{128_GCM_SHA256,
#: 256_GCM_SHA384}, need an RSA certificate). The ECDHE-RSA ones give ordinary clients of an RSA
#: certificate forward secrecy. TLS 1.3 suites are not affected by ``set_ciphers`` and stay enabled.
TLS12_CIPHERS: tuple[str, ...] = (
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "AES256-GCM-SHA384",
    "AES128-GCM-SHA256",
)


def server_context(
    chains: Sequence[tuple[str, str]],
    client_ca: str | None,
    security_level: int | None = None,
    client_cert_optional: bool = False,
) -> ssl.SSLContext:
    """TLS >= 1.2 server context; with ``client_ca`` a valid client certificate is required.

    ``chains`` holds (certificate file, key file) pairs, e.g. an RSA and an ECDSA certificate;
    a later pair with the same key type as an earlier one replaces it (OpenSSL keeps one per type).
    ``security_level`` sets OpenSSL's security level (0 lets a misconfigured CSMS with an RSA
    1024-bit key be reproduced; None keeps the library's default). Raises ValueError with a
    one-line message when a file cannot be loaded.
    """
    if not chains:
        raise ValueError("no TLS certificate/key given")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    level = f":@SECLEVEL={security_level}" if security_level is not None else ""
    context.set_ciphers(":".join(TLS12_CIPHERS) + level)
    for cert_file, key_file in chains:
        try:
            context.load_cert_chain(cert_file, key_file)
        except (OSError, ssl.SSLError) as exc:
            raise ValueError(f"cannot load TLS certificate/key ({cert_file}, {key_file}): {exc}") from None
    if client_ca:
        try:
            context.load_verify_locations(cafile=client_ca)
        except (OSError, ssl.SSLError) as exc:
            raise ValueError(f"cannot load TLS client CA {client_ca}: {exc}") from None
        # Optional: profile 2 (Basic auth) and profile 3 (client certificate) on one port, as a
        # charge point upgrading from 2 to 3 needs (whitepaper A05).
        context.verify_mode = ssl.CERT_OPTIONAL if client_cert_optional else ssl.CERT_REQUIRED
    return context
