"""TLS server context for wss (security profiles 2 and 3)."""

from __future__ import annotations

import ssl


def server_context(cert_file: str, key_file: str, client_ca: str | None) -> ssl.SSLContext:
    """TLS >= 1.2 server context; with ``client_ca`` a valid client certificate is required.

    Raises ValueError with a one-line message when a file cannot be loaded.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert_file, key_file)
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(f"cannot load TLS certificate/key ({cert_file}, {key_file}): {exc}") from None
    if client_ca:
        try:
            context.load_verify_locations(cafile=client_ca)
        except (OSError, ssl.SSLError) as exc:
            raise ValueError(f"cannot load TLS client CA {client_ca}: {exc}") from None
        context.verify_mode = ssl.CERT_REQUIRED
    return context
