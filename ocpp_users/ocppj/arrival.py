"""When an answer arrived: the kernel's receive timestamp of the bytes, not the moment we read them.

A round trip's latency is the CSMS's: from the moment the CALL is handed to the socket to the
moment its answer reached this machine. Timed in user space, the end of that interval is when the
receive greenlet got to read the bytes, so every microsecond the harness's own event loop was busy
elsewhere (other charge points' messages, a Locust stats tick, the process not scheduled on a
loaded machine) is added to the CSMS's latency: the harness would measure itself.

On Linux a TCP socket can carry the time the kernel received each packet to ``recvmsg`` as ancillary
data (``SO_TIMESTAMPNS``, socket(7): "Enable or disable the receiving of the SO_TIMESTAMP control
message [...] with the timestamp of the last received packet", in nanoseconds). The reader asks
for it on plain ``ws://`` sockets; on ``wss://`` (OpenSSL reads the socket itself), on platforms
without it, or when the kernel does not stamp, the arrival is the moment our receive loop read
the bytes. Both are wall-clock nanoseconds (``time.time_ns()``), compared with the send time taken
the same way; :func:`round_trip_ms` never lets a stamp make a round trip longer than the one timed
in user space or shorter than zero (a wall-clock step), falling back to the user-space figure.
"""

from __future__ import annotations

import socket
import struct
import sys
import time
from typing import Any

SO_TIMESTAMPNS: int | None = getattr(socket, "SO_TIMESTAMPNS", 35 if sys.platform.startswith("linux") else None)
"""The option (and its control message type, SCM_TIMESTAMPNS): 35 on Linux's generic socket
constants (x86, arm, arm64, riscv, powerpc, s390); a platform where it differs delivers no
control message of that type and length, and the reader falls back to user-space arrival times."""

ANCILLARY_SIZE = 64
"""Room for one ``struct timespec`` control message (16 bytes and its header)."""

_timespec = struct.Struct("@qq")
_unpack_timespec = _timespec.unpack_from
_SOL_SOCKET = socket.SOL_SOCKET
_time_ns = time.time_ns


def enable(sock: Any) -> bool:
    """Ask the kernel to stamp what ``sock`` receives; False when it cannot (not a plain TCP
    socket of this platform, or the option refused)."""
    if SO_TIMESTAMPNS is None or not hasattr(sock, "recvmsg") or hasattr(sock, "_sslobj"):
        return False
    try:
        sock.setsockopt(_SOL_SOCKET, SO_TIMESTAMPNS, 1)
    except (OSError, AttributeError, TypeError):
        return False
    return True


def stamp(ancillary: list[tuple[int, int, bytes]]) -> int:
    """The kernel's receive time in the control messages of one ``recvmsg`` (wall-clock ns), or
    the time now when there is none."""
    for level, kind, data in ancillary:
        if kind == SO_TIMESTAMPNS and level == _SOL_SOCKET and len(data) == _timespec.size:
            seconds, nanoseconds = _unpack_timespec(data)
            return int(seconds) * 1_000_000_000 + int(nanoseconds)
    return _time_ns()


def round_trip_ms(sent_ns: int, arrived_ns: int, user_ms: float) -> float:
    """The round trip from the send to the arrival, in ms; ``user_ms`` (the same interval timed
    in user space, which ends later) when the arrival is unknown (0) or does not fit in it."""
    if arrived_ns <= 0:
        return user_ms
    kernel_ms = (arrived_ns - sent_ns) / 1e6
    if kernel_ms < 0.0 or kernel_ms > user_ms:
        return user_ms
    return kernel_ms
