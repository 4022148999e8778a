"""OCPP-J framing: ``frames.parse`` and the frame classes, plus the CALLERROR code mapping.

Property-based: whatever arrives on the socket, ``parse`` returns a frame or raises
``FrameError`` and nothing else, so the receive loop can never die on a peer's garbage.
"""

from __future__ import annotations

import json

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ocpp_users.ocppj import errors, frames
from ocpp_users.ocppj.errors import FrameError
from ocpp_users.ocppj.frames import Call, CallError, CallResult, parse, peek_message_id

FUZZ = settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

# ---------------------------------------------------------------- valid frames


def test_parse_call() -> None:
    frame = parse('[2, "abc-1", "Reset", {"type": "Soft"}]')
    assert frame == Call("abc-1", "Reset", {"type": "Soft"})


def test_parse_callresult_from_bytes() -> None:
    frame = parse(b'[3,"abc-2",{"currentTime":"2024-01-01T00:00:00Z"}]')
    assert frame == CallResult("abc-2", {"currentTime": "2024-01-01T00:00:00Z"})


def test_parse_callerror() -> None:
    frame = parse('[4,"abc-3","NotSupported","nope",{"why":"because"}]')
    assert frame == CallError("abc-3", "NotSupported", "nope", {"why": "because"})


def test_message_id_of_exactly_36_characters_is_accepted() -> None:
    ident = "x" * frames.MAX_ID_LENGTH
    assert parse(f'[3,"{ident}",{{}}]').message_id == ident


@pytest.mark.parametrize(
    "frame",
    [
        Call("m1", "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"}),
        CallResult("m2", {"status": "Accepted"}),
        CallError("m3", "GenericError", "désolé ✓", {"k": [1, 2.5, None, True]}),
        CallError("m4", "InternalError"),
    ],
)
def test_to_json_round_trip(frame: Call | CallResult | CallError) -> None:
    raw = frame.to_json()
    assert isinstance(raw, bytes)
    assert parse(raw) == frame
    assert parse(raw.decode()) == frame


def test_to_json_wire_layout() -> None:
    assert json.loads(Call("i", "Heartbeat", {}).to_json()) == [2, "i", "Heartbeat", {}]
    assert json.loads(CallResult("i", {}).to_json()) == [3, "i", {}]
    assert json.loads(CallError("i", "NotImplemented", "d", {}).to_json()) == [4, "i", "NotImplemented", "d", {}]


# ---------------------------------------------------------------- invalid frames


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        ("", "not valid JSON"),
        ("{oops", "not valid JSON"),
        ('[3,"id",{oops', "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        ("[" * 5000 + "]" * 5000, "not valid JSON"),
        ("1e999", "not valid JSON"),
        ('{"a": 1}', "not a JSON array but dict"),
        ('"text"', "not a JSON array but str"),
        ("null", "not a JSON array"),
        ("[]", "empty array"),
        ('[true, "id", {}]', "message type must be 2, 3 or 4"),
        ('["2", "id", "Heartbeat", {}]', "message type must be 2, 3 or 4"),
        ('[2.0, "id", "Heartbeat", {}]', "message type must be 2, 3 or 4"),
        ('[5, "id", {}]', "unknown message type"),
        ('[1, "id", {}]', "unknown message type"),
        ('[2, "id", "Heartbeat"]', "CALL must have 4 elements, got 3"),
        ('[2, "id", "Heartbeat", {}, {}]', "CALL must have 4 elements, got 5"),
        ('[2, "id", "", {}]', "CALL action must be a non-empty string"),
        ('[2, "id", 7, {}]', "CALL action must be a non-empty string"),
        ('[2, "id", "Heartbeat", []]', "CALL payload must be a JSON object, got list"),
        ('[2, 17, "Heartbeat", {}]', "message id must be a string, got int"),
        ('[2, null, "Heartbeat", {}]', "message id must be a string, got NoneType"),
        ('[3, "id"]', "CALLRESULT must have 3 elements, got 2"),
        ('[3, "id", {}, {}]', "CALLRESULT must have 3 elements, got 4"),
        ('[3, "id", "ok"]', "CALLRESULT payload must be a JSON object, got str"),
        ('[3, "id", null]', "CALLRESULT payload must be a JSON object, got NoneType"),
        ('[4, "id", "GenericError", "d"]', "CALLERROR must have 5 elements, got 4"),
        ('[4, "id", 5, "d", {}]', "CALLERROR code must be a string"),
        ('[4, "id", "GenericError", null, {}]', "CALLERROR description must be a string"),
        ('[4, "id", "GenericError", "d", []]', "CALLERROR details must be a JSON object, got list"),
        (f'[3, "{"y" * 37}", {{}}]', "message id longer than 36 characters"),
    ],
)
def test_invalid_frames_raise_frame_error_naming_the_problem(raw: str | bytes, needle: str) -> None:
    with pytest.raises(FrameError) as info:
        parse(raw)
    assert needle in str(info.value)
    assert info.value.raw == raw, "the offending frame is kept for the protocol error log"


def test_frame_error_reason_is_bounded_for_huge_type_values() -> None:
    with pytest.raises(FrameError) as info:
        parse(orjson.dumps(["x" * 10_000, "id", {}]))
    assert len(str(info.value)) <= 120


def test_peek_message_id() -> None:
    assert peek_message_id('[3, "the-id", "not an object"]') == "the-id"
    assert peek_message_id('[2, "call-id", 5, {}]') == "call-id"
    # Not JSON as a whole, but the id is readable: the pending call can be failed at once.
    assert peek_message_id('[3,"id",{oops') == "id"
    assert peek_message_id(b'[4 , "e-1", "Generic') == "e-1"
    assert peek_message_id('[3,"' + "z" * 37 + '",{oops') is None
    assert peek_message_id('[7,"id",{oops') is None
    assert peek_message_id("garbage") is None
    assert peek_message_id("[3, 17, {}]") is None
    assert peek_message_id("[3]") is None
    assert peek_message_id('{"a": 1}') is None


# ---------------------------------------------------------------- CALLERROR codes


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        ("NotImplemented", errors.NotImplementedCallError),
        ("NotSupported", errors.NotSupportedError),
        ("InternalError", errors.InternalError),
        ("ProtocolError", errors.ProtocolCallError),
        ("SecurityError", errors.SecurityCallError),
        ("FormationViolation", errors.FormationViolationError),
        ("FormatViolation", errors.FormationViolationError),
        ("PropertyConstraintViolation", errors.PropertyConstraintViolationError),
        ("OccurenceConstraintViolation", errors.OccurenceConstraintViolationError),
        ("OccurrenceConstraintViolation", errors.OccurenceConstraintViolationError),
        ("TypeConstraintViolation", errors.TypeConstraintViolationError),
        ("GenericError", errors.GenericError),
        ("SomethingElse", errors.UnknownCallErrorCode),
    ],
)
def test_call_error_for_maps_codes_and_keeps_them_as_sent(code: str, cls: type[errors.OcppCallError]) -> None:
    err = errors.call_error_for(code, "the description", {"a": 1})
    assert type(err) is cls
    assert err.code == code, "2.0.1 spellings are reported as the CSMS sent them"
    assert err.description == "the description"
    assert err.details == {"a": 1}
    # The name carries the code (when OCPP-J defines it), never the description the CSMS chose.
    shown = code if code != "SomethingElse" else "(not an OCPP-J error code)"
    assert str(err) == f"CALLERROR {shown}"
    assert "the description" in err.detail


def test_error_reprs_carry_the_reason_only() -> None:
    assert str(errors.CallTimeout("no answer within 3 s")) == "no answer within 3 s"
    assert repr(errors.ConnectionLost("connection lost: x")) == "ConnectionLost('connection lost: x')"
    assert str(errors.NotSupportedError()) == "CALLERROR NotSupported"


# ---------------------------------------------------------------- property-based fuzzing


def _only_frame_or_frame_error(raw: str | bytes) -> None:
    try:
        frame = parse(raw)
    except FrameError as exc:
        assert isinstance(exc.reason, str) and exc.reason
        return
    assert isinstance(frame, Call | CallResult | CallError)
    assert isinstance(frame.message_id, str) and len(frame.message_id) <= frames.MAX_ID_LENGTH
    # A frame that parsed must survive a round trip unchanged.
    assert parse(frame.to_json()) == frame


@FUZZ
@given(st.binary(max_size=300))
def test_fuzz_arbitrary_bytes(raw: bytes) -> None:
    _only_frame_or_frame_error(raw)


@FUZZ
@given(st.text(max_size=300))
def test_fuzz_arbitrary_text(raw: str) -> None:
    _only_frame_or_frame_error(raw)


JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=25,
)


@FUZZ
@given(JSON_VALUES)
def test_fuzz_arbitrary_json_values(value: object) -> None:
    _only_frame_or_frame_error(orjson.dumps(value))


MESSAGE_IDS = st.text(max_size=40) | JSON_SCALARS
NEAR_VALID = st.one_of(
    st.tuples(st.sampled_from([2, 3, 4, 0, 5, -1, True, 2.0, "2"]), MESSAGE_IDS).map(list),
    st.tuples(st.just(2), MESSAGE_IDS, st.text(max_size=30) | JSON_SCALARS, JSON_VALUES).map(list),
    st.tuples(st.just(3), MESSAGE_IDS, JSON_VALUES).map(list),
    st.tuples(st.just(4), MESSAGE_IDS, JSON_VALUES, JSON_VALUES, JSON_VALUES).map(list),
    st.lists(JSON_VALUES, max_size=7),
    st.tuples(st.sampled_from([2, 3, 4]), st.text(max_size=36), JSON_VALUES, JSON_VALUES).map(list),
    st.tuples(st.just(4), st.text(max_size=36), st.text(max_size=30), JSON_VALUES).map(list),
)


@FUZZ
@given(NEAR_VALID)
def test_fuzz_near_valid_arrays(value: list[object]) -> None:
    _only_frame_or_frame_error(orjson.dumps(value))


@FUZZ
@given(NEAR_VALID, st.integers(min_value=0, max_value=200), st.binary(max_size=3))
def test_fuzz_truncated_and_spliced_frames(value: list[object], cut: int, junk: bytes) -> None:
    raw = orjson.dumps(value)
    _only_frame_or_frame_error(raw[:cut] + junk + raw[cut:])
    _only_frame_or_frame_error(raw[:cut])


@FUZZ
@given(
    st.text(min_size=0, max_size=36),
    st.text(min_size=1, max_size=40),
    st.dictionaries(st.text(max_size=10), JSON_VALUES, max_size=4),
)
def test_fuzz_valid_frames_parse_to_what_was_sent(message_id: str, action: str, payload: dict) -> None:
    assert parse(orjson.dumps([2, message_id, action, payload])) == Call(message_id, action, payload)
    assert parse(orjson.dumps([3, message_id, payload])) == CallResult(message_id, payload)
    assert parse(orjson.dumps([4, message_id, action, "d", payload])) == CallError(message_id, action, "d", payload)
