"""The floors for this stack: a closed loop with no engine RPC, no validation and no Locust, on
orjson (+ gevent for many connections), in one of two framings:

* ``--framing websocket-client`` (default): websocket-client's own per-frame path,
  ``ws.send(text)`` and ``ws.recv_data()``;
* ``--framing engine``: the engine's own frame path (``send_text`` and ``FrameReader`` of
  ``ocpp_users/ocppj/transport.py``, through :mod:`benchmarks.engine`), which the engine has used
  instead of websocket-client's since it was optimised; the handshake is the engine's ``connect``.

Sends the same messages as the harness's closed loop and counts round trips per CPU-second of
this process.

``python -m benchmarks.rawloop --url ws://127.0.0.1:P/ [--framing F] [--connections N] [--duration S]
[--blocking]`` prints one JSON line. ``--blocking`` uses one plain blocking connection and no gevent
at all (websocket-client framing only).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from typing import Any


def _options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.rawloop")
    parser.add_argument("--url", required=True)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--blocking", action="store_true", help="one blocking connection, no gevent")
    parser.add_argument("--framing", choices=("websocket-client", "engine"), default="websocket-client")
    args = parser.parse_args()
    if args.blocking and args.framing != "websocket-client":
        parser.error("--blocking measures websocket-client's framing only")
    return args


def main() -> int:
    args = _options()
    if not args.blocking:
        from gevent import monkey

        monkey.patch_all()
    import orjson
    import websocket

    from benchmarks.messages import BOOT, MESSAGES
    from benchmarks.procutil import cpu_s, raise_nofile

    raise_nofile()
    stamp = int(time.time() * 1000) % 100000

    engine = args.framing == "engine"
    if engine:
        from benchmarks.engine import FrameReader, SecurityConfig, send_text, ws_connect

    def connect(i: int) -> Any:
        url = f"{args.url.rstrip('/')}/RAW{i:05d}-{stamp}"
        if engine:
            ws = ws_connect(url, "", SecurityConfig())
        else:
            ws = websocket.create_connection(url, header=["Sec-WebSocket-Protocol: ocpp1.6"], skip_utf8_validation=True)
            ws.settimeout(None)
        ws.send(orjson.dumps([2, "boot", "BootNotification", BOOT]), websocket.ABNF.OPCODE_TEXT)
        orjson.loads(ws.recv())
        return ws

    state = {"running": True}

    def loop(index: int, ws: Any, counts: list[int]) -> None:
        k = index
        n = 0
        text = websocket.ABNF.OPCODE_TEXT
        while state["running"]:
            action, payload = MESSAGES[k % len(MESSAGES)]
            k += 1
            message_id = str(k)
            ws.send(orjson.dumps([2, message_id, action, payload]), text)
            frame = orjson.loads(ws.recv_data()[1])
            if frame[0] == 3 and frame[1] == message_id:
                n += 1
                counts[index] = n

    def engine_loop(index: int, ws: Any, counts: list[int]) -> None:
        """The same loop on the engine's framing: one masked send per frame, one buffered reader."""
        k = index
        n = 0
        reader = FrameReader(ws)
        while state["running"]:
            action, payload = MESSAGES[k % len(MESSAGES)]
            k += 1
            message_id = str(k)
            send_text(ws, orjson.dumps([2, message_id, action, payload]))
            frame = orjson.loads(reader.next()[1])
            if frame[0] == 3 and frame[1] == message_id:
                n += 1
                counts[index] = n

    if args.blocking:
        import threading

        ws = connect(0)
        counts = [0]
        thread = threading.Thread(target=loop, args=(0, ws, counts), daemon=True)
        thread.start()
        time.sleep(args.warmup)
        n0, t0, c0, r0 = counts[0], time.monotonic(), cpu_s(), resource.getrusage(resource.RUSAGE_SELF)
        time.sleep(args.duration)
        n1, t1, c1, r1 = counts[0], time.monotonic(), cpu_s(), resource.getrusage(resource.RUSAGE_SELF)
        state["running"] = False
        thread.join(10)
        sockets = [ws]
    else:
        import gevent

        sockets = [connect(i) for i in range(args.connections)]
        counts = [0] * len(sockets)
        body = engine_loop if engine else loop
        greenlets = [gevent.spawn(body, i, ws, counts) for i, ws in enumerate(sockets)]
        gevent.sleep(args.warmup)
        n0, t0, c0, r0 = sum(counts), time.monotonic(), cpu_s(), resource.getrusage(resource.RUSAGE_SELF)
        gevent.sleep(args.duration)
        n1, t1, c1, r1 = sum(counts), time.monotonic(), cpu_s(), resource.getrusage(resource.RUSAGE_SELF)
        state["running"] = False
        gevent.joinall(greenlets, timeout=10)
    for ws in sockets:
        ws.close()
    result = {
        "roundtrips": n1 - n0,
        "wall_s": t1 - t0,
        "cpu_s": c1 - c0,
        "roundtrips_per_cpu_s": (n1 - n0) / (c1 - c0) if c1 > c0 else 0.0,
        "roundtrips_per_s": (n1 - n0) / (t1 - t0),
        "connections": len(sockets),
        "blocking": args.blocking,
        "framing": args.framing,
        "user_s": r1.ru_utime - r0.ru_utime,
        "sys_s": r1.ru_stime - r0.ru_stime,
    }
    print(orjson.dumps(result).decode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
