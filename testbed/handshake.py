"""Pure helpers for the WebSocket opening handshake: charge point id and Basic auth."""

from __future__ import annotations

import base64
import binascii
import hmac
from urllib.parse import unquote


def charge_point_id(target: str) -> str | None:
    """Last non-empty path segment of the request target, URL-decoded (query ignored)."""
    path = target.split("?", 1)[0].split("#", 1)[0]
    segments = [s for s in path.split("/") if s]
    if not segments:
        return None
    cp_id = unquote(segments[-1], errors="replace")
    return cp_id if cp_id.strip() else None


def basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """(user, password) from an ``Authorization: Basic ...`` header value, or None."""
    if not authorization:
        return None
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


def basic_credentials_raw(authorization: str | None) -> tuple[str, bytes] | None:
    """(user, password bytes) from an ``Authorization: Basic ...`` header value, or None: the
    whitepaper's AuthorizationKey may hold any bytes."""
    if not authorization:
        return None
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    user, sep, password = decoded.partition(b":")
    return (user.decode("utf-8", "replace"), password) if sep else None


def credentials_ok(credentials: tuple[str, str] | None, cp_id: str, password: str) -> bool:
    if credentials is None:
        return False
    user, given = credentials
    return user == cp_id and hmac.compare_digest(given.encode("utf-8"), password.encode("utf-8"))
