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
the same way; :func:`round_trip_ms` falls back to the user-space figure when a stamp does not fit
inside the call or the wall clock stepped meanwhile.

The stamp is that of the last packet the read returned. One answer is one small frame, and it
usually arrives alone; when a read returns bytes beyond the answer (the CSMS's next message came
with it), the packets may have been merged in the kernel with the later one's time (a lost and
resent answer overtaken by what followed it), so the reader then uses the time it read them
instead (see ``FrameReader``). An answer split over several packets, one of them lost and resent,
can still carry the time of its last packet in sequence rather than the resent one's: a limit.
"""

from __future__ import annotations

import platform
import socket
import struct
import sys
import time
from typing import Any

_GENERIC_LINUX = {"x86_64", "amd64", "i386", "i686", "aarch64", "arm64", "armv7l", "armv8l", "riscv64", "s390x"}
"""Architectures whose Linux socket constants are the generic ones (asm-generic/socket.h)."""

SO_TIMESTAMPNS: int | None = getattr(
    socket,
    "SO_TIMESTAMPNS",
    35 if sys.platform.startswith("linux") and platform.machine().lower() in _GENERIC_LINUX else None,
)
"""The option (and its control message type, SCM_TIMESTAMPNS): 35 in Linux's generic socket
constants. Elsewhere (another kernel, or an architecture with constants of its own such as sparc,
mips, parisc, alpha, powerpc) it is not asked for, and arrival times are taken in user space."""

ANCILLARY_SIZE = 64
"""Room for one ``struct timespec`` control message (16 bytes and its header)."""

TIMESPEC = struct.Struct("@qq")
"""The control message's data: a ``struct timespec`` (seconds, nanoseconds) of 64-bit fields."""
_unpack_timespec = TIMESPEC.unpack_from
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
        if kind == SO_TIMESTAMPNS and level == _SOL_SOCKET and len(data) == TIMESPEC.size:
            seconds, nanoseconds = _unpack_timespec(data)
            return int(seconds) * 1_000_000_000 + int(nanoseconds)
    return _time_ns()


CLOCK_SLACK_MS = 1.0
"""How far the wall clock may disagree with the monotonic one over a call before a step of the
wall clock (NTP, an operator) is assumed and its arrival time is not used."""


def round_trip_ms(sent_ns: int, arrived_ns: int, user_ms: float, woken_ns: int) -> float:
    """The round trip from the send (``sent_ns``, wall clock) to the arrival, in ms.

    ``user_ms`` is the same call timed on the monotonic clock until the caller had its answer, and
    ``woken_ns`` the wall clock then. The user-space figure is returned when the arrival is unknown
    (0), when it does not fall inside the call, or when the wall clock stepped during the call (its
    interval and the monotonic one differ by more than :data:`CLOCK_SLACK_MS`)."""
    if arrived_ns <= 0:
        return user_ms
    if abs((woken_ns - sent_ns) / 1e6 - user_ms) > CLOCK_SLACK_MS:
        return user_ms
    kernel_ms = (arrived_ns - sent_ns) / 1e6
    if kernel_ms < 0.0 or kernel_ms > user_ms:
        return user_ms
    return kernel_ms
