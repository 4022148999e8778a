"""WebSocket frames built by hand (RFC 6455 §5.2), for the faults that break the framing itself.

The ``websockets`` library only writes correct frames. A hostile CSMS masks its frames (§5.1: a
server "MUST NOT mask"), sets reserved bits without an extension (§5.2: "MUST be 0"), or sends a
header announcing more bytes than it will ever send. These helpers write such bytes straight to
the connection's transport, past the library.
"""

from __future__ import annotations

import os
import struct

TEXT = 0x1
BINARY = 0x2


def header(opcode: int, length: int, *, fin: bool = True, rsv: int = 0, masked: bool = False) -> bytes:
    """A frame header announcing ``length`` payload bytes (7-, 16- or 64-bit length field)."""
    b0 = (0x80 if fin else 0) | (rsv & 0x70) | (opcode & 0x0F)
    mask_bit = 0x80 if masked else 0
    if length < 126:
        return bytes((b0, mask_bit | length))
    if length < 65536:
        return struct.pack("!BBH", b0, mask_bit | 126, length)
    return struct.pack("!BBQ", b0, mask_bit | 127, length)


def frame(opcode: int, payload: bytes, *, rsv: int = 0, masked: bool = False) -> bytes:
    """One final frame; ``masked`` applies a random masking key (§5.3) as only a client may."""
    head = header(opcode, len(payload), rsv=rsv, masked=masked)
    if not masked:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))
