"""WebSocket transport: security profiles 0-3, one shared ``SSLContext``, subprotocol check.

From the OCPP 1.6 security whitepaper: profile 1 is "Unsecured Transport with Basic
Authentication", profile 2 "TLS with Basic Authentication", profile 3 "TLS with Client Side
Certificates". The Basic auth user name is the charge point id.
"""

from __future__ import annotations

import base64
import functools
import socket
import ssl
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import websocket

from .errors import AuthenticationFailed, HandshakeRefused, SubprotocolMismatch, TransportError

SUBPROTOCOL = "ocpp1.6"


@dataclass(frozen=True)
class SecurityConfig:
    """How a charge point authenticates and what it trusts."""

    profile: int = 0
    """0 plain ws; 1 ws + Basic; 2 wss + Basic; 3 wss + client certificate."""
    password: str | None = field(default=None, repr=False)
    """The Basic auth password (AuthorizationKey); never logged, never in a repr."""
    ca_file: str | None = None
    """A private CA bundle to trust in addition to nothing else (system CAs when unset)."""
    client_cert: str | None = None
    client_key: str | None = None
    verify: bool = True
    """TLS certificate and host name verification; on unless explicitly turned off."""

    def check(self, url: str) -> None:
        """Raise ValueError when the profile does not fit the URL or lacks what it needs."""
        scheme = urlsplit(url).scheme
        if self.profile not in (0, 1, 2, 3):
            raise ValueError(f"security profile must be 0, 1, 2 or 3, not {self.profile}")
        if scheme not in ("ws", "wss"):
            raise ValueError(f"URL scheme must be ws or wss, not {scheme or 'missing'!r}")
        if self.profile in (2, 3) and scheme != "wss":
            raise ValueError(f"security profile {self.profile} needs a wss:// URL")
        if self.profile == 1 and scheme != "ws":
            raise ValueError("security profile 1 is plain ws:// with Basic auth; use profile 2 for wss://")
        if self.profile in (1, 2) and not self.password:
            raise ValueError(f"security profile {self.profile} needs a Basic auth password")
        if self.profile == 3 and not self.client_cert:
            raise ValueError("security profile 3 needs a client certificate")


@functools.lru_cache(maxsize=8)
def ssl_context(ca_file: str | None, client_cert: str | None, client_key: str | None, verify: bool) -> ssl.SSLContext:
    """One context per distinct configuration, shared by every connection of the process."""
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca_file)
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if client_cert:
        ctx.load_cert_chain(client_cert, client_key)
    return ctx


def basic_auth_header(user: str, password: str) -> str:
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return f"Authorization: Basic {token}"


def charge_point_url(base: str, cp_id: str) -> str:
    """``base`` with the charge point id as the last path segment.

    ``{cp_id}`` (or ``{id}``) in ``base`` is replaced; otherwise the id is appended after a slash,
    SteVe's form: ``ws://host:8180/steve/websocket/CentralSystemService/{cp_id}``.
    """
    ident = quote(cp_id, safe="")
    for placeholder in ("{cp_id}", "{charge_point_id}", "{id}"):
        if placeholder in base:
            return base.replace(placeholder, ident)
    return base.rstrip("/") + "/" + ident


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


def connect(
    url: str,
    cp_id: str,
    security: SecurityConfig,
    *,
    timeout: float = 10.0,
    extra_headers: list[str] | None = None,
) -> websocket.WebSocket:
    """Open the WebSocket and check the handshake; raise a :class:`TransportError` subclass.

    The receive timeout is reset to none after the handshake: a charge point waits for the
    CSMS indefinitely and the engine's own per-call timeouts apply.
    """
    headers = [f"Sec-WebSocket-Protocol: {SUBPROTOCOL}"]
    if security.profile in (1, 2) and security.password:
        headers.append(basic_auth_header(cp_id, security.password))
    if extra_headers:
        headers.extend(extra_headers)
    options: dict[str, Any] = {"header": headers, "skip_utf8_validation": True, "enable_multithread": True}
    if url.startswith("wss:"):
        ctx = ssl_context(security.ca_file, security.client_cert, security.client_key, security.verify)
        options["sslopt"] = {"context": ctx}
    try:
        ws = websocket.create_connection(url, timeout=timeout, **options)
    except websocket.WebSocketBadStatusException as exc:
        status = int(getattr(exc, "status_code", 0) or 0)
        if status in (401, 403):
            raise AuthenticationFailed(f"handshake refused: HTTP {status} (credentials rejected)", status) from None
        raise HandshakeRefused(f"handshake refused: HTTP {status}", status) from None
    except ssl.SSLCertVerificationError as exc:
        raise TransportError(f"TLS certificate verification failed: {exc.verify_message}") from None
    except ssl.SSLError as exc:
        raise TransportError(f"TLS error: {exc.reason or _describe(exc)}") from None
    except ConnectionRefusedError:
        raise TransportError("connection refused") from None
    except socket.gaierror as exc:
        raise TransportError(f"host name lookup failed: {_describe(exc)}") from None
    except TimeoutError:
        raise TransportError(f"connect timed out after {timeout:g} s") from None
    except websocket.WebSocketException as exc:
        raise HandshakeRefused(f"WebSocket handshake failed: {_describe(exc)}") from None
    except OSError as exc:
        raise TransportError(f"connection failed: {exc.strerror or _describe(exc)}") from None
    answered = (ws.getheaders() or {}).get("sec-websocket-protocol")
    if not answered or answered.strip().lower() != SUBPROTOCOL:
        _close_quietly(ws)
        what = f"{answered!r}" if answered else "no subprotocol"
        raise SubprotocolMismatch(f"server did not agree to subprotocol {SUBPROTOCOL}: it answered {what}")
    ws.settimeout(None)
    return ws


def _close_quietly(ws: websocket.WebSocket) -> None:
    try:
        ws.close(timeout=1)
    except Exception:
        pass
