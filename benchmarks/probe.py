"""The latency reference: the same round trip the harness times, taken by (almost) no client.

Blocking connections, no gevent, no engine, no Locust. Each probe writes a pre-built masked text
frame (Heartbeat or MeterValues in turn, as the harness's open loop sends) on the raw socket and
reads the answer with one ``recvmsg()``, at random times (Poisson arrivals at the probe's rate). The
round trip, timed as the harness times its own (``ocpp_users.ocppj.arrival``), runs from just before
the write to the kernel's receive timestamp of the answer (``SO_TIMESTAMPNS``): loopback TCP both
ways, the CSMS's wake-up, queueing and answer. The time until ``recvmsg()`` returned (the same plus
the kernel waking this process) is kept too (``user_latency_s``). It is taken while the harness runs
its step, against the same CSMS process, so the CSMS's load at that step is in both figures once,
and only the client differs. The timestamp is read here with code of its own, not the engine's: a
bug shared by the reference and the harness would hide itself.

Which connection: given a pool (``connections``), each probe goes, at random, either on one of the
pool's connections (``pool_share`` of the probes, ``latency_s``: the reference) or on the probe's one
connection (the rest, ``one_connection``). :func:`benchmarks.latency.probe_connections` sizes the
pool so that each of its connections speaks as often as one of the harness's charge points, as a
CSMS serving a fleet sees them (a connection quiet for seconds may cost more to serve than one that
spoke 5 ms ago: the caches).

A child of :mod:`benchmarks.latency`: ``python -m benchmarks.probe --url ws://127.0.0.1:P/`` prints
``{"ready": true}`` and answers JSON-line commands on stdin:
``{"cmd": "pool", "count": K}`` opens a pool of K more connections;
``{"cmd": "probe", "rate": R, "duration": S, "delay": D, "connections": K, "pool_share": F}`` waits D
seconds, then probes R times a second on average for S seconds (on the first K of the pool, see
above) and answers with the round trips' percentiles (seconds).
"""

from __future__ import annotations

import argparse
import random
import socket
import struct
import sys
import time
from typing import Any

import orjson
import websocket

from benchmarks.messages import BOOT, MESSAGES
from benchmarks.procutil import percentiles

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
"""Linux's receive-timestamp option (its control message has the same number)."""

PROBED = ("Heartbeat", "MeterValues")
"""What the harness's open loop sends, alternating by charge point."""


def prebuilt_frames() -> list[bytes]:
    """One masked text frame per probed message (a client must mask; RFC 6455 §5.3)."""
    frames = []
    for k, (action, payload) in enumerate(m for m in MESSAGES if m[0] in PROBED):
        body = orjson.dumps([2, f"p{k}", action, payload])
        frames.append(websocket.ABNF.create_frame(body, websocket.ABNF.OPCODE_TEXT).format())
    return frames


def _is_answer(data: bytes) -> bool:
    """Whether ``data`` starts a final text frame holding a CALLRESULT or CALLERROR (``[3,``/``[4,``):
    a close frame, a ping or a CSMS's own CALL is no answer to time."""
    if len(data) < 2 or data[0] != 0x81 or data[1] & 0x80:  # FIN + text, unmasked (RFC 6455 §5.1)
        return False
    start = 4 if data[1] & 0x7F == 126 else 10 if data[1] & 0x7F == 127 else 2
    return data[start : start + 2] in (b"[3", b"[4")


class Probe:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.names: list[str] = []
        """Each connection's charge point id: the one connection's first, then the pool's in order."""
        self.ws = self._connect()
        self.pool: list[websocket.WebSocket] = []
        """Further connections, opened ahead of the steps (:meth:`open_pool`)."""
        self.frames = prebuilt_frames()

    def _connect(self) -> websocket.WebSocket:
        """One booted connection whose answers the kernel stamps."""
        name = f"PROBE-{int(time.time() * 1000) % 100000}-{random.randrange(10**6)}"
        ws = websocket.create_connection(
            f"{self.url}/{name}", header=["Sec-WebSocket-Protocol: ocpp1.6"], skip_utf8_validation=True
        )
        ws.settimeout(None)
        ws.send(orjson.dumps([2, "boot", "BootNotification", BOOT]), websocket.ABNF.OPCODE_TEXT)
        ws.recv()
        sock = ws.sock
        assert sock is not None
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.names.append(name)
        return ws

    def open_pool(self, count: int) -> dict[str, Any]:
        """Open further connections until the pool holds ``count`` (before the timed steps:
        connecting is no part of any)."""
        while len(self.pool) < count:
            self.pool.append(self._connect())
        return {"pool": len(self.pool)}

    def probe(
        self, rate: float, duration: float, delay: float = 0.0, connections: int = 0, pool_share: float = 0.75
    ) -> dict[str, Any]:
        """Probe ``rate`` times a second on average for ``duration`` seconds. With ``connections``
        (the first that many of the pool, opened by :meth:`open_pool`), each probe goes at random
        on one of them (``pool_share`` of the probes: ``latency_s``) or on the one connection (the
        rest: ``one_connection``); without, every probe goes on the one connection (``latency_s``)."""
        if connections > len(self.pool):
            raise ValueError(f"{connections} pool connections asked, {len(self.pool)} open: open_pool first")
        if not 0.0 < pool_share <= 1.0:
            raise ValueError(f"pool_share {pool_share!r}: above 0, at most 1")
        socks = [ws.sock for ws in (self.ws, *self.pool[:connections])]
        live = [sock for sock in socks if sock is not None]
        if len(live) != len(socks):
            raise ConnectionError("a probe connection is closed")
        one, pool = live[0], live[1:]
        if delay > 0:
            time.sleep(delay)
        samples: dict[bool, tuple[list[float], list[float]]] = {False: ([], []), True: ([], [])}
        """Round trips (kernel, user) by whether they went on the one connection while there is a
        pool (True) or not (False: the pool's, or the one connection's when there is no pool)."""
        unstamped = 0
        split = 0
        # Poisson arrivals (exponential gaps), not a fixed period: a probe on a fixed period keeps one
        # phase against the harness's sends and the other probe's for the whole step, and samples the
        # CSMS's state at that phase only (two identical probes differed by up to 1.78x that way).
        # Random arrivals see the CSMS's time average.
        rng = random.Random()
        draw = rng.expovariate
        due = time.monotonic()
        end = due + duration
        k = 0
        while due < end:
            now = time.monotonic()
            if due > now:
                time.sleep(due - now)
            on_one = not pool or rng.random() >= pool_share
            sock = one if on_one else pool[rng.randrange(len(pool))]
            data = self.frames[k % len(self.frames)]
            k += 1
            # The user-space clock first, as the engine reads them (rpc.py: ``perf_counter`` before
            # ``send_text`` takes its wall-clock time), so the kernel-timed window lies within it.
            t0 = time.perf_counter()
            sent_ns = time.time_ns()
            sock.sendall(data)
            answer, ancillary, _flags, _address = sock.recvmsg(65536, 64)
            t1 = time.perf_counter()
            arrived_ns = 0
            for level, kind, raw in ancillary:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(raw) == 16:
                    seconds, nanoseconds = struct.unpack("@qq", raw)
                    arrived_ns = seconds * 1_000_000_000 + nanoseconds
            # A whole answer in one read is the common case against a fast CSMS; otherwise read
            # the rest (the time to the first byte is kept: the answer had started arriving).
            while len(answer) < 2 or len(answer) < 2 + (answer[1] & 0x7F):
                split += 1
                more = sock.recv(65536)
                if not more:
                    raise ConnectionError("the CSMS closed the probe's connection")
                answer += more
            if not _is_answer(answer):
                raise ConnectionError(f"the CSMS sent something other than an answer: {answer[:16]!r}")
            user = t1 - t0
            kernel = (arrived_ns - sent_ns) / 1e9
            if not 0.0 <= kernel <= user:  # no stamp, or the wall clock stepped: the user-space figure
                unstamped += 1
                kernel = user
            latencies, user_latencies = samples[on_one and bool(pool)]
            latencies.append(kernel)
            user_latencies.append(user)
            due += draw(rate)
        result: dict[str, Any] = {
            "latency_s": percentiles(samples[False][0]),
            "user_latency_s": percentiles(samples[False][1]),
            "unstamped": unstamped,
            "rate": rate,
            "pool_connections": len(pool),
            "split_answers": split,
        }
        if pool:
            result["one_connection"] = {
                "latency_s": percentiles(samples[True][0]),
                "user_latency_s": percentiles(samples[True][1]),
            }
        return result

    def close(self) -> None:
        for ws in (self.ws, *self.pool):
            ws.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.probe")
    parser.add_argument("--url", required=True)
    args = parser.parse_args(argv)
    probe = Probe(args.url)
    out = sys.stdout
    out.write('{"ready": true}\n')
    out.flush()
    for line in sys.stdin:
        if not line.strip():
            continue
        request = orjson.loads(line)
        name = request.pop("cmd")
        if name == "quit":
            break
        try:
            if name == "probe":
                answer = probe.probe(**request)
            elif name == "pool":
                answer = probe.open_pool(**request)
            else:
                raise ValueError(f"unknown command {name!r}")
        except Exception as exc:  # report, keep serving: the orchestrator decides
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        out.write(orjson.dumps(answer).decode() + "\n")
        out.flush()
    probe.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
