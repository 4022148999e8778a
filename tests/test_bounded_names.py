"""The CSMS does not decide how big the stats and the logs get (issue 10, item 4).

Failure names (what Locust groups failures by: the exception's repr) carry an error code and a
bounded reason of our own; what the CSMS chose (a CALLERROR's description or unknown code, a close
reason, a handshake answer) goes into the error's ``detail``, escaped and cut. A failure the CSMS
can repeat at will is logged once per kind, then counted.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import gevent
import pytest
from locust.stats import StatsError

from ocpp_users.embedded import TestbedProcess
from ocpp_users.fleet.failure_log import FailureLog
from ocpp_users.ocppj import rpc
from ocpp_users.ocppj.errors import (
    ConnectionLost,
    HandshakeRefused,
    OcppCallError,
    SubprotocolMismatch,
    call_error_for,
)
from ocpp_users.ocppj.logs import RateLimitedLog
from ocpp_users.ocppj.sink import CSMS_TO_CP, WEBSOCKET, Recorder
from ocpp_users.ocppj.text import sanitize
from ocpp_users.ocppj.transport import SecurityConfig, connect
from ocpp_users.v16.settings import ChargePointSettings
from ocpp_users.v16.station import Station
from tests.test_fleet_user import FAST, errors, prefix, run_fleet

NASTY = "boom\n2024-01-01 00:00:00 [ERROR] forged line\x1b[31m red \u202e" + "x" * 5000


def row(exc: BaseException) -> str:
    """The failure's name as Locust's stats, CSV and HTML report show it."""
    return StatsError.parse_error(repr(exc))


def set_fault(csms: TestbedProcess, fault: dict[str, Any]) -> None:
    status, body = csms.api("PUT", "/faults", fault)
    assert status == 200, body


@pytest.fixture
def booted(csms: TestbedProcess, cp_id: str) -> Iterator[Station]:
    settings = ChargePointSettings(cp_id=cp_id, url=csms.ws_url, call_timeout=2.0, reconnect=False)
    cp = Station(settings, sink=Recorder())
    cp.connect()
    cp.boot()
    yield cp
    cp.stop(stop_transactions=False)


def test_distinct_callerror_descriptions_make_one_failure_name(csms: TestbedProcess, booted: Station) -> None:
    set_fault(csms, {"name": "callerror", "action": "Heartbeat", "description": NASTY, "vary": True})
    raised: list[OcppCallError] = []
    for _ in range(40):
        with pytest.raises(OcppCallError) as info:
            booted.heartbeat()
        raised.append(info.value)
    assert {row(e) for e in raised} == {"InternalError('CALLERROR InternalError')"}
    details = [e.detail for e in raised]
    assert len(set(details)) == 40 or all("boom" in d for d in details), "the detail keeps what was said"
    for detail in details:
        assert detail.startswith("boom\\n2024-01-01"), detail[:80]
        assert not re.search(r"[\x00-\x1f\x7f\u202e]", detail), "control characters are escaped"
        assert len(detail) <= 240
    assert raised[0].description.startswith("boom\n"), "the description itself is kept as sent"


def test_unknown_error_codes_share_one_name(csms: TestbedProcess, booted: Station) -> None:
    names = set()
    for n in range(15):
        set_fault(csms, {"name": "callerror", "action": "Heartbeat", "code": f"Vendor{n}Error\n", "description": "d"})
        with pytest.raises(OcppCallError) as info:
            booted.heartbeat()
        names.add(row(info.value))
        assert info.value.code == f"Vendor{n}Error\n", "the code as sent"
        assert f"code Vendor{n}Error\\n" in info.value.detail
    assert names == {"UnknownCallErrorCode('CALLERROR (not an OCPP-J error code)')"}


def test_known_codes_in_both_spellings_name_the_code() -> None:
    for code in ("FormationViolation", "FormatViolation", "OccurrenceConstraintViolation", "RpcFrameworkError"):
        assert str(call_error_for(code, "any text")) == f"CALLERROR {code}"


def test_a_close_reason_is_detail_not_name(csms: TestbedProcess, cp_id: str) -> None:
    settings = ChargePointSettings(cp_id=cp_id, url=csms.ws_url, call_timeout=2.0, reconnect=False)
    cp = Station(settings, sink=Recorder())
    cp.connect()
    try:
        csms.api("POST", f"/cps/{cp_id}/disconnect?code=4321")
        for _ in range(100):
            if not cp.connected:
                break
            gevent.sleep(0.05)
        assert isinstance(cp.sink, Recorder)
        [dropped] = [r.exception for r in cp.sink.select(WEBSOCKET, "disconnect")]
        assert isinstance(dropped, ConnectionLost)
        assert str(dropped) == "connection dropped: closed by peer (a private code (4000-4999))"
        assert dropped.detail == "close code 4321: closed via control API"
    finally:
        cp.stop(stop_transactions=False)


def test_a_handler_failure_is_logged_once_per_kind_with_a_count(
    csms: TestbedProcess, booted: Station, caplog: pytest.LogCaptureFixture
) -> None:
    """GetCompositeSchedule with a duration of 10^15 passes the schema, then overflows: each call is
    answered InternalError and counted, the log gets one line."""
    rpc.limited.reset()
    caplog.set_level(logging.WARNING, logger="ocpp_users.ocppj.rpc")
    for _ in range(20):
        status, body = csms.api(
            "POST", f"/cps/{booted.cp_id}/GetCompositeSchedule", {"connectorId": 1, "duration": 10**15}
        )
        assert status == 200 and body["error"]["code"] == "InternalError", body
    lines = [r.getMessage() for r in caplog.records if "handler for GetCompositeSchedule failed" in r.getMessage()]
    assert len(lines) == 1, lines
    assert isinstance(booted.sink, Recorder)
    names = {row(r.exception) for r in booted.sink.select(CSMS_TO_CP) if r.exception is not None}
    assert names == {"InternalError('CALLERROR InternalError: handler failed: OverflowError')"}
    assert rpc.limited.suppressed() == {("handler", "GetCompositeSchedule", "OverflowError"): 19}


def test_the_rate_limited_log_repeats_a_kind_once_a_window_with_its_count(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    limited = RateLimitedLog(logging.getLogger("t.limited"), window=60.0, max_kinds=3, clock=lambda: now[0])
    caplog.set_level(logging.WARNING, logger="t.limited")
    written = [limited.warning("a", "kind a") for _ in range(5)]
    assert written == [True, False, False, False, False]
    now[0] = 61.0
    assert limited.warning("a", "kind a")
    assert caplog.records[-1].getMessage() == "kind a (x5 in the last 61 s)"
    for kind in ("b", "c", "d", "e"):
        limited.warning(kind, "kind %s", kind)
    assert len({r.getMessage() for r in caplog.records}) == 5, "kinds beyond max_kinds share one counter"
    limited.flush()
    assert caplog.records[-1].getMessage() == "(more kinds): x1 more, not logged one by one"


def test_sanitize_escapes_and_bounds() -> None:
    assert sanitize("a\nb\x1b[0m\u2028") == "a\\nb\\x1b[0m\\u2028"
    cut = sanitize("y" * 1000, 50)
    assert cut == "y" * 50 + "... (1000 characters in all)"
    assert sanitize(b"\xff\x00ok") == "\ufffd\\x00ok"


def test_a_fleet_against_many_descriptions_keeps_few_rows_and_few_lines(
    csms: TestbedProcess, caplog: pytest.LogCaptureFixture
) -> None:
    set_fault(csms, {"name": "callerror", "action": "Heartbeat", "description": NASTY, "vary": True})
    caplog.set_level(logging.WARNING, logger="ocpp_users.fleet")
    env = run_fleet(
        csms.ws_url,
        [*FAST, "--heartbeat-interval", "0.1", "--cp-id-template", prefix() + "-{n}"],
        users=4,
        seconds=3,
    )
    # (a Heartbeat cut short when the run stops is the harness's own doing: issue 9 accounts it apart)
    heartbeat_rows = [e for m, n, e in errors(env) if n == "Heartbeat"]
    failed = sum(e.occurrences for e in env.stats.errors.values() if e.name == "Heartbeat")
    assert failed >= 40, failed
    assert heartbeat_rows == ["InternalError('CALLERROR InternalError')"], heartbeat_rows
    assert all(len(error) <= 120 for _, _, error in errors(env))
    lines = [r.getMessage() for r in caplog.records if "Heartbeat: CALLERROR" in r.getMessage()]
    assert len(lines) == 1, lines
    assert "[the CSMS said: boom\\n2024-01-01 00:00:00 [ERROR] forged line\\x1b[31m" in lines[0]
    assert "\n" not in lines[0] and "\x1b" not in lines[0]


def test_the_failure_log_names_the_kind_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="t.failures")
    failures = FailureLog(logging.getLogger("t.failures"))
    failures.target = "ws://cp:secret@csms.example/ocpp/"
    for _ in range(3):
        failures.report(WEBSOCKET, "connect", HandshakeRefused("handshake refused: HTTP 503", 503))
    [line] = [r.getMessage() for r in caplog.records]
    assert line.startswith("cannot connect to ws://cp:***@csms.example/ocpp/: handshake refused: HTTP 503")


# ---------------------------------------------------------------- handshake answers


def _serve_once(answer: Callable[[bytes], bytes]) -> tuple[str, threading.Thread]:
    """A TCP server that reads one HTTP upgrade request and writes ``answer(request)``."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def run() -> None:
        conn, _ = server.accept()
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
        try:
            conn.sendall(answer(data))
            conn.recv(1024)
        except OSError:
            pass  # the charge point hung up first
        finally:
            conn.close()
            server.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return f"ws://127.0.0.1:{port}/ocpp/CP1", thread


def _accept(request: bytes) -> str:
    key = re.search(rb"Sec-WebSocket-Key: (\S+)", request, re.I)
    assert key is not None
    digest = hashlib.sha1(key.group(1) + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest()
    return base64.b64encode(digest).decode()


def test_raw_handshake_bytes_are_detail_not_reason() -> None:
    url, thread = _serve_once(lambda _: b"HTTP/1.1 abc <garbage\x1b[2J>\r\n\r\n")
    with pytest.raises(HandshakeRefused) as info:
        connect(url, "CP1", SecurityConfig(), subprotocol="ocpp1.6", timeout=3)
    thread.join(3)
    assert str(info.value) == "WebSocket handshake failed: Invalid status line"
    assert "garbage" in info.value.detail and "\x1b" not in info.value.detail


def test_a_made_up_subprotocol_answer_is_detail_not_reason() -> None:
    def answer(request: bytes) -> bytes:
        return (
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {_accept(request)}\r\nSec-WebSocket-Protocol: evil-{id(request)}\r\n\r\n"
        ).encode()

    url, thread = _serve_once(answer)
    with pytest.raises(SubprotocolMismatch) as info:
        connect(url, "CP1", SecurityConfig(), subprotocol="ocpp1.6", timeout=3)
    thread.join(3)
    assert str(info.value) == "server did not agree to subprotocol ocpp1.6: it answered another value"
    assert info.value.detail.startswith("Sec-WebSocket-Protocol: evil-")
