"""A minimal, fast OCPP 1.6J CSMS for the benchmarks: benchmark infrastructure, not an oracle.

Raw asyncio protocol (no websockets library): hand-rolled RFC 6455 handshake and framing, canned
orjson answers for the charge-point-initiated calls. It exists so that the charge point harness,
not the CSMS, is what runs out first; the reference CSMS (``python -m testbed``) stays the oracle.

Run as ``python -m benchmarks.fastcsms --listen 127.0.0.1:0 [--listen 127.0.0.2:0] ...``. It
prints ``fastcsms: listening on ws://HOST:PORT/`` per address, then ``fastcsms: ready``, and takes
JSON-line commands on stdin (one JSON-line answer on stdout each):
``stats``, ``reset``, ``latency`` (receive-to-send percentiles since the last reset), ``quit``.
Loopback addresses only.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import ipaddress
import itertools
import resource
import sys
import threading
import time
from array import array
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import orjson

from benchmarks.common import Parser
from benchmarks.procutil import percentiles, raise_nofile, rss_kib

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_MAX_HEADER = 8192
_MAX_LAT_SAMPLES = 2_000_000


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class Clock:
    """``currentTime`` strings, rebuilt at most once per second."""

    def __init__(self) -> None:
        self._second = -1
        self._text = ""

    def now(self) -> str:
        second = int(time.time())
        if second != self._second:
            self._second = second
            self._text = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        return self._text


class Stats:
    """Counters for the whole process; read and reset through the stdin control channel."""

    def __init__(self) -> None:
        self.open = 0
        self.handshakes = 0
        self.closed = 0
        self.calls: Counter[str] = Counter()
        self.heartbeat_cps: set[str] = set()
        self.booted_cps: set[str] = set()
        self.ever_booted: set[str] = set()
        """Charge point ids that sent a BootNotification since the start (not cleared by a reset)."""
        self.per_second: Counter[int] = Counter()
        self.latency = array("d")
        """Receive-to-send seconds of each CALL answered since the last reset."""
        self.since = time.monotonic()

    def reset(self) -> None:
        self.calls.clear()
        self.heartbeat_cps.clear()
        self.booted_cps.clear()
        self.per_second.clear()
        self.latency = array("d")
        self.since = time.monotonic()


class OcppServerProtocol(asyncio.Protocol):
    """One charge point connection: HTTP upgrade, then text frames in, canned CALLRESULTs out."""

    __slots__ = ("_buf", "_cp_id", "_frags", "_server", "_transport", "_upgraded")

    def __init__(self, server: FastCsms) -> None:
        self._server = server
        self._transport: asyncio.Transport | None = None
        self._buf = bytearray()
        self._upgraded = False
        self._cp_id = ""
        self._frags: bytearray | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]  # a stream transport (asyncio or uvloop)
        self._server.stats.open += 1
        self._server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._server.stats.open -= 1
        self._server.stats.closed += 1
        self._server.connections.discard(self)
        self._transport = None

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    def data_received(self, data: bytes) -> None:
        started = time.perf_counter()
        buf = self._buf
        buf += data
        if not self._upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                if len(buf) > _MAX_HEADER:
                    self._refuse(b"431 Request Header Fields Too Large")
                return
            head = bytes(buf[: end + 4])
            del buf[: end + 4]
            if not self._handshake(head):
                return
        self._frames(started)

    # ------------------------------------------------------------ handshake

    def _refuse(self, status: bytes) -> None:
        assert self._transport is not None
        self._transport.write(b"HTTP/1.1 " + status + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        self._transport.close()
        self._buf.clear()

    def _handshake(self, head: bytes) -> bool:
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ")
        if len(parts) < 3 or parts[0] != b"GET":
            self._refuse(b"400 Bad Request")
            return False
        headers: dict[bytes, bytes] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        key = headers.get(b"sec-websocket-key")
        protocols = [p.strip() for p in headers.get(b"sec-websocket-protocol", b"").split(b",")]
        cp_id = parts[1].rstrip(b"/").rsplit(b"/", 1)[-1].decode("utf-8", "replace")
        if key is None or not cp_id:
            self._refuse(b"400 Bad Request")
            return False
        if b"ocpp1.6" not in protocols:
            self._refuse(b"400 Bad Request")
            return False
        accept = base64.b64encode(hashlib.sha1(key + _GUID).digest())
        assert self._transport is not None
        self._transport.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept + b"\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n"
        )
        self._upgraded = True
        self._cp_id = cp_id
        self._server.stats.handshakes += 1
        return True

    # ------------------------------------------------------------ frames

    def _frames(self, started: float) -> None:
        buf = self._buf
        while True:
            n = len(buf)
            if n < 2:
                return
            b0 = buf[0]
            b1 = buf[1]
            length = b1 & 0x7F
            pos = 2
            if length == 126:
                if n < 4:
                    return
                length = int.from_bytes(buf[2:4], "big")
                pos = 4
            elif length == 127:
                if n < 10:
                    return
                length = int.from_bytes(buf[2:10], "big")
                pos = 10
            masked = b1 & 0x80
            if masked:
                pos += 4
            if n < pos + length:
                return
            payload = bytes(buf[pos : pos + length])
            if masked:
                mask = bytes(buf[pos - 4 : pos])
                payload = _unmask(payload, mask)
            del buf[: pos + length]
            opcode = b0 & 0x0F
            fin = b0 & 0x80
            if opcode == 0x1 or opcode == 0x2 or opcode == 0x0:
                if not fin:
                    if self._frags is None:
                        self._frags = bytearray()
                    self._frags += payload
                    continue
                if self._frags is not None:
                    self._frags += payload
                    payload = bytes(self._frags)
                    self._frags = None
                self._message(payload, started)
            elif opcode == 0x8:
                self._send_frame(0x88, payload[:2])
                if self._transport is not None:
                    self._transport.close()
                return
            elif opcode == 0x9:
                self._send_frame(0x8A, payload)

    def _send_frame(self, b0: int, payload: bytes) -> None:
        transport = self._transport
        if transport is None:
            return
        n = len(payload)
        if n < 126:
            header = bytes((b0, n))
        elif n < 65536:
            header = bytes((b0, 126)) + n.to_bytes(2, "big")
        else:
            header = bytes((b0, 127)) + n.to_bytes(8, "big")
        transport.write(header + payload)

    def _message(self, payload: bytes, started: float) -> None:
        server = self._server
        try:
            frame = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return
        if not isinstance(frame, list) or len(frame) != 4 or frame[0] != 2:
            return  # CALLRESULT/CALLERROR to nothing we sent, or garbage: ignored
        message_id = frame[1]
        action = frame[2]
        answer = server.answer(self._cp_id, action, frame[3])
        raw = orjson.dumps([3, message_id, answer])
        stats = server.stats
        stats.calls[action] += 1
        stats.per_second[int(time.monotonic())] += 1
        if server.delay > 0:
            asyncio.get_running_loop().call_later(server.delay, self._send_later, raw, started)
            return
        self._send_frame(0x81, raw)
        if len(stats.latency) < _MAX_LAT_SAMPLES:
            stats.latency.append(time.perf_counter() - started)

    def _send_later(self, raw: bytes, started: float) -> None:
        self._send_frame(0x81, raw)
        stats = self._server.stats
        if len(stats.latency) < _MAX_LAT_SAMPLES:
            stats.latency.append(time.perf_counter() - started)


def _unmask(payload: bytes, mask: bytes) -> bytes:
    n = len(payload)
    if n == 0:
        return payload
    key = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(key, "little")).to_bytes(n, "little")


class FastCsms:
    """Canned answers for every charge-point-initiated OCPP 1.6 call."""

    def __init__(self, heartbeat_interval: int, delay: float = 0.0) -> None:
        self.heartbeat_interval = heartbeat_interval
        self.delay = delay
        """Seconds to hold each answer (0: answer at once), to give the harness a known latency."""
        self.stats = Stats()
        self.clock = Clock()
        self.connections: set[OcppServerProtocol] = set()
        self.servers: list[asyncio.Server] = []
        self._tx = itertools.count(1)
        self.loop_lag = array("d")

    def answer(self, cp_id: str, action: str, payload: Any) -> dict[str, Any]:
        if action == "Heartbeat":
            self.stats.heartbeat_cps.add(cp_id)
            return {"currentTime": self.clock.now()}
        if action == "BootNotification":
            self.stats.booted_cps.add(cp_id)
            self.stats.ever_booted.add(cp_id)
            return {"status": "Accepted", "currentTime": self.clock.now(), "interval": self.heartbeat_interval}
        if action in ("Authorize",):
            return {"idTagInfo": {"status": "Accepted"}}
        if action == "StartTransaction":
            return {"transactionId": next(self._tx), "idTagInfo": {"status": "Accepted"}}
        if action == "StopTransaction":
            return {"idTagInfo": {"status": "Accepted"}} if isinstance(payload, dict) and "idTag" in payload else {}
        if action == "DataTransfer":
            return {"status": "Accepted"}
        return {}  # StatusNotification, MeterValues, *StatusNotification: empty confirmations

    async def listen(self, host: str, port: int) -> int:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: OcppServerProtocol(self), host, port, backlog=4096)
        self.servers.append(server)
        return int(server.sockets[0].getsockname()[1])

    async def sample_loop_lag(self, period: float = 0.05) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(period)
            lag = time.perf_counter() - before - period
            if len(self.loop_lag) < 100_000:
                self.loop_lag.append(max(lag, 0.0))

    def command(self, cmd: dict[str, Any]) -> dict[str, Any]:
        name = cmd.get("cmd")
        stats = self.stats
        if name == "reset":
            stats.reset()
            self.loop_lag = array("d")
            return {"ok": True}
        if name == "stats":
            usage = resource.getrusage(resource.RUSAGE_SELF)
            return {
                "open": stats.open,
                "handshakes": stats.handshakes,
                "closed": stats.closed,
                "calls": dict(stats.calls),
                "heartbeat_cps": len(stats.heartbeat_cps),
                "booted_cps": len(stats.booted_cps),
                "booted_total": len(stats.ever_booted),
                "per_second": sorted(stats.per_second.items()),
                "cpu_s": usage.ru_utime + usage.ru_stime,
                "maxrss_kib": usage.ru_maxrss,
                "rss_kib": rss_kib(),
                "since": time.monotonic() - stats.since,
            }
        if name == "latency":
            return {"recv_to_send_s": percentiles(stats.latency), "loop_lag_s": percentiles(self.loop_lag)}
        if name == "drop":
            for conn in list(self.connections):
                conn.abort()
            return {"ok": True}
        return {"error": f"unknown command {name!r}"}


def _finish(done: asyncio.Future[None]) -> None:
    if not done.done():
        done.set_result(None)


def _control(loop: asyncio.AbstractEventLoop, csms: FastCsms, done: asyncio.Future[None]) -> None:
    """Read JSON-line commands on stdin (a thread); answer on stdout from the event loop."""
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            cmd = orjson.loads(line)
        except orjson.JSONDecodeError:
            cmd = {"cmd": None}
        if cmd.get("cmd") == "quit":
            break

        async def run(c: dict[str, Any] = cmd) -> dict[str, Any]:
            return csms.command(c)

        answer = asyncio.run_coroutine_threadsafe(run(), loop).result()
        sys.stdout.write(orjson.dumps(answer).decode() + "\n")
        sys.stdout.flush()
    loop.call_soon_threadsafe(_finish, done)


async def _main(args: argparse.Namespace) -> int:
    csms = FastCsms(args.heartbeat_interval, args.delay_ms / 1000.0)
    for spec in args.listen:
        host, _, port = spec.rpartition(":")
        bound = await csms.listen(host, int(port))
        print(f"fastcsms: listening on ws://{host}:{bound}/", flush=True)
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    lag = asyncio.create_task(csms.sample_loop_lag())
    threading.Thread(target=_control, args=(loop, csms, done), daemon=True).start()
    print("fastcsms: ready", flush=True)
    try:
        await asyncio.wait_for(done, timeout=args.max_seconds)
    except TimeoutError:
        print("fastcsms: --max-seconds reached, stopping", file=sys.stderr, flush=True)
    lag.cancel()
    for server in csms.servers:
        server.close()
    for conn in list(csms.connections):
        conn.abort()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m benchmarks.fastcsms", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--listen", action="append", default=[], metavar="HOST:PORT", help="loopback address")
    parser.add_argument("--heartbeat-interval", type=int, default=60)
    parser.add_argument("--delay-ms", type=float, default=0.0, help="hold every answer this long")
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio", help="event loop")
    parser.add_argument("--max-seconds", type=float, default=3600.0, help="stop by itself after this long")
    args = parser.parse_args(argv)
    if not args.listen:
        args.listen = ["127.0.0.1:0"]
    for spec in args.listen:
        host, sep, port = spec.rpartition(":")
        if not sep or not port.isdigit() or not _loopback(host):
            parser.error(f"--listen {spec!r}: a loopback HOST:PORT is required")
    raise_nofile()
    if args.loop == "uvloop":
        try:
            import uvloop
        except ImportError:
            parser.error("--loop uvloop: uvloop is not installed (pip install uvloop)")
        return uvloop.run(_main(args))
    return asyncio.run(_main(args))


if __name__ == "__main__":
    sys.exit(main())
