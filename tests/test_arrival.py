"""A round trip's latency is the CSMS's, not the harness's: it ends when the answer arrived (the
kernel's receive timestamp on ws://), not when our event loop got round to it.

The real tests stall our own event loop while an answer is on its way from the testbed: the
latency reported must not contain the stall (it would, timed in user space), and a CSMS that is
really slow must still be measured slow.
"""

from __future__ import annotations

import socket
import ssl
import struct
import time
from collections.abc import Callable

import gevent

from ocpp_users.embedded import TestbedProcess
from ocpp_users.ocppj import arrival
from ocpp_users.ocppj.sink import CP_TO_CSMS, Recorder
from ocpp_users.ocppj.transport import FrameReader
from ocpp_users.v16.station import Station
from tests.test_handlers import make_charger  # noqa: F401  (the fixture)

STALL_S = 0.3


def _stall_our_loop(seconds: float) -> None:
    """Hold the event loop (no yield), as a burst of our own work or a stats tick would."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def _heartbeat_during_a_stall(cp: Station) -> tuple[float, float]:
    """A Heartbeat whose answer arrives while our loop is stalled: (reported ms, caller's wall ms)."""
    sink = cp.sink
    assert isinstance(sink, Recorder)
    before = len(sink.select(CP_TO_CSMS, "Heartbeat"))
    gevent.spawn(_stall_our_loop, STALL_S)  # runs as soon as the call has sent and waits
    started = time.perf_counter()
    cp.call("Heartbeat", {})
    wall_ms = (time.perf_counter() - started) * 1000.0
    records = sink.select(CP_TO_CSMS, "Heartbeat")[before:]
    assert len(records) == 1 and records[0].exception is None, records
    return records[0].response_time, wall_ms


def test_our_own_stall_is_not_the_csms_latency(make_charger: Callable[..., Station]) -> None:  # noqa: F811
    cp = make_charger()
    reported, wall = _heartbeat_during_a_stall(cp)
    assert wall >= STALL_S * 1000.0, wall  # the caller did wait through the stall
    # The testbed answers a Heartbeat in about a millisecond; timed in user space this would be >= 300.
    assert reported < STALL_S * 1000.0 / 2, (reported, wall)


def test_a_slow_csms_is_still_measured_slow(make_charger: Callable[..., Station], csms: TestbedProcess) -> None:  # noqa: F811
    cp = make_charger()
    status, _ = csms.api("PUT", "/faults", {"name": "late_answer", "seconds": 0.25, "action": "Heartbeat"})
    assert status == 200
    reported, wall = _heartbeat_during_a_stall(cp)
    assert 250.0 <= reported <= wall, (reported, wall)


def test_round_trip_falls_back_to_user_space_when_the_stamp_does_not_fit() -> None:
    sent = 1_000_000_000_000
    woken = sent + 7_500_000  # the wall clock agrees with the monotonic 7.5 ms
    assert arrival.round_trip_ms(sent, 0, 7.5, woken) == 7.5  # no stamp
    assert arrival.round_trip_ms(sent, sent + 2_000_000, 7.5, woken) == 2.0  # arrived 2 ms after the send
    assert arrival.round_trip_ms(sent, sent - 1, 7.5, woken) == 7.5  # before the send
    assert arrival.round_trip_ms(sent, sent + 9_000_000, 7.5, woken) == 7.5  # after we had the answer
    # The wall clock stepped back 5 ms during the call: the stamp would say 2 ms; the call took 7.5.
    assert arrival.round_trip_ms(sent, sent + 2_000_000, 7.5, woken - 5_000_000) == 7.5


# ---------------------------------------------------------------- the frame reader's arrival times


def _frame(payload: bytes) -> bytes:
    return bytes((0x81, len(payload))) + payload  # unmasked text frame, < 126 bytes


class _WS:
    """What FrameReader reads from: a connected socket (a real one, loopback TCP)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.connected = True


def _tcp_pair() -> tuple[socket.socket, socket.socket]:
    with socket.create_server(("127.0.0.1", 0)) as server:
        ours = socket.create_connection(server.getsockname())
        theirs, _ = server.accept()
    return ours, theirs


def test_a_frame_read_late_keeps_the_kernels_arrival_time() -> None:
    ours, theirs = _tcp_pair()
    with ours, theirs:
        reader = FrameReader(_WS(ours))  # type: ignore[arg-type]
        sent = time.time_ns()
        theirs.sendall(_frame(b'[3,"a",{}]'))
        _stall_our_loop(0.2)  # the bytes wait in the kernel meanwhile
        assert reader.next() == (1, b'[3,"a",{}]')
        assert reader.arrived_ns - sent < 100_000_000, (reader.arrived_ns - sent) / 1e6


def test_a_frame_split_over_reads_arrived_with_its_last_part() -> None:
    ours, theirs = _tcp_pair()
    with ours, theirs:
        reader = FrameReader(_WS(ours))  # type: ignore[arg-type]
        whole = _frame(b'[3,"b",{}]')
        theirs.sendall(whole[:5])
        receiving = gevent.spawn(reader.next)
        gevent.sleep(0.2)
        rest_sent = time.time_ns()
        theirs.sendall(whole[5:])
        assert receiving.get(timeout=3) == (1, b'[3,"b",{}]')
        assert reader.arrived_ns >= rest_sent, (reader.arrived_ns - rest_sent) / 1e6


def test_frames_read_together_are_never_given_an_earlier_time_than_their_read() -> None:
    """Two frames in one read: the stamp (the last packet's, possibly merged) is not trusted for
    the first; it gets the time the reader took it, which is never earlier than its arrival."""
    ours, theirs = _tcp_pair()
    with ours, theirs:
        reader = FrameReader(_WS(ours))  # type: ignore[arg-type]
        theirs.sendall(_frame(b"first") + _frame(b"second"))
        _stall_our_loop(0.2)
        read_after = time.time_ns()
        assert reader.next() == (1, b"first")
        assert reader.arrived_ns >= read_after
        assert reader.next() == (1, b"second")
        assert reader.arrived_ns >= read_after


def test_stamp_reads_a_timespec_control_message() -> None:
    assert arrival.SO_TIMESTAMPNS is not None
    data = struct.pack("@qq", 1_700_000_000, 123_456_789)
    message = (socket.SOL_SOCKET, arrival.SO_TIMESTAMPNS, data)
    assert arrival.stamp([message]) == 1_700_000_000_123_456_789
    before = time.time_ns()
    assert arrival.stamp([(socket.SOL_SOCKET, arrival.SO_TIMESTAMPNS, data[:8])]) >= before  # malformed: now
    assert arrival.stamp([]) >= before


def test_the_kernel_stamps_a_loopback_tcp_socket() -> None:
    """The platform this runs on gives receive timestamps (else every figure falls back)."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        client = socket.create_connection(server.getsockname())
        peer, _ = server.accept()
        with client, peer:
            assert arrival.enable(peer)
            client.sendall(b"x")
            data, ancillary, _flags, _address = peer.recvmsg(16, arrival.ANCILLARY_SIZE)
            now = time.time_ns()
            assert data == b"x"
            stamped = arrival.stamp(ancillary)
            assert ancillary and 0 <= now - stamped < 1_000_000_000, (ancillary, now - stamped)


def test_tls_sockets_are_not_stamped() -> None:
    context = ssl.create_default_context()
    with context.wrap_socket(socket.socket(), server_hostname="localhost", do_handshake_on_connect=False) as tls:
        assert not arrival.enable(tls)
