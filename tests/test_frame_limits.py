"""The frame reader's limits, on a socket pair (a unit test of the parser): the announced size is
refused before any payload byte is read, fragments count as one message, masked frames and a
64-bit length with its top bit set are violations (RFC 6455 §5.1, §5.2)."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator

import pytest

from ocpp_users.ocppj.transport import FrameReader, MessageTooBig, ProtocolViolation
from tests.test_frame_path import FakeWS, frame


@pytest.fixture
def pair() -> Iterator[tuple[FakeWS, socket.socket]]:
    ours, theirs = socket.socketpair()
    yield FakeWS(ours), theirs
    ours.close()
    theirs.close()


def test_an_oversized_header_is_refused_before_its_payload(pair: tuple[FakeWS, socket.socket]) -> None:
    ws, theirs = pair
    theirs.sendall(struct.pack("!BBQ", 0x81, 127, 1 << 40))  # the header only: no payload will come
    with pytest.raises(MessageTooBig) as info:
        FrameReader(ws, max_size=1 << 20).next()
    assert (info.value.size, info.value.limit) == (1 << 40, 1 << 20)


def test_the_limit_itself_is_accepted(pair: tuple[FakeWS, socket.socket]) -> None:
    ws, theirs = pair
    payload = b"x" * 4096
    sender = threading.Thread(target=theirs.sendall, args=(frame(1, payload),))
    sender.start()
    assert FrameReader(ws, max_size=4096).next() == (1, payload)
    sender.join()


def test_fragments_count_as_one_message(pair: tuple[FakeWS, socket.socket]) -> None:
    ws, theirs = pair
    theirs.sendall(frame(1, b"a" * 3000, fin=False) + frame(0, b"b" * 3000, fin=False))
    with pytest.raises(MessageTooBig) as info:
        FrameReader(ws, max_size=4096).next()
    assert info.value.size == 6000


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        (frame(1, b'[3,"1",{}]', mask=True), "masked frame from the server"),
        (struct.pack("!BBQ", 0x81, 127, 1 << 63), "payload length with the most significant bit set"),
        (frame(1, b"x", rsv=0x20), "reserved bits set"),
    ],
)
def test_violations_name_the_rule(pair: tuple[FakeWS, socket.socket], raw: bytes, rule: str) -> None:
    ws, theirs = pair
    theirs.sendall(raw)
    with pytest.raises(ProtocolViolation, match=rule):
        FrameReader(ws).next()
