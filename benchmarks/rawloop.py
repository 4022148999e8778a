"""The floor for this stack: websocket-client + orjson (+ gevent for many connections), no engine,
no Locust. Sends the same messages as the harness's closed loop and counts round trips per
CPU-second of this process.

``python -m benchmarks.rawloop --url ws://127.0.0.1:P/ [--connections N] [--duration S] [--blocking]``
prints one JSON line. ``--blocking`` uses one plain blocking connection and no gevent at all;
``--rate R`` paces one connection at R round trips per second and reports their latencies
(the loopback baseline).
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
    parser.add_argument("--rate", type=float, default=0.0, help="paced: round trips per second on one connection")
    return parser.parse_args()


def main() -> int:
    args = _options()
    if not args.blocking:
        from gevent import monkey

        monkey.patch_all()
    import orjson
    import websocket

    from benchmarks.messages import BOOT, MESSAGES
    from benchmarks.procutil import cpu_s, percentiles, raise_nofile

    raise_nofile()
    stamp = int(time.time() * 1000) % 100000

    def connect(i: int) -> Any:
        ws = websocket.create_connection(
            f"{args.url.rstrip('/')}/RAW{i:05d}-{stamp}",
            header=["Sec-WebSocket-Protocol: ocpp1.6"],
            skip_utf8_validation=True,
        )
        ws.settimeout(None)
        ws.send(orjson.dumps([2, "boot", "BootNotification", BOOT]), websocket.ABNF.OPCODE_TEXT)
        orjson.loads(ws.recv())
        return ws

    state = {"running": True}

    def loop(index: int, ws: Any, counts: list[int]) -> None:
        k = index
        n = 0
        while state["running"]:
            action, payload = MESSAGES[k % len(MESSAGES)]
            k += 1
            message_id = str(k)
            ws.send(orjson.dumps([2, message_id, action, payload]), websocket.ABNF.OPCODE_TEXT)
            frame = orjson.loads(ws.recv_data()[1])
            if frame[0] == 3 and frame[1] == message_id:
                n += 1
                counts[index] = n

    if args.rate > 0:
        # The loopback baseline: the round trip with (almost) no client in it. A pre-built masked
        # frame is written on the raw socket and the answer read with one recv().
        ws = connect(0)
        sock = ws.sock
        latencies = []
        interval = 1.0 / args.rate
        frames = []
        for k, (action, payload) in enumerate(MESSAGES):
            body = orjson.dumps([2, f"b{k}", action, payload])
            frames.append(websocket.ABNF.create_frame(body, websocket.ABNF.OPCODE_TEXT).format())
        due = time.monotonic()
        end = due + args.duration
        k = 0
        while due < end:
            now = time.monotonic()
            if due > now:
                time.sleep(due - now)
            data = frames[k % len(frames)]
            k += 1
            t0 = time.perf_counter()
            sock.sendall(data)
            answer = sock.recv(65536)
            latencies.append(time.perf_counter() - t0)
            if len(answer) < 2 or len(answer) < 2 + (answer[1] & 0x7F):
                raise SystemExit("rawloop: answer split across reads; baseline needs a fast CSMS")
            due += interval
        ws.close()
        print(orjson.dumps({"latency_s": percentiles(latencies), "rate": args.rate}).decode())
        return 0

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
        greenlets = [gevent.spawn(loop, i, ws, counts) for i, ws in enumerate(sockets)]
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
        "user_s": r1.ru_utime - r0.ru_utime,
        "sys_s": r1.ru_stime - r0.ru_stime,
    }
    print(orjson.dumps(result).decode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
