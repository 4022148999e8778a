"""The latency reference: the same round trip the harness times, taken by (almost) no client.

One blocking connection, no gevent, no engine, no Locust. Each probe writes a pre-built masked text
frame (Heartbeat or MeterValues in turn, as the harness's open loop sends) on the raw socket and
reads the answer with one ``recv()``; the time between the two calls is the round trip: loopback
TCP both ways, the CSMS's wake-up, queueing and answer, and the kernel waking this process. It is
taken while the harness runs its step, against the same CSMS process, so the CSMS's load at that
step is in both figures once, and only the client differs.

A child of :mod:`benchmarks.latency`: ``python -m benchmarks.probe --url ws://127.0.0.1:P/`` prints
``{"ready": true}`` and answers JSON-line commands on stdin:
``{"cmd": "probe", "rate": R, "duration": S, "delay": D}`` waits D seconds, then probes R times a
second for S seconds and answers with the round trips' percentiles (seconds).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import orjson
import websocket

from benchmarks.messages import BOOT, MESSAGES
from benchmarks.procutil import percentiles

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

    def probe(self, rate: float, duration: float, delay: float = 0.0) -> dict[str, Any]:
        if delay > 0:
            time.sleep(delay)
        sock = self.ws.sock
        if sock is None:
            raise ConnectionError("the probe's connection is closed")
        latencies: list[float] = []
        split = 0
        interval = 1.0 / rate
        due = time.monotonic()
        end = due + duration
        k = 0
        while due < end:
            now = time.monotonic()
            if due > now:
                time.sleep(due - now)
            data = self.frames[k % len(self.frames)]
            k += 1
            t0 = time.perf_counter()
            sock.sendall(data)
            answer = sock.recv(65536)
            t1 = time.perf_counter()
            # A whole answer in one read is the common case against a fast CSMS; otherwise read
            # the rest (the time to the first byte is kept: the answer had started arriving).
            while len(answer) < 2 or len(answer) < 2 + (answer[1] & 0x7F):
                split += 1
                more = sock.recv(65536)
                if not more:
                    raise ConnectionError("the CSMS closed the probe's connection")
                answer += more
            latencies.append(t1 - t0)
            due += interval
        return {"latency_s": percentiles(latencies), "rate": rate, "split_answers": split}

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
