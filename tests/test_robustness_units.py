"""Unit tests of the robustness suite's parsers and rules (no CSMS): the catalogue's shape, the frame
codec over a socket pair, how answers are read and judged."""

from __future__ import annotations

import socket
import struct
import threading
from pathlib import Path
from typing import Any

import pytest

from scenarios.results import Verdict
from scenarios.robustness.base import all_cases
from scenarios.robustness.connection import CHUNK, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG, OP_TEXT, HostileConnection
from scenarios.robustness.expect import CLOSED, DROPPED, LENIENT, CallError, Result, judge
from scenarios.robustness.options import DEFAULT_GROUPS, GROUPS, OPT_IN
from scenarios.robustness.outcome import Answer, Outcome, read_frame
from scenarios.robustness.schema import max_length, violation

# ---------------------------------------------------------------- the catalogue


def test_the_catalogue_has_every_group_and_at_least_sixty_cases() -> None:
    cases = all_cases()
    per_group = {g: sum(1 for c in cases if c.group == g) for g in GROUPS}
    assert len(cases) >= 60 and all(per_group.values()), per_group
    assert OPT_IN == ("size", "abuse") and set(DEFAULT_GROUPS) == set(GROUPS) - set(OPT_IN)
    assert len({c.case_id for c in cases}) == len(cases)


def test_one_file_per_case_naming_its_clause_and_outcomes() -> None:
    for case in all_cases():
        group, _, name = case.case_id.partition(".")
        assert case.__module__ == f"scenarios.robustness.{group}.{name}", case.case_id
        assert case.clause and case.requirement and case.sends and case.title and case.passed, case.case_id
        assert any(word in case.clause for word in ("OCPP", "RFC")), case.case_id


def test_limits_come_from_the_official_schemas() -> None:
    assert max_length("BootNotification", "chargePointVendor") == 20
    assert max_length("StatusNotification", "info") == 50
    assert violation("Authorize", {"idTag": "x" * 21}) == "maxLength"
    assert violation("Authorize", {"idTag": "x"}) is None


# ---------------------------------------------------------------- the frame codec


class _WebSocket:
    """The two attributes HostileConnection takes from websocket-client's object."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def getheaders(self) -> dict[str, str]:
        return {"sec-websocket-protocol": "ocpp1.6"}


def server_frame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    """An unmasked server frame."""
    first = (0x80 if fin else 0) | opcode
    if len(payload) < 126:
        return struct.pack("!BB", first, len(payload)) + payload
    if len(payload) < 65536:
        return struct.pack("!BBH", first, 126, len(payload)) + payload
    return struct.pack("!BBQ", first, 127, len(payload)) + payload


def read_client_frame(sock: socket.socket) -> tuple[int, bool, bytes]:
    """One masked client frame off the socket, unmasked."""

    def exactly(n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            assert chunk
            data += chunk
        return data

    b0, b1 = exactly(2)
    assert b1 & 0x80, "a client frame must be masked"
    length = b1 & 0x7F
    if length == 126:
        length = struct.unpack("!H", exactly(2))[0]
    elif length == 127:
        length = struct.unpack("!Q", exactly(8))[0]
    key = exactly(4)
    body = exactly(length)
    return b0 & 0x0F, bool(b0 & 0x80), bytes(c ^ key[i % 4] for i, c in enumerate(body))


@pytest.fixture
def pair() -> Any:
    ours, theirs = socket.socketpair()
    log: list[tuple[str, str]] = []
    conn = HostileConnection(_WebSocket(ours), lambda d, t: log.append((d, t)))  # type: ignore[arg-type]
    yield conn, theirs, log
    conn.close()
    theirs.close()


def test_text_binary_and_invalid_utf8_go_out_masked_as_given(pair: Any) -> None:
    conn, theirs, log = pair
    conn.send_text('[2,"1","Heartbeat",{}]')
    conn.send_text(b'["\xc3("]')
    conn.send_binary(b"\x00\x01")
    assert read_client_frame(theirs) == (OP_TEXT, True, b'[2,"1","Heartbeat",{}]')
    assert read_client_frame(theirs) == (OP_TEXT, True, b'["\xc3("]')
    assert read_client_frame(theirs) == (OP_BINARY, True, b"\x00\x01")
    assert log[2] == ("out", "<binary frame> 00 01")


def test_a_large_frame_is_streamed_and_masked_right(pair: Any) -> None:
    conn, theirs, _ = pair
    count = 2 * CHUNK + 3
    got: list[tuple[int, bool, bytes]] = []
    reader = threading.Thread(target=lambda: got.append(read_client_frame(theirs)))
    reader.start()
    conn.send_large_text(b'{"data":"', b"x", count, b'"}', timeout=10)
    reader.join(10)
    assert got[0][0] == OP_TEXT and got[0][2] == b'{"data":"' + b"x" * count + b'"}'


def test_fragments_pings_and_close_are_read_as_the_rfc_says(pair: Any) -> None:
    conn, theirs, log = pair
    theirs.sendall(server_frame(OP_TEXT, b'[3,"1",', fin=False) + server_frame(OP_PING, b"hi"))
    theirs.sendall(server_frame(0x0, b'{"a":1}]', fin=True))
    received = conn.receive(2.0)
    assert received is not None and received.kind == "text" and received.data == b'[3,"1",{"a":1}]'
    assert read_client_frame(theirs) == (OP_PONG, True, b"hi")
    theirs.sendall(server_frame(OP_CLOSE, struct.pack("!H", 1009) + b"too big"))
    closed = conn.receive(2.0)
    assert closed is not None and (closed.kind, closed.close_code, closed.close_reason) == ("close", 1009, "too big")
    assert log[-1] == ("in", '<the CSMS closed the connection (close code 1009 "too big")>')
    assert conn.receive(0.1) is None and not conn.usable


def test_silence_drop_and_oversized(pair: Any) -> None:
    conn, theirs, _ = pair
    assert conn.receive(0.05) is None
    theirs.sendall(struct.pack("!BBQ", 0x81, 127, 1 << 40))  # a header announcing a terabyte
    assert conn.receive(1.0).kind == "oversized"  # type: ignore[union-attr]


def test_a_drop_without_close_frame(pair: Any) -> None:
    conn, theirs, _ = pair
    theirs.close()
    received = conn.receive(1.0)
    assert received is not None and received.kind == "eof"


# ---------------------------------------------------------------- reading and judging answers


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'[3,"a",{}]', [3, "a", {}]),
        (b'[3,"a",null]', [3, "a", None]),  # OCPP-J 1.6 §4.2.2 allows null for an empty payload
        (b'[4,"-1","FormatViolation","",{}]', [4, "-1", "FormatViolation", "", {}]),
        (b'[3,"a",{oops', "invalid JSON"),
        (b'{"a":1}', "not an OCPP-J frame (an array starting with a message type number)"),
        (b'[4,"a","GenericError",""]', "a CALLERROR must be [4, id, errorCode, errorDescription, {errorDetails}]"),
        (b'[7,"a"]', "unknown message type 7"),
        (b"[3,1,{}]", "message id missing or not a string"),
    ],
)
def test_read_frame(raw: bytes, expected: Any) -> None:
    assert read_frame(raw) == expected


def _error(code: str, ident: str = "m") -> Outcome:
    return Outcome(answers=[Answer("error", ident, {}, code)])


def test_the_judgement_order() -> None:
    passed = (CallError("FormationViolation", minus_one=True),)
    assert judge(passed, LENIENT, _error("FormationViolation"), True).verdict == Verdict.passed
    spelled = judge(passed, LENIENT, _error("FormatViolation", "-1"), True)
    assert spelled.verdict == Verdict.passed and "2.0.1 spelling" in (spelled.note or "")
    other = judge(passed, LENIENT, _error("GenericError"), True)
    assert other.verdict == Verdict.non_strict and other.reason.startswith("CALLERROR with another code")
    assert judge(passed, (DROPPED, CLOSED), Outcome(silence="quiet"), True).verdict == Verdict.non_strict
    accepted = judge(passed, LENIENT, Outcome(answers=[Answer("result", "m", {})]), True)
    assert accepted.verdict == Verdict.failed and accepted.reason == "bad input accepted as valid"
    assert judge(passed, (), Outcome(silence="quiet"), True).reason == "no answer where one is required"
    # Garbage or a stray answer FAILS even beside an answer that would pass.
    garbled = _error("FormationViolation")
    garbled.garbage.append("invalid JSON: [3,")
    assert judge(passed, LENIENT, garbled, True).verdict == Verdict.failed
    stray = _error("FormationViolation")
    stray.stray.append('[3,"x",{}]')
    assert judge(passed, LENIENT, stray, True).verdict == Verdict.failed
    # A "-1" is only accepted where the case allows it.
    assert judge((CallError("NotImplemented"),), (), _error("NotImplemented", "-1"), True).verdict == Verdict.failed
    assert judge(
        (Result("ok", lambda p: p.get("a") == 1),), (), Outcome(answers=[Answer("result", "m", {"a": 1})]), False
    )


def test_the_suite_readme_lists_every_case() -> None:
    text = (Path(__file__).resolve().parent.parent / "scenarios" / "robustness" / "README.md").read_text()
    missing = [c.case_id for c in all_cases() if f"`{c.case_id}`" not in text]
    assert missing == []
    assert f"## The catalogue ({len(all_cases())} cases)" in text
