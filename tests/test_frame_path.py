"""The engine's own WebSocket frame path (ocpp_users/ocppj/transport.py ``FrameReader``, ``send_text``):
framing per RFC 6455 (lengths 7/16/64 bit, masking, fragments, control frames in between, close),
and end to end against a real ``websockets`` server that pings and fragments."""

from __future__ import annotations

import os
import queue
import socket
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import gevent
import orjson
import pytest
import websocket
from websockets.sync.server import ServerConnection

from ocpp_users.ocppj.handlers import HandlerTable
from ocpp_users.ocppj.rpc import OcppConnection
from ocpp_users.ocppj.sink import CP_TO_CSMS, Recorder
from ocpp_users.ocppj.transport import FrameReader, SecurityConfig, connect, encode_text_frame, send_text
from ocpp_users.v16.protocol import VERSION
from tests.inprocess_ws import serve_in_process


class FakeWS:
    """The parts of ``websocket.WebSocket`` the frame path uses, over one end of a socket pair."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.lock = threading.Lock()
        self.connected = True
        self.pongs: list[bytes] = []
        self.closes = 0

    def pong(self, payload: bytes) -> None:
        self.pongs.append(payload)

    def send_close(self) -> None:
        self.closes += 1
        self.connected = False


def frame(opcode: int, payload: bytes, fin: bool = True, mask: bool = False, rsv: int = 0) -> bytes:
    n = len(payload)
    b0 = (0x80 if fin else 0) | rsv | opcode
    m = 0x80 if mask else 0
    if n < 126:
        header = bytes((b0, m | n))
    elif n < 65536:
        header = struct.pack("!BBH", b0, m | 126, n)
    else:
        header = struct.pack("!BBQ", b0, m | 127, n)
    if not mask:
        return header + payload
    key = os.urandom(4)
    return header + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


@pytest.fixture
def pair() -> Iterator[tuple[FakeWS, socket.socket]]:
    ours, theirs = socket.socketpair()
    yield FakeWS(ours), theirs
    ours.close()
    theirs.close()


def unmask(raw: bytes) -> bytes:
    """The payload of one masked frame, as a server reads it (RFC 6455 §5.3)."""
    length, pos = raw[1] & 0x7F, 2
    if length == 126:
        length, pos = struct.unpack("!H", raw[2:4])[0], 4
    elif length == 127:
        length, pos = struct.unpack("!Q", raw[2:10])[0], 10
    key, data = raw[pos : pos + 4], raw[pos + 4 : pos + 4 + length]
    return bytes(b ^ key[i % 4] for i, b in enumerate(data))


def read_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        assert chunk, "closed early"
        data += chunk
    return data


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 200_000])
def test_our_masked_text_frames_decode_to_the_payload(pair: tuple[FakeWS, socket.socket], size: int) -> None:
    ws, theirs = pair
    payload = os.urandom(size)
    raw = encode_text_frame(payload)
    assert raw[0] == 0x81 and raw[1] & 0x80  # final text frame, masked as a client must
    assert unmask(raw) == payload
    send = gevent.spawn(send_text, ws, payload)
    assert unmask(read_exactly(theirs, len(raw))) == payload  # what the server reads
    send.join(timeout=5)
    # The server's frames are not masked (RFC 6455 §5.1); one of the same size reads back.
    writer = gevent.spawn(theirs.sendall, frame(1, payload))
    assert FrameReader(ws).next() == (1, payload)
    writer.join(timeout=5)


def test_several_frames_in_one_read_come_out_in_order(pair: tuple[FakeWS, socket.socket]) -> None:
    ws, theirs = pair
    theirs.sendall(frame(1, b"one") + frame(2, b"\x00two") + frame(1, b"x" * 300) + frame(1, b"four"))
    reader = FrameReader(ws)
    assert [reader.next() for _ in range(4)] == [(1, b"one"), (2, b"\x00two"), (1, b"x" * 300), (1, b"four")]


def test_a_frame_trickling_in_byte_by_byte_is_reassembled(pair: tuple[FakeWS, socket.socket]) -> None:
    ws, theirs = pair
    data = frame(1, b'[3,"1",{}]') + frame(1, b"y" * 70_000)

    def trickle() -> None:
        for i in range(0, 12):
            theirs.send(data[i : i + 1])
            gevent.sleep(0.001)
        theirs.sendall(data[12:])

    gevent.spawn(trickle)
    reader = FrameReader(ws)
    assert reader.next() == (1, b'[3,"1",{}]')
    assert reader.next() == (1, b"y" * 70_000)


def test_fragments_are_joined_and_pings_between_them_answered(pair: tuple[FakeWS, socket.socket]) -> None:
    ws, theirs = pair
    theirs.sendall(
        frame(1, b"[2,", fin=False)
        + frame(9, b"are you there")
        + frame(0, b'"a","Heartbeat",', fin=False)
        + frame(10, b"unsolicited pong")
        + frame(0, b"{}]")
    )
    reader = FrameReader(ws)
    assert reader.next() == (1, b'[2,"a","Heartbeat",{}]')
    assert ws.pongs == [b"are you there"]


def test_close_is_returned_and_answered_once(pair: tuple[FakeWS, socket.socket]) -> None:
    ws, theirs = pair
    theirs.sendall(frame(8, struct.pack("!H", 1001) + b"going away"))
    reader = FrameReader(ws)
    assert reader.next() == (8, struct.pack("!H", 1001) + b"going away")
    assert ws.closes == 1
    ws.connected = False
    theirs.sendall(frame(8, b""))
    assert reader.next() == (8, b"")
    assert ws.closes == 1  # we had already sent ours


@pytest.mark.parametrize(
    "raw",
    [
        frame(0, b"orphan continuation"),
        frame(1, b"reserved bit", rsv=0x40),
        frame(9, b"p" * 126),
        frame(9, b"fragmented ping", fin=False),
        frame(3, b"unknown opcode"),
        frame(1, b"start", fin=False) + frame(1, b"new message before the end"),
    ],
)
def test_protocol_violations_raise(pair: tuple[FakeWS, socket.socket], raw: bytes) -> None:
    ws, theirs = pair
    theirs.sendall(raw)
    reader = FrameReader(ws)
    with pytest.raises(websocket.WebSocketProtocolException):
        reader.next()
        reader.next()


def test_tcp_close_by_the_peer_is_connection_closed(pair: tuple[FakeWS, socket.socket]) -> None:
    ws, theirs = pair
    theirs.sendall(frame(1, b"last")[:3])
    theirs.close()
    reader = FrameReader(ws)
    with pytest.raises(websocket.WebSocketConnectionClosedException):
        reader.next()


def test_a_shut_down_websocket_is_connection_closed(pair: tuple[FakeWS, socket.socket]) -> None:
    ws, _ = pair
    ws.sock = None  # type: ignore[assignment]  # what WebSocket.shutdown() leaves behind
    with pytest.raises(websocket.WebSocketConnectionClosedException):
        FrameReader(ws).next()
    with pytest.raises(websocket.WebSocketConnectionClosedException):
        send_text(ws, b"[]")  # type: ignore[arg-type]


# ---------------------------------------------------------------- end to end


@pytest.fixture
def server() -> Iterator[tuple[str, queue.Queue[ServerConnection]]]:
    connections: queue.Queue[ServerConnection] = queue.Queue()

    def handle(connection: ServerConnection) -> None:
        connections.put(connection)
        connection.wait_closed()

    srv = serve_in_process(handle, subprotocols=["ocpp1.6"])
    yield f"ws://127.0.0.1:{srv.socket.getsockname()[1]}/ocpp/CP1", connections
    srv.shutdown()


def test_engine_answers_pings_and_reads_fragmented_and_large_answers(
    server: tuple[str, queue.Queue[ServerConnection]],
) -> None:
    url, connections = server
    sink = Recorder()
    conn = OcppConnection(
        connect(url, "CP1", SecurityConfig(), subprotocol=VERSION.subprotocol, timeout=5),
        HandlerTable(VERSION.actions),
        version=VERSION,
        sink=sink,
        call_timeout=5,
    )
    conn.start()
    peer = connections.get(timeout=5)
    try:
        pong = peer.ping(b"alive?")
        call = gevent.spawn(conn.call, "DataTransfer", {"vendorId": "V", "data": "x"})
        sent = orjson.loads(peer.recv(timeout=5))
        assert pong.wait(timeout=5)
        answer = orjson.dumps([3, sent[1], {"status": "Accepted", "data": "z" * 100_000}]).decode()
        peer.send([answer[:10], answer[10:50_000], answer[50_000:]])  # one message in three fragments
        assert call.get(timeout=5) == {"status": "Accepted", "data": "z" * 100_000}
        [record] = sink.select(CP_TO_CSMS, "DataTransfer")
        assert record.exception is None
        assert record.response_length == len(answer)
    finally:
        conn.close()
    assert conn.closed


CLOSED_BETWEEN_READS = """
from gevent import monkey; monkey.patch_all()
import socket
from ocpp_users.ocppj.transport import FrameReader

a, b = socket.socketpair()

class ClosedAfterRead:  # a gevent socket that another greenlet closes right after a read
    def __init__(self, sock):
        self.sock = sock
    @property
    def _read_event(self):
        return self.sock._read_event
    @property
    def _wait(self):
        return self.sock._wait
    def recv(self, n):
        data = self.sock.recv(n)
        self.sock.close()
        return data

class WS:
    sock = ClosedAfterRead(a)

b.sendall(b"\\x81")  # one byte of a two-byte frame header
try:
    FrameReader(WS()).next()
except OSError as exc:
    print("clean", type(exc).__name__)
"""


def test_a_socket_closed_between_two_reads_is_an_error_not_an_abort() -> None:
    """Waiting on the read watcher of a socket closed meanwhile aborts the process inside libev
    ("I/O watcher with invalid fd"): the reader must look at the watcher again before each wait.
    In a child process, so that a regression fails this test instead of killing the run."""
    import subprocess
    import sys

    root = str(Path(__file__).resolve().parent.parent)
    command = [sys.executable, "-c", CLOSED_BETWEEN_READS]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=root)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("clean"), result.stdout + result.stderr[-2000:]
