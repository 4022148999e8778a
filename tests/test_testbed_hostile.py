"""The testbed's hostile faults and what it reports about connections (issue 10): their arguments
are checked, ``GET /connections`` lists open sockets, ``close_replaced`` is a checked config key."""

from __future__ import annotations

from typing import Any

import pytest

from ocpp_users.embedded import TestbedProcess
from testbed import rawframes
from testbed.faults import parse_fault


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"name": "extra_frame"}, "argument 'kind' is required"),
        ({"name": "extra_frame", "kind": "gibberish"}, "kind must be one of"),
        ({"name": "length_bomb", "size": 0}, "size must be between"),
        ({"name": "length_bomb", "limit": 1 << 40}, "limit must be between"),
        ({"name": "long_message_id", "length": 0}, "length must be between"),
        ({"name": "repeat_call", "times": 1000}, "times must be between"),
    ],
)
def test_bad_fault_arguments_are_refused(body: dict[str, Any], needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        parse_fault(body)


def test_fault_defaults() -> None:
    assert parse_fault({"name": "length_bomb"}) == {"name": "length_bomb", "size": 1 << 40, "limit": 1 << 28}
    assert parse_fault({"name": "long_message_id"})["length"] == 40
    assert parse_fault({"name": "callerror"})["vary"] is False


def test_raw_frames_follow_rfc_6455_framing() -> None:
    assert rawframes.header(rawframes.TEXT, 5) == b"\x81\x05"
    assert rawframes.header(rawframes.TEXT, 300) == b"\x81\x7e\x01\x2c"
    assert rawframes.header(rawframes.TEXT, 1 << 40) == b"\x81\x7f" + (1 << 40).to_bytes(8, "big")
    masked = rawframes.frame(rawframes.TEXT, b"hello", masked=True)
    assert masked[1] == 0x85 and bytes(b ^ masked[2 + i % 4] for i, b in enumerate(masked[6:])) == b"hello"
    assert rawframes.frame(rawframes.TEXT, b"x", rsv=0x40)[0] == 0xC1


def test_connections_and_close_replaced(csms: TestbedProcess) -> None:
    status, body = csms.api("GET", "/connections")
    assert status == 200 and isinstance(body["connections"], list)
    assert csms.api("PATCH", "/config", {"close_replaced": "no"})[0] == 400
    status, body = csms.api("PATCH", "/config", {"close_replaced": False})
    assert status == 200 and body["close_replaced"] is False
    csms.api("POST", "/reset")
    assert csms.api("GET", "/config")[1]["close_replaced"] is True
