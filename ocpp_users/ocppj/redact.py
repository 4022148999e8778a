"""Secrets out of what the fleet prints: a CSMS URL may carry Basic auth credentials."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

MASK = "***"
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^:/@\s]*):[^@/\s]*@")


def redact_url(url: str) -> str:
    """``url`` with the password of its ``user:password@`` replaced by ``***`` (unchanged otherwise)."""
    if not url or "@" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. a bad IPv6 literal: fall back to the pattern
        return _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.split(":", 1)[0]
    return urlunsplit((parts.scheme, f"{user}:{MASK}@{hostport}", parts.path, parts.query, parts.fragment))
