"""The latency reference: the same round trip the harness times, taken by (almost) no client.

One blocking connection, no gevent, no engine, no Locust. Each probe writes a pre-built masked text
frame (Heartbeat or MeterValues in turn, as the harness's open loop sends) on the raw socket and
reads the answer with one ``recvmsg()``, at random times (Poisson arrivals at the probe's rate). The
round trip, timed as the harness times its own (``ocpp_users.ocppj.arrival``), runs from just before
the write to the kernel's receive timestamp of the answer (``SO_TIMESTAMPNS``): loopback TCP both
ways, the CSMS's wake-up, queueing and answer. The time until ``recvmsg()`` returned (the same plus
the kernel waking this process) is kept too (``user_latency_s``). It is taken while the harness runs
its step, against the same CSMS process, so the CSMS's load at that step is in both figures once,
and only the client differs. The timestamp is read here with code of its own, not the engine's: a
bug shared by the reference and the harness would hide itself.

A child of :mod:`benchmarks.latency`: ``python -m benchmarks.probe --url ws://127.0.0.1:P/`` prints
``{"ready": true}`` and answers JSON-line commands on stdin:
``{"cmd": "probe", "rate": R, "duration": S, "delay": D}`` waits D seconds, then probes R times a
second on average for S seconds and answers with the round trips' percentiles (seconds).
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


class Probe:
    def __init__(self, url: str) -> None:
        stamp = int(time.time() * 1000) % 100000
        self.ws = websocket.create_connection(
            f"{url.rstrip('/')}/PROBE-{stamp}", header=["Sec-WebSocket-Protocol: ocpp1.6"], skip_utf8_validation=True
        )
        self.ws.settimeout(None)
        self.ws.send(orjson.dumps([2, "boot", "BootNotification", BOOT]), websocket.ABNF.OPCODE_TEXT)
        self.ws.recv()
        self.frames = prebuilt_frames()
        sock = self.ws.sock
        assert sock is not None
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)

    def probe(self, rate: float, duration: float, delay: float = 0.0) -> dict[str, Any]:
        if delay > 0:
            time.sleep(delay)
        sock = self.ws.sock
        if sock is None:
            raise ConnectionError("the probe's connection is closed")
        latencies: list[float] = []
        user_latencies: list[float] = []
        unstamped = 0
        split = 0
        # Poisson arrivals (exponential gaps), not a fixed period: a probe on a fixed period keeps one
        # phase against the harness's sends and the other probe's for the whole step, and samples the
        # CSMS's state at that phase only (two identical probes differed by up to 1.78x that way).
        # Random arrivals see the CSMS's time average.
        draw = random.Random().expovariate
        due = time.monotonic()
        end = due + duration
        k = 0
        while due < end:
            now = time.monotonic()
            if due > now:
                time.sleep(due - now)
            data = self.frames[k % len(self.frames)]
            k += 1
            sent_ns = time.time_ns()
            t0 = time.perf_counter()
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
            user = t1 - t0
            kernel = (arrived_ns - sent_ns) / 1e9
            if not 0.0 <= kernel <= user:  # no stamp, or the wall clock stepped: the user-space figure
                unstamped += 1
                kernel = user
            latencies.append(kernel)
            user_latencies.append(user)
            due += draw(rate)
        return {
            "latency_s": percentiles(latencies),
            "user_latency_s": percentiles(user_latencies),
            "unstamped": unstamped,
            "rate": rate,
            "split_answers": split,
        }

    def close(self) -> None:
        self.ws.close()


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
            if name != "probe":
                raise ValueError(f"unknown command {name!r}")
            answer = probe.probe(**request)
        except Exception as exc:  # report, keep serving: the orchestrator decides
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        out.write(orjson.dumps(answer).decode() + "\n")
        out.flush()
    probe.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
