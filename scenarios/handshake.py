"""Why the WebSocket upgrade failed, in words a CSMS operator can act on.

OCPP-J 1.6 §3.1.2: the charge point offers the subprotocol ``ocpp1.6`` and the Central System
"SHALL" agree to it. A CSMS that only speaks another OCPP version either answers the upgrade
with HTTP 400 (most servers: no common subprotocol) or upgrades with another subprotocol, or
with none. To say which subprotocols each side offered, the Tool tries one more handshake
offering the other OCPP subprotocols as well and reports the one the CSMS picks (the connection
is closed at once, before any OCPP message).
"""

from __future__ import annotations

import re

from ocpp_users.ocppj.errors import AuthenticationFailed, HandshakeRefused, SubprotocolMismatch, TransportError
from ocpp_users.ocppj.transport import SecurityConfig, connect
from ocpp_users.v16.protocol import VERSION

SUBPROTOCOL = VERSION.subprotocol

#: Other OCPP subprotocols (OCPP-J 2.0.1 part 4 §3.1.2 names, and older 1.x ones).
OTHER_SUBPROTOCOLS: tuple[str, ...] = ("ocpp2.0.1", "ocpp2.0", "ocpp2.1", "ocpp1.5", "ocpp1.2")

_ANSWERED = re.compile(r"answered '([^']*)'")


def offered_by_server(error: SubprotocolMismatch) -> str | None:
    """The subprotocol a server upgraded with, from the engine's error ("... it answered 'x'")."""
    found = _ANSWERED.search(error.reason)
    return found.group(1) if found else None


def explain(url: str, cp_id: str, security: SecurityConfig, timeout: float, error: TransportError) -> str:
    """The error's reason, and for a subprotocol problem (or a bare HTTP 400) which subprotocols
    each side offered."""
    ours = f"the Tool offered {SUBPROTOCOL}"
    if isinstance(error, SubprotocolMismatch):
        theirs = offered_by_server(error)
        said = f"the CSMS upgraded with {theirs}" if theirs else "the CSMS upgraded without a subprotocol"
        return f"{error.reason} (subprotocols: {ours}; {said}; OCPP-J 1.6 needs {SUBPROTOCOL})"
    if not isinstance(error, HandshakeRefused) or isinstance(error, AuthenticationFailed) or error.status != 400:
        return error.reason
    others = ", ".join(OTHER_SUBPROTOCOLS)
    try:
        ws = connect(
            url,
            cp_id,
            security,
            subprotocol=SUBPROTOCOL,
            timeout=timeout,
            extra_headers=[f"Sec-WebSocket-Protocol: {others}"],
        )
    except SubprotocolMismatch as again:
        theirs = offered_by_server(again)
        if theirs:
            return (
                f"{error.reason}: subprotocol mismatch ({ours}; offered {SUBPROTOCOL} and {others}, the CSMS "
                f"accepts {theirs}, not {SUBPROTOCOL})"
            )
        return f"{error.reason} ({ours}; the CSMS agreed to none of {SUBPROTOCOL}, {others})"
    except HandshakeRefused as again:
        return (
            f"{error.reason} ({ours}; offered {others} as well, the CSMS answered HTTP {again.status} again: "
            "it accepts none of them, or the URL path is wrong)"
        )
    except TransportError:
        return error.reason
    try:
        ws.close(timeout=1)
    except Exception:
        pass
    return f"{error.reason} ({ours}; the CSMS upgraded when offered {others} as well: retry may succeed)"
