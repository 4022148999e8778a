"""The RPC layer (``OcppConnection``) against a scripted WebSocket peer written here with the
``websockets`` library, for precise control of every frame: correlation of replies out of
order, unknown ids, garbage, CALLERRORs, timeouts and late replies, dropped connections,
at-most-one outstanding CALL, schema validation both ways, dispatch of inbound CALLs.

The same behaviours are exercised end-to-end against the real testbed in test_handlers.py
and test_reconnect.py. Every call must end in exactly one sink event.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import gevent
import gevent.event
import orjson
import pytest
from websockets.sync.server import ServerConnection

from ocpp_users.embedded import TestbedProcess
from ocpp_users.ocppj import errors
from ocpp_users.ocppj.handlers import HandlerTable, on
from ocpp_users.ocppj.rpc import OcppConnection, Reply
from ocpp_users.ocppj.sink import CP_TO_CSMS, CSMS_TO_CP, PROTOCOL, WEBSOCKET, Recorder
from ocpp_users.ocppj.transport import SecurityConfig, connect
from ocpp_users.v16.actions import KNOWN_ACTIONS, Action
from ocpp_users.v16.protocol import VERSION
from ocpp_users.v16.settings import ChargePointSettings
from ocpp_users.v16.station import Station
from tests.inprocess_ws import serve_in_process

NOW = "2024-05-01T10:00:00.000Z"
HEARTBEAT_CONF = {"currentTime": NOW}


class ScriptedPeer:
    """A WebSocket server on an ephemeral port whose every frame the test writes by hand."""

    def __init__(self) -> None:
        self.connections: queue.Queue[ServerConnection] = queue.Queue()
        self.server = serve_in_process(self._handle, subprotocols=["ocpp1.6"])
        self.port = self.server.socket.getsockname()[1]

    def _handle(self, connection: ServerConnection) -> None:
        self.connections.put(connection)
        connection.wait_closed()

    def url(self, cp_id: str) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp/{cp_id}"

    def shutdown(self) -> None:
        self.server.shutdown()


class Handlers:
    """A minimal dispatcher for inbound CALLs."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict]] = []
        self.after_ran = gevent.event.Event()
        self.connection: OcppConnection | None = None

    @on(Action.reset)
    def on_reset(self, payload: dict) -> dict:
        self.seen.append(("Reset", payload))
        return {"status": "Accepted"}

    @on(Action.clear_cache)
    def on_clear_cache(self, payload: dict) -> dict:
        raise RuntimeError("the cache is on fire")

    @on(Action.get_local_list_version)
    def on_get_local_list_version(self, payload: dict) -> dict:
        return {"listVersion": "not an integer"}

    @on(Action.change_availability)
    def on_change_availability(self, payload: dict) -> Reply:
        def after() -> None:
            assert self.connection is not None
            self.connection.call(
                "StatusNotification", {"connectorId": 0, "errorCode": "NoError", "status": "Unavailable"}
            )
            self.after_ran.set()

        return Reply({"status": "Accepted"}, after)

    @on(Action.data_transfer)
    def on_data_transfer(self, payload: dict) -> dict:
        raise errors.NotSupportedError("not today", {"vendor": payload.get("vendorId")})


class Background:
    """A call running in its own greenlet; ``get`` returns its result or raises its error (without
    gevent printing a traceback for every expected failure)."""

    def __init__(self, func: Any, *args: Any, **kwargs: Any) -> None:
        self._greenlet = gevent.spawn(self._run, func, args, kwargs)

    @staticmethod
    def _run(func: Any, args: tuple, kwargs: dict) -> tuple[bool, Any]:
        try:
            return True, func(*args, **kwargs)
        except BaseException as exc:
            return False, exc

    def get(self, timeout: float = 3.0) -> Any:
        ok, value = self._greenlet.get(timeout=timeout)
        if not ok:
            raise value
        return value


@dataclass
class Link:
    """Our connection and the peer's end of it."""

    conn: OcppConnection
    peer: ServerConnection
    sink: Recorder
    handlers: Handlers
    wire: list[tuple[str, bytes | str]] = field(default_factory=list)
    closes: list[tuple[str, bool]] = field(default_factory=list)

    def expect(self, timeout: float = 3.0) -> list[Any]:
        """The next frame our side sent, decoded."""
        raw = self.peer.recv(timeout=timeout)
        return orjson.loads(raw)

    def nothing_sent(self, within: float = 0.3) -> bool:
        try:
            self.peer.recv(timeout=within)
        except TimeoutError:
            return True
        return False

    def send(self, frame: Any) -> None:
        self.peer.send(frame if isinstance(frame, str | bytes) else orjson.dumps(frame).decode())

    def outcomes(self, request_type: str = CP_TO_CSMS) -> list[tuple[str, str | None]]:
        return [
            (r.name, None if r.exception is None else type(r.exception).__name__)
            for r in self.sink.select(request_type)
        ]


@pytest.fixture
def peer() -> Iterator[ScriptedPeer]:
    server = ScriptedPeer()
    yield server
    server.shutdown()


def _open(peer: ScriptedPeer, **options: Any) -> Link:
    ws = connect(peer.url("CP1"), "CP1", SecurityConfig(), subprotocol=VERSION.subprotocol, timeout=5)
    server_side = peer.connections.get(timeout=5)
    sink = Recorder()
    handlers = Handlers()
    wire: list[tuple[str, bytes | str]] = []
    closes: list[tuple[str, bool]] = []
    options.setdefault("call_timeout", 2.0)
    conn = OcppConnection(
        ws,
        HandlerTable(VERSION.actions, handlers),
        version=VERSION,
        sink=sink,
        wire_log=lambda d, raw: wire.append((d, raw)),
        on_close=lambda reason, by_us: closes.append((reason, by_us)),
        **options,
    ).start()
    handlers.connection = conn
    return Link(conn, server_side, sink, handlers, wire, closes)


@pytest.fixture
def link(peer: ScriptedPeer) -> Iterator[Link]:
    item = _open(peer)
    yield item
    item.conn.abort()


@pytest.fixture
def parallel(peer: ScriptedPeer) -> Iterator[Link]:
    item = _open(peer, serialize_calls=False)
    yield item
    item.conn.abort()


# ---------------------------------------------------------------- plain calls


def test_call_returns_the_result_and_fires_one_success(link: Link) -> None:
    call = Background(link.conn.call, "Heartbeat", {})
    frame = link.expect()
    assert frame[0] == 2 and frame[2:] == ["Heartbeat", {}]
    assert isinstance(frame[1], str) and 0 < len(frame[1]) <= 36
    link.send([3, frame[1], HEARTBEAT_CONF])
    assert call.get(timeout=3) == HEARTBEAT_CONF
    [record] = link.sink.select(CP_TO_CSMS)
    assert (record.name, record.exception) == ("Heartbeat", None)
    assert record.response_length == len(orjson.dumps([3, frame[1], HEARTBEAT_CONF]))
    assert [d for d, _ in link.wire] == ["out", "in"]


def test_message_ids_are_unique(link: Link) -> None:
    ids = set()
    for _ in range(5):
        call = Background(link.conn.call, "Heartbeat", {})
        frame = link.expect()
        ids.add(frame[1])
        link.send([3, frame[1], HEARTBEAT_CONF])
        call.get(timeout=3)
    assert len(ids) == 5


def test_check_names_a_rejection(link: Link) -> None:
    call = Background(
        link.conn.call,
        "Authorize",
        {"idTag": "T1"},
        check=lambda r: None if r["idTagInfo"]["status"] == "Accepted" else "Authorize Blocked",
    )
    frame = link.expect()
    link.send([3, frame[1], {"idTagInfo": {"status": "Blocked"}}])
    with pytest.raises(errors.RejectedError, match="Authorize Blocked") as info:
        call.get(timeout=3)
    assert info.value.payload == {"idTagInfo": {"status": "Blocked"}}
    assert link.outcomes() == [("Authorize", "RejectedError")]


# ---------------------------------------------------------------- correlation


def _data_transfer(link: Link, tag: str) -> Background:
    return Background(link.conn.call, "DataTransfer", {"vendorId": "V", "data": tag})


def test_replies_out_of_order_reach_their_calls(parallel: Link) -> None:
    calls = {tag: _data_transfer(parallel, tag) for tag in ("a", "b", "c")}
    frames = [parallel.expect() for _ in range(3)]
    assert sorted(f[3]["data"] for f in frames) == ["a", "b", "c"], "all three are outstanding at once"
    for frame in reversed(frames):
        parallel.send([3, frame[1], {"status": "Accepted", "data": "reply-" + frame[3]["data"]}])
    for tag, call in calls.items():
        assert call.get(timeout=3) == {"status": "Accepted", "data": "reply-" + tag}
    assert parallel.outcomes() == [("DataTransfer", None)] * 3


def test_serialized_calls_wait_for_the_previous_answer(link: Link) -> None:
    first = _data_transfer(link, "first")
    second = _data_transfer(link, "second")
    one = link.expect()
    assert one[3]["data"] == "first"
    assert link.nothing_sent(within=0.4), "a second CALL went out while the first was unanswered"
    link.send([3, one[1], {"status": "Accepted"}])
    two = link.expect()
    assert two[3]["data"] == "second"
    link.send([3, two[1], {"status": "Rejected"}])
    assert first.get(timeout=3) == {"status": "Accepted"}
    assert second.get(timeout=3) == {"status": "Rejected"}


def test_serialized_call_that_cannot_get_its_turn_times_out_unsent(peer: ScriptedPeer) -> None:
    link = _open(peer, call_timeout=0.4)
    try:
        first = _data_transfer(link, "first")
        link.expect()
        gevent.sleep(0.05)
        second = _data_transfer(link, "second")
        with pytest.raises(errors.CallTimeout):
            first.get(timeout=3)
        # The second call got the lock only after the first timed out; nobody answers it either.
        with pytest.raises(errors.CallTimeout):
            second.get(timeout=3)
        assert link.outcomes() == [("DataTransfer", "CallTimeout")] * 2
    finally:
        link.conn.abort()


def test_unknown_message_id_is_a_protocol_error_and_the_loop_survives(link: Link) -> None:
    link.send([3, "nobody-asked", {"status": "Accepted"}])
    link.send([4, "nobody-asked-either", "GenericError", "", {}])
    call = Background(link.conn.call, "Heartbeat", {})
    frame = link.expect()
    link.send([3, frame[1], HEARTBEAT_CONF])
    assert call.get(timeout=3) == HEARTBEAT_CONF
    protocol = link.sink.select(PROTOCOL, "inbound frame")
    assert [type(r.exception) for r in protocol] == [errors.UnknownMessageId] * 2
    assert [str(r.exception) for r in protocol] == [
        "CALLRESULT with unknown message id",
        "CALLERROR with unknown message id",
    ]
    assert link.conn.protocol_errors[0].raw.startswith('[3,"nobody-asked"')
    assert link.outcomes() == [("Heartbeat", None)]


GARBAGE = [
    "not json at all",
    "",
    "[]",
    '{"a": 1}',
    '[9, "x", {}]',
    '[2, 5, "Reset", {}]',
    '[3, "x"]',
    '[2, "x", "Reset", "payload"]',
    "[" * 3000,
    "null",
]


def test_garbage_frames_are_counted_and_the_loop_survives(link: Link) -> None:
    for raw in GARBAGE:
        link.send(raw)
    link.send(b"\x00\x01binary")
    call = Background(link.conn.call, "Heartbeat", {})
    frame = link.expect()
    link.send([3, frame[1], HEARTBEAT_CONF])
    assert call.get(timeout=3) == HEARTBEAT_CONF
    protocol = link.sink.select(PROTOCOL)
    assert len(protocol) == len(GARBAGE) + 1
    assert all(isinstance(r.exception, errors.FrameError) for r in protocol)
    reasons = {str(r.exception) for r in protocol}
    assert "binary frame (OCPP-J uses text frames)" in reasons
    assert "invalid frame: not valid JSON" in reasons
    # A frame that starts as a CALL with a readable id is answered, so the CSMS is not left waiting.
    assert any(r.startswith("invalid CALL frame (answered FormationViolation)") for r in reasons)
    assert not link.conn.closed


def test_invalid_answer_to_a_pending_call_fails_that_call(link: Link) -> None:
    call = Background(link.conn.call, "Heartbeat", {})
    frame = link.expect()
    link.send([3, frame[1], "not an object"])
    with pytest.raises(errors.FrameError, match="invalid answer frame: CALLRESULT payload must be a JSON object"):
        call.get(timeout=3)
    assert link.outcomes() == [("Heartbeat", "FrameError")]


def test_non_json_answer_to_a_pending_call_fails_it_at_once(link: Link) -> None:
    started = time.monotonic()
    call = Background(link.conn.call, "Heartbeat", {})
    frame = link.expect()
    link.send(f'[3,"{frame[1]}",{{oops')
    with pytest.raises(errors.FrameError, match="invalid answer frame: not valid JSON"):
        call.get(timeout=3)
    assert time.monotonic() - started < 1.9, "the call failed at once, not after its timeout"
    assert link.outcomes() == [("Heartbeat", "FrameError")]
    assert link.sink.select(PROTOCOL) == []


# ---------------------------------------------------------------- CALLERROR


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        ("NotSupported", errors.NotSupportedError),
        ("FormatViolation", errors.FormationViolationError),
        ("OccurrenceConstraintViolation", errors.OccurenceConstraintViolationError),
        ("FormationViolation", errors.FormationViolationError),
        ("VendorSpecific", errors.UnknownCallErrorCode),
    ],
)
def test_call_error_is_a_typed_failure(link: Link, code: str, cls: type[errors.OcppCallError]) -> None:
    call = Background(link.conn.call, "Heartbeat", {})
    frame = link.expect()
    link.send([4, frame[1], code, "It went wrong", {"hint": 42}])
    with pytest.raises(cls) as info:
        call.get(timeout=3)
    assert info.value.code == code
    assert info.value.description == "It went wrong"
    assert info.value.details == {"hint": 42}
    [record] = link.sink.select(CP_TO_CSMS, "Heartbeat")
    assert record.exception is info.value
    shown = code if code != "VendorSpecific" else "(not an OCPP-J error code)"
    assert str(record.exception) == f"CALLERROR {shown}", "no CSMS text in the failure name"
    assert "It went wrong" in record.exception.detail


# ---------------------------------------------------------------- timeouts


def test_timeout_then_late_reply_is_counted_once_and_not_credited_elsewhere(link: Link) -> None:
    """Issue 9: the call timed out (one failure); its late answer is recognised and counted apart,
    never a second failure ("unknown message id")."""
    started = time.monotonic()
    late = Background(link.conn.call, "DataTransfer", {"vendorId": "V", "data": "late"}, timeout=0.3)
    late_frame = link.expect()
    with pytest.raises(errors.CallTimeout, match=r"no answer within 0\.3 s"):
        late.get(timeout=3)
    assert time.monotonic() - started < 1.9
    nxt = _data_transfer(link, "next")
    next_frame = link.expect()
    # The late answer arrives first, then the real one.
    link.send([3, late_frame[1], {"status": "Accepted", "data": "for the late call"}])
    link.send([3, next_frame[1], {"status": "Accepted", "data": "for the next call"}])
    assert nxt.get(timeout=3) == {"status": "Accepted", "data": "for the next call"}
    assert link.outcomes() == [("DataTransfer", "CallTimeout"), ("DataTransfer", None)]
    assert link.sink.select(PROTOCOL) == []
    assert link.conn.late_answers == 1
    # A second copy of that answer is no longer a late answer: a duplicate, a protocol error.
    link.send([3, late_frame[1], {"status": "Accepted", "data": "again"}])
    wait_for(lambda: link.sink.select(PROTOCOL))
    [protocol] = link.sink.select(PROTOCOL)
    assert str(protocol.exception) == "duplicate CALLRESULT: that call was answered already"


# ---------------------------------------------------------------- connection loss


def test_drop_fails_every_pending_call_at_once(parallel: Link) -> None:
    calls = [_data_transfer(parallel, str(i)) for i in range(3)]
    for _ in range(3):
        parallel.expect()
    started = time.monotonic()
    parallel.peer.close(code=1011, reason="going away")
    for call in calls:
        with pytest.raises(errors.ConnectionLost, match=r"^connection lost: ") as info:
            call.get(timeout=3)
    assert time.monotonic() - started < 1.9, "pending calls must not wait for their timeout"
    assert "1011" in str(info.value), "the peer's close code is part of the reason"
    assert parallel.outcomes() == [("DataTransfer", "ConnectionLost")] * 3
    assert parallel.conn.closed
    assert parallel.closes == [(parallel.conn.close_reason, False)]
    # A call on the closed connection fails at once, and is counted.
    with pytest.raises(errors.ConnectionLost):
        parallel.conn.call("Heartbeat", {})
    assert parallel.outcomes()[-1] == ("Heartbeat", "ConnectionLost")


def test_abrupt_socket_loss_fails_pending_calls(link: Link) -> None:
    call = Background(link.conn.call, "Heartbeat", {})
    link.expect()
    link.peer.close_socket()
    with pytest.raises(errors.ConnectionLost, match="connection lost"):
        call.get(timeout=3)
    assert link.outcomes() == [("Heartbeat", "ConnectionLost")]


def test_close_by_us_stops_pending_calls_and_reports_by_us(link: Link) -> None:
    """Issue 9: a call pending when we close our own connection is stopped by the harness: it
    raises CallCancelled, is told to ``on_stopped`` once, and is no failure event."""
    stopped: list[str] = []
    link.conn.on_stopped = stopped.append
    call = Background(link.conn.call, "Heartbeat", {})
    link.expect()
    link.conn.close()
    with pytest.raises(errors.CallCancelled):
        call.get(timeout=3)
    assert link.conn.closed
    assert link.closes == [("closed by the charge point", True)]
    assert stopped == ["Heartbeat"] and link.sink.select(CP_TO_CSMS) == []
    with pytest.raises(errors.CallCancelled):  # and one after the close is not a failure either
        link.conn.call("Heartbeat", {})
    assert stopped == ["Heartbeat", "Heartbeat"] and link.sink.failures() == []


def test_a_caller_killed_as_its_answer_arrives_is_stopped_once_and_not_woken_later(link: Link) -> None:
    """The caller is killed while its answer arrives: the kill is queued first, the answer's wake-up
    behind it. The call is accounted once, as stopped; the wake-up finds no caller waiting and goes
    nowhere (it must not land in what the greenlet does next: here, a sleep); the next call works."""
    stopped: list[str] = []
    link.conn.on_stopped = stopped.append
    seen: list[str] = []

    def call_then_sleep() -> None:
        try:
            link.conn.call("Heartbeat", {})
        except gevent.GreenletExit:
            seen.append("call stopped")
        try:
            gevent.sleep(0.1)
            seen.append("slept")
        except BaseException as exc:
            seen.append(f"sleep broken: {type(exc).__name__}")

    caller = gevent.spawn(call_then_sleep)
    frame = link.expect()
    caller.kill(block=False)
    # The receive loop's part, here, so that nothing runs in between.
    link.conn._on_message(orjson.dumps([3, frame[1], {"currentTime": "2026-01-01T00:00:00Z"}]))
    caller.join(timeout=3)
    assert seen == ["call stopped", "slept"]
    assert stopped == ["Heartbeat"] and link.sink.select(CP_TO_CSMS) == []
    follow = Background(link.conn.call, "Heartbeat", {})
    follow_frame = link.expect()
    link.send([3, follow_frame[1], {"currentTime": "2026-01-01T00:00:01Z"}])
    assert follow.get(timeout=3) == {"currentTime": "2026-01-01T00:00:01Z"}
    assert link.outcomes() == [("Heartbeat", None)] and link.sink.select(PROTOCOL) == []


# ---------------------------------------------------------------- schema validation


def test_our_invalid_request_is_refused_before_sending(link: Link) -> None:
    with pytest.raises(errors.SchemaViolation) as info:
        link.conn.call("BootNotification", {"chargePointVendor": "V", "chargePointModel": "M" * 21})
    assert (info.value.field, info.value.rule) == ("chargePointModel", "maxLength")
    assert link.nothing_sent(within=0.3)
    assert link.outcomes() == [("BootNotification", "SchemaViolation")]


def test_csms_response_violating_its_schema_is_a_failure(link: Link) -> None:
    call = Background(link.conn.call, "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"})
    frame = link.expect()
    link.send([3, frame[1], {"status": "OK", "currentTime": NOW, "interval": 10}])
    with pytest.raises(errors.SchemaViolation, match=r"BootNotification\.conf") as info:
        call.get(timeout=3)
    assert (info.value.field, info.value.rule) == ("status", "enum")
    assert link.outcomes() == [("BootNotification", "SchemaViolation")]


def test_validation_off_lets_both_directions_through(peer: ScriptedPeer) -> None:
    link = _open(peer, validate=False)
    try:
        call = Background(link.conn.call, "BootNotification", {"chargePointModel": "M" * 30})
        frame = link.expect()
        assert frame[3] == {"chargePointModel": "M" * 30}
        link.send([3, frame[1], {"status": "OK"}])
        assert call.get(timeout=3) == {"status": "OK"}
        link.send([2, "in-1", "Reset", {"type": "Sideways"}])
        assert link.expect() == [3, "in-1", {"status": "Accepted"}]
        assert link.handlers.seen == [("Reset", {"type": "Sideways"})]
    finally:
        link.conn.abort()


# ---------------------------------------------------------------- inbound CALLs


@pytest.mark.parametrize(
    ("call", "answer"),
    [
        ([2, "r1", "Reset", {"type": "Hard"}], [3, "r1", {"status": "Accepted"}]),
        ([2, "r2", "Reset", {"type": "Sideways"}], [4, "r2", "PropertyConstraintViolation"]),
        ([2, "r3", "Reset", {}], [4, "r3", "OccurenceConstraintViolation"]),
        ([2, "r4", "Reset", {"type": 1}], [4, "r4", "TypeConstraintViolation"]),
        ([2, "r5", "Reset", {"type": "Soft", "extra": 1}], [4, "r5", "FormationViolation"]),
        ([2, "r6", "UnlockConnector", {"connectorId": 1}], [4, "r6", "NotSupported"]),
        ([2, "r7", "FlyToTheMoon", {}], [4, "r7", "NotImplemented"]),
        ([2, "r8", "ClearCache", {}], [4, "r8", "InternalError"]),
        ([2, "r9", "GetLocalListVersion", {}], [4, "r9", "InternalError"]),
        ([2, "r10", "DataTransfer", {"vendorId": "X"}], [4, "r10", "NotSupported"]),
    ],
)
def test_inbound_calls_are_answered(link: Link, call: list, answer: list) -> None:
    link.send(call)
    got = link.expect()
    assert got[: len(answer)] == answer
    if got[0] == 4:
        assert len(got) == 5 and isinstance(got[3], str) and isinstance(got[4], dict)
    [record] = link.sink.select(CSMS_TO_CP)
    assert record.name == (call[2] if call[2] in KNOWN_ACTIONS else "(unknown action)")
    assert (record.exception is None) == (answer[0] == 3)
    if answer[2:] == ["NotSupported"] and call[2] == "DataTransfer":
        assert got[3:] == ["not today", {"vendor": "X"}]


def test_reply_after_runs_once_the_answer_is_on_the_wire(link: Link) -> None:
    link.send([2, "ca-1", "ChangeAvailability", {"connectorId": 0, "type": "Inoperative"}])
    assert link.expect() == [3, "ca-1", {"status": "Accepted"}]
    follow_up = link.expect()
    assert follow_up[2] == "StatusNotification"
    link.send([3, follow_up[1], {}])
    assert link.handlers.after_ran.wait(timeout=3)
    assert link.outcomes() == [("StatusNotification", None)]


def test_inbound_call_while_our_call_is_pending(link: Link) -> None:
    call = Background(link.conn.call, "Heartbeat", {})
    ours = link.expect()
    link.send([2, "in-2", "Reset", {"type": "Soft"}])
    assert link.expect() == [3, "in-2", {"status": "Accepted"}]
    link.send([3, ours[1], HEARTBEAT_CONF])
    assert call.get(timeout=3) == HEARTBEAT_CONF


# ---------------------------------------------------------------- WebSocket framing details


def test_large_frames_both_ways(link: Link) -> None:
    """Payload lengths that need the 16- and 64-bit extended length fields, both directions."""
    for size in (200, 70_000, 300_000):
        call = _data_transfer(link, "q" * size)
        frame = link.expect()
        assert len(frame[3]["data"]) == size
        link.send([3, frame[1], {"status": "Accepted", "data": "r" * (size + 1)}])
        assert call.get(timeout=5) == {"status": "Accepted", "data": "r" * (size + 1)}


def test_fragmented_reply(link: Link) -> None:
    call = Background(link.conn.call, "Heartbeat", {})
    frame = link.expect()
    link.peer.send([f'[3,"{frame[1]}",', '{"currentTime":', f'"{NOW}"', "}]"])
    assert call.get(timeout=3) == HEARTBEAT_CONF


def test_ping_from_the_peer_is_answered(link: Link) -> None:
    pong = link.peer.ping(b"are you there")
    assert pong.wait(timeout=3), "no pong"
    assert not link.conn.closed


def test_burst_of_inbound_calls_is_answered_in_full(link: Link) -> None:
    for i in range(60):
        link.send([2, f"burst-{i}", "Reset", {"type": "Soft"}])
    answers = {tuple(link.expect()[:2]) for _ in range(60)}
    assert answers == {(3, f"burst-{i}") for i in range(60)}
    assert len(link.sink.select(CSMS_TO_CP, "Reset")) == 60
    assert link.sink.select(PROTOCOL) == []


# ---------------------------------------------------------------- end to end: the testbed's fault switches


@pytest.fixture
def booted(csms: TestbedProcess, cp_id: str) -> Iterator[Station]:
    """A booted charge point on the shared testbed, without reconnect, with 1 s call timeouts."""
    settings = ChargePointSettings(cp_id=cp_id, url=csms.ws_url, call_timeout=2.0, reconnect=False)
    cp = Station(settings, sink=Recorder())
    cp.connect()
    cp.boot()
    yield cp
    cp.stop(stop_transactions=False)


def set_fault(csms: TestbedProcess, name: str, **args: Any) -> None:
    status, body = csms.api("PUT", "/faults", {"name": name, **args})
    assert status == 200, body


def calls_received(csms: TestbedProcess, cp_id: str) -> list[str]:
    """Actions of the CALLs the testbed received from the charge point."""
    _, body = csms.api("GET", f"/cps/{cp_id}/messages")
    return [m["action"] for m in body["messages"] if m["direction"] == "in" and m["type"] == 2]


def wait_for(predicate: Any, timeout: float = 3.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        gevent.sleep(0.02)
    return value


def sink_of(cp: Station) -> Recorder:
    assert isinstance(cp.sink, Recorder)
    return cp.sink


class StoppedCalls:
    """A station's watcher that records the calls the harness stopped."""

    def __init__(self) -> None:
        self.actions: list[str] = []

    def changed(self, station: Station) -> None:
        pass

    def call_stopped(self, station: Station, action: str) -> None:
        self.actions.append(action)


def assert_every_call_accounted(csms: TestbedProcess, cp: Station, stopped: StoppedCalls | None = None) -> None:
    """Each CALL that reached the testbed is accounted exactly once: a sink event (succeeded, failed,
    timed out) or, when the harness stopped it, a stopped call (never a sink event)."""
    sent = sorted(calls_received(csms, cp.cp_id))
    accounted = [r.name for r in sink_of(cp).select(CP_TO_CSMS)] + (stopped.actions if stopped else [])
    assert sorted(accounted) == sent
    for record in sink_of(cp).failures():
        # Locust groups failures by str(exception): no charge point id, no message id in it.
        assert cp.cp_id not in repr(record.exception)
        assert cp.cp_id not in record.name


def test_e2e_malformed_answer_fails_the_call(csms: TestbedProcess, booted: Station) -> None:
    set_fault(csms, "malformed_frame", action="Heartbeat")
    started = time.monotonic()
    with pytest.raises(errors.FrameError, match="invalid answer frame: not valid JSON"):
        booted.heartbeat()
    assert time.monotonic() - started < 1.9, "failed on the frame, not by timeout"
    booted.authorize("VOCPP-VALID")
    assert_every_call_accounted(csms, booted)


def test_e2e_wrong_message_id(csms: TestbedProcess, booted: Station) -> None:
    set_fault(csms, "wrong_message_id", action="Heartbeat")
    with pytest.raises(errors.CallTimeout):
        booted.heartbeat()
    [protocol] = sink_of(booted).select(PROTOCOL, "inbound frame")
    assert isinstance(protocol.exception, errors.UnknownMessageId)
    assert booted.authorize("VOCPP-VALID")["idTagInfo"]["status"] == "Accepted"
    assert_every_call_accounted(csms, booted)


def test_e2e_no_answer_times_out_and_the_connection_lives_on(csms: TestbedProcess, booted: Station) -> None:
    set_fault(csms, "no_answer", action="Heartbeat")
    with pytest.raises(errors.CallTimeout, match=r"no answer within 0\.5 s"):
        booted.call("Heartbeat", {}, timeout=0.5)
    assert booted.connected
    booted.status_notification(1, "Available")
    assert_every_call_accounted(csms, booted)


def test_e2e_late_answer_is_not_credited_to_the_next_call(csms: TestbedProcess, booted: Station) -> None:
    set_fault(csms, "late_answer", seconds=1.0, action="Heartbeat")
    with pytest.raises(errors.CallTimeout):
        booted.call("Heartbeat", {}, timeout=0.4)
    # The testbed answers in order: the late Heartbeat answer arrives just before this one.
    assert booted.call("Authorize", {"idTag": "VOCPP-VALID"}, timeout=3) == {"idTagInfo": {"status": "Accepted"}}
    assert sink_of(booted).select(PROTOCOL) == []  # the late answer is counted once (the timeout), not twice
    assert booted.late_answers == 1
    assert [(r.name, r.ok) for r in sink_of(booted).select(CP_TO_CSMS)][-2:] == [
        ("Heartbeat", False),
        ("Authorize", True),
    ]
    assert_every_call_accounted(csms, booted)


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        ("FormatViolation", errors.FormationViolationError),
        ("OccurrenceConstraintViolation", errors.OccurenceConstraintViolationError),
        ("InternalError", errors.InternalError),
    ],
)
def test_e2e_call_error(csms: TestbedProcess, booted: Station, code: str, cls: type[errors.OcppCallError]) -> None:
    set_fault(
        csms, "callerror", action="Heartbeat", code=code, description="as configured", details={"from": "testbed"}
    )
    with pytest.raises(cls) as info:
        booted.heartbeat()
    assert (info.value.code, info.value.description, info.value.details) == (code, "as configured", {"from": "testbed"})
    assert sink_of(booted).select(CP_TO_CSMS, "Heartbeat")[0].exception is info.value
    assert_every_call_accounted(csms, booted)


def test_e2e_close_after_fails_the_pending_call(csms: TestbedProcess, booted: Station) -> None:
    set_fault(csms, "close_after", count=2)
    booted.heartbeat()
    with pytest.raises(errors.ConnectionLost, match="1011"):
        booted.heartbeat()
    assert not booted.connected
    assert booted.drops == 1
    [drop] = sink_of(booted).select(WEBSOCKET, "disconnect")
    assert isinstance(drop.exception, errors.ConnectionLost)
    with pytest.raises(errors.ConnectionLost):
        booted.heartbeat()
    assert [(r.name, type(r.exception).__name__) for r in sink_of(booted).select(CP_TO_CSMS)][-3:] == [
        ("Heartbeat", "NoneType"),
        ("Heartbeat", "ConnectionLost"),
        ("Heartbeat", "ConnectionLost"),
    ]


def test_e2e_unsolicited_result_is_a_protocol_error(csms: TestbedProcess, booted: Station) -> None:
    set_fault(csms, "unsolicited_result", action="Heartbeat")
    booted.heartbeat()
    wait = time.monotonic() + 2
    while not sink_of(booted).select(PROTOCOL) and time.monotonic() < wait:
        gevent.sleep(0.05)
    [protocol] = sink_of(booted).select(PROTOCOL)
    assert str(protocol.exception) == "CALLRESULT with unknown message id"
    booted.authorize("VOCPP-VALID")
    assert_every_call_accounted(csms, booted)


def test_e2e_malformed_call_from_the_csms(csms: TestbedProcess, booted: Station) -> None:
    set_fault(csms, "send_malformed_call")
    status, body = csms.api("POST", f"/cps/{booted.cp_id}/Reset", {"type": "Hard"})
    assert (status, body) == (200, {"sent_garbage": True})
    wait = time.monotonic() + 2
    while not sink_of(booted).select(PROTOCOL) and time.monotonic() < wait:
        gevent.sleep(0.05)
    [protocol] = sink_of(booted).select(PROTOCOL)
    assert str(protocol.exception) == "invalid CALL frame (answered FormationViolation): not valid JSON"
    assert booted.connected
    booted.heartbeat()
    _, log = csms.api("GET", f"/cps/{booted.cp_id}/messages")
    errors_in = [m for m in log["messages"] if m["direction"] == "in" and m["type"] == 4]
    assert [m["payload"]["errorCode"] for m in errors_in] == ["FormationViolation"]
    assert sink_of(booted).select(CSMS_TO_CP) == [], "nothing was handled, no reboot"


@pytest.mark.parametrize(
    ("action", "field", "rule"),
    [
        ("Heartbeat", "currentTime", "required"),
        ("Authorize", "idTagInfo.status", "enum"),
        ("StartTransaction", "transactionId", "type"),
    ],
)
def test_e2e_schema_invalid_response(csms: TestbedProcess, booted: Station, action: str, field: str, rule: str) -> None:
    set_fault(csms, "schema_invalid_response", action=action)
    with pytest.raises(errors.SchemaViolation) as info:
        if action == "Heartbeat":
            booted.heartbeat()
        elif action == "Authorize":
            booted.authorize("VOCPP-VALID")
        else:
            booted.start_transaction(1, "VOCPP-VALID")
    assert (info.value.field, info.value.rule) == (field, rule)
    assert f"{action}.conf schema violation" in str(info.value)
    assert_every_call_accounted(csms, booted)


def test_e2e_refused_subprotocol(csms: TestbedProcess, cp_id: str) -> None:
    set_fault(csms, "refuse_subprotocol")
    sink = Recorder()
    cp = Station(ChargePointSettings(cp_id=cp_id, url=csms.ws_url, reconnect=False), sink=sink)
    with pytest.raises(errors.SubprotocolMismatch, match="no subprotocol"):
        cp.connect()
    [event] = sink.select(WEBSOCKET, "connect")
    assert isinstance(event.exception, errors.SubprotocolMismatch)
    assert not cp.connected


def test_e2e_drop_on_boot(csms: TestbedProcess, cp_id: str) -> None:
    set_fault(csms, "drop_on_boot")
    sink = Recorder()
    cp = Station(ChargePointSettings(cp_id=cp_id, url=csms.ws_url, reconnect=False, call_timeout=3), sink=sink)
    cp.connect()
    with pytest.raises(errors.ConnectionLost, match="1011"):
        cp.boot()
    assert [(r.name, type(r.exception)) for r in sink.select(CP_TO_CSMS)] == [
        ("BootNotification", errors.ConnectionLost)
    ]
    cp.stop(stop_transactions=False)


@pytest.mark.parametrize("serialize", [True, False])
def test_e2e_outstanding_calls(csms: TestbedProcess, cp_id: str, serialize: bool) -> None:
    """By default a second CALL waits for the first's answer; with serialize_calls=False it does not."""
    settings = ChargePointSettings(
        cp_id=cp_id, url=csms.ws_url, call_timeout=3, serialize_calls=serialize, reconnect=False
    )
    cp = Station(settings, sink=Recorder())
    cp.connect()
    try:
        cp.boot()
        set_fault(csms, "late_answer", seconds=0.5, action="Heartbeat")
        first = Background(cp.heartbeat)
        gevent.sleep(0.05)
        second = Background(cp.authorize, "VOCPP-VALID")
        first.get(timeout=3)
        second.get(timeout=3)
        _, body = csms.api("GET", f"/cps/{cp_id}/messages")
        order = [(m["direction"], m["action"]) for m in body["messages"]]
        heartbeat_answered = order.index(("out", "Heartbeat"))
        authorize_sent = order.index(("in", "Authorize"))
        assert (authorize_sent > heartbeat_answered) is serialize, order
        assert_every_call_accounted(csms, cp)
    finally:
        cp.stop(stop_transactions=False)


def test_a_callers_own_timeout_or_kill_is_accounted_once_and_not_swallowed(
    csms: TestbedProcess, booted: Station
) -> None:
    """Issue 9: what the harness does to itself (its own timeout, killing its caller) is accounted
    once, as a stopped call, and never as a CSMS failure."""
    stopped = StoppedCalls()
    booted.watch(stopped)
    set_fault(csms, "no_answer", action="Heartbeat")
    with pytest.raises(gevent.Timeout), gevent.Timeout(0.3):
        booted.call("Heartbeat", {}, timeout=5)
    caller = gevent.spawn(booted.call, "Heartbeat", {}, timeout=5)
    gevent.sleep(0.3)
    caller.kill()
    assert sink_of(booted).select(CP_TO_CSMS, "Heartbeat") == []
    assert stopped.actions == ["Heartbeat", "Heartbeat"] and booted.calls_stopped == 2
    assert_every_call_accounted(csms, booted, stopped)
    assert booted.connected
    booted.status_notification(1, "Available")  # the lock was released: the next call goes out


def test_slow_answers_one_after_another_never_time_out_early(csms: TestbedProcess, cp_id: str) -> None:
    """Each call has its own timer: eight 0.5 s answers in a row under a 2 s call timeout all
    succeed (a timer restarted after a stop once fired as if it had run all along)."""
    sink = Recorder()
    cp = Station(ChargePointSettings(cp_id=cp_id, url=csms.ws_url, reconnect=False, call_timeout=2.0), sink=sink)
    cp.connect()
    try:
        cp.boot()
        set_fault(csms, "late_answer", seconds=0.5, action="Heartbeat")
        for _ in range(8):
            cp.heartbeat()
    finally:
        cp.stop(stop_transactions=False)
    assert sink.failures() == []


# ---------------------------------------------------------------- our own close is never the CSMS's failure


def test_a_call_made_while_we_abort_is_stopped_not_failed(link: Link) -> None:
    """A storm's abort yields while it ends the receiver; a call another greenlet makes meanwhile is
    stopped by the run, never a ConnectionLost failure row."""
    stopped: list[str] = []
    link.conn.on_stopped = stopped.append
    caller = gevent.spawn(link.conn.call, "Heartbeat", {})  # runs when abort() yields
    link.conn.abort("storm")
    caller.join(timeout=3)
    assert isinstance(caller.exception, errors.CallCancelled), caller.exception
    assert link.sink.failures() == [] and stopped == ["Heartbeat"]


def _csms_call_then_our_close(link: Link, call: list[Any]) -> list[str]:
    """The CSMS's CALL is on the wire when we close (a stop); the actions counted as stopped by the run."""
    stopped: list[str] = []
    link.conn.on_stopped = stopped.append
    link.send(call)
    link.conn.close(wait=1.0)
    gevent.sleep(0.3)
    return stopped


def test_the_answer_to_a_csms_call_cut_off_by_our_close_is_no_failure(link: Link) -> None:
    """The CSMS's CALL is on the wire when we close (a stop): its answer cannot go out, and that is ours."""
    stopped = _csms_call_then_our_close(link, [2, "r2", "Reset", {"type": "Soft"}])
    assert link.handlers.seen == [("Reset", {"type": "Soft"})]  # the CALL was read and handled
    assert stopped == ["Reset"]  # its answer, cut off by our close, is stopped by the run
    assert [r for r in link.sink.select(CSMS_TO_CP) if r.exception is not None] == []
    assert link.sink.failures() == []


def test_an_invalid_csms_call_cut_off_by_our_close_is_still_its_failure(link: Link) -> None:
    """Our close keeps the answer from going out, but what the CSMS sent was wrong all the same."""
    stopped = _csms_call_then_our_close(link, [2, "r3", "Reset", {"type": "NotAType"}])
    assert stopped == []
    [record] = link.sink.select(CSMS_TO_CP)
    assert record.name == "Reset" and isinstance(record.exception, errors.OcppCallError), record


def test_an_abort_of_ours_during_a_peer_fault_abort_leaves_it_the_peers(link: Link) -> None:
    """A missing pong's abort is under way (it waits for the receiver) when a storm's abort of ours
    comes: the connection still ends as the CSMS's doing (a counted disconnect, calls lost)."""
    call = Background(link.conn.call, "Heartbeat", {})
    link.expect()
    storm = gevent.spawn(link.conn.abort, "storm")  # runs while the first abort waits
    link.conn.abort("no pong", by_us=False)
    storm.join(timeout=3)
    with pytest.raises(errors.ConnectionLost):
        call.get(timeout=3)
    assert link.closes == [("no pong", False)]
    assert [name for name, outcome in link.outcomes() if outcome == "ConnectionLost"] == ["Heartbeat"]


def test_a_caller_killed_while_waiting_its_turn_is_counted_once_as_stopped(link: Link) -> None:
    stopped: list[str] = []
    link.conn.on_stopped = stopped.append
    first = Background(link.conn.call, "Heartbeat", {})
    frame = link.expect()
    second = gevent.spawn(link.conn.call, "Heartbeat", {})  # waits for the first (one outstanding CALL)
    gevent.sleep(0.05)
    second.kill(block=True)
    link.send([3, frame[1], {"currentTime": "2026-01-01T00:00:00Z"}])
    first.get(timeout=3)
    assert stopped == ["Heartbeat"]
    assert link.outcomes() == [("Heartbeat", None)]


def test_a_peer_fault_abort_during_our_close_does_not_turn_it_into_a_failure(link: Link) -> None:
    """close() under way (the peer does not answer the close frame), then a missing pong's abort:
    our close decides; its calls in flight are stopped, not the CSMS's failures."""
    call = Background(link.conn.call, "Heartbeat", {})
    link.expect()
    closer = gevent.spawn(link.conn.close, 1000, "", 1.0)
    gevent.sleep(0)
    link.conn.abort("no pong", by_us=False)
    closer.join(timeout=3)
    with pytest.raises(errors.CallCancelled):
        call.get(timeout=3)
    assert link.sink.failures() == []
    assert [by_us for _reason, by_us in link.closes] == [True]
