"""frame.invalid_utf8: a text frame whose bytes are not UTF-8."""

from __future__ import annotations

from scenarios.robustness.base import RobustCase, register
from scenarios.robustness.expect import CLOSE_ALLOWED, FORMAT_CODES, CallError, Closed, Dropped


@register
class InvalidUtf8(RobustCase):
    case_id = "frame.invalid_utf8"
    title = "A text frame that is not UTF-8"
    clause = "OCPP-J 1.6 §4.1.2; RFC 6455 §8.1"
    requirement = (
        "The whole message consisting of wrapper and payload MUST be valid JSON encoded with the UTF-8 character "
        "encoding. (RFC 6455 §8.1: When an endpoint is to interpret a byte stream as UTF-8 but finds that the byte "
        "stream is not, in fact, a valid UTF-8 stream, that endpoint MUST _Fail the WebSocket Connection_; close "
        "code 1007.)"
    )
    sends = 'an Authorize CALL whose idTag holds the bytes C3 28 (not UTF-8): [2,"<id>","Authorize",{"idTag":"\\xc3("}]'
    passed = (Closed(1007),)
    non_strict = (
        Closed(why=CLOSE_ALLOWED + " (RFC 6455 asks for close code 1007)"),
        CallError(*FORMAT_CODES, minus_one=True, why="a CALLERROR instead of failing the WebSocket connection"),
        Dropped(why="the frame ignored instead of failing the WebSocket connection"),
    )
    order = 13

    def frame(self, message_id: str) -> bytes:
        return b'[2,"' + message_id.encode() + b'","Authorize",{"idTag":"\xc3("}]'
