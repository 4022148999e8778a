"""Validation against the official OCPP 1.6 JSON schemas: violations name field and rule, map to
the right CALLERROR code, and nothing but ``SchemaViolation`` ever comes out (property-based)."""

from __future__ import annotations

import re

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ocpp_users.ocppj import errors, schemas
from ocpp_users.ocppj.errors import SchemaViolation
from ocpp_users.v16.actions import CP_INITIATED, CSMS_INITIATED, SECURITY_EXTENSION, Action
from ocpp_users.v16.protocol import SCHEMAS

FUZZ = settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

BOOT = {"chargePointVendor": "VolatileOCPP", "chargePointModel": "VirtualCP"}


def violation(action: str, payload: object, *, response: bool = False) -> SchemaViolation:
    with pytest.raises(SchemaViolation) as info:
        SCHEMAS.validate(action, payload, response=response)
    return info.value


def test_every_1_6_action_has_request_and_response_schemas() -> None:
    for action in Action:
        assert SCHEMAS.has_schema(action), action
        assert schemas._validator(SCHEMAS.package, action, True) is not None, action


def test_valid_payloads_pass() -> None:
    SCHEMAS.validate_request("BootNotification", BOOT)
    SCHEMAS.validate_request("Heartbeat", {})
    SCHEMAS.validate_response("Heartbeat", {"currentTime": "2024-05-01T10:00:00.123Z"})
    SCHEMAS.validate_response(
        "StartTransaction", {"transactionId": 7, "idTagInfo": {"status": "Accepted", "parentIdTag": "P"}}
    )
    SCHEMAS.validate_request(
        "StatusNotification",
        {"connectorId": 1, "errorCode": "NoError", "status": "Charging", "timestamp": "2024-05-01T10:00:00Z"},
    )


def test_unknown_action_has_no_schema_and_passes() -> None:
    assert not SCHEMAS.has_schema("NoSuchAction")
    SCHEMAS.validate_request("NoSuchAction", {"anything": [1, 2]})
    SCHEMAS.validate_response("NoSuchAction", None)


@pytest.mark.parametrize(
    ("action", "payload", "response", "field", "rule", "code"),
    [
        (
            "BootNotification",
            {"chargePointModel": "M"},
            False,
            "chargePointVendor",
            "required",
            "OccurenceConstraintViolation",
        ),
        (
            "BootNotification",
            {**BOOT, "chargePointVendor": "x" * 21},
            False,
            "chargePointVendor",
            "maxLength",
            "PropertyConstraintViolation",
        ),
        ("BootNotification", {**BOOT, "surprise": 1}, False, "(payload)", "additionalProperties", "FormationViolation"),
        ("Heartbeat", [], False, "(payload)", "type", "FormationViolation"),
        ("Reset", {"type": "Warm"}, False, "type", "enum", "PropertyConstraintViolation"),
        (
            "ChangeAvailability",
            {"connectorId": "1", "type": "Operative"},
            False,
            "connectorId",
            "type",
            "TypeConstraintViolation",
        ),
        (
            "StatusNotification",
            {"connectorId": 1, "errorCode": "NoError", "status": "Available", "timestamp": "yesterday"},
            False,
            "timestamp",
            "format",
            "PropertyConstraintViolation",
        ),
        (
            "MeterValues",
            {"connectorId": 1, "meterValue": []},
            False,
            "meterValue",
            "minItems",
            "OccurenceConstraintViolation",
        ),
        (
            "MeterValues",
            {"connectorId": 1, "meterValue": [{"timestamp": "2024-01-01T00:00:00Z", "sampledValue": [{"value": 5}]}]},
            False,
            "meterValue.0.sampledValue.0.value",
            "type",
            "TypeConstraintViolation",
        ),
        ("GetConfiguration", {"key": ["k" * 51]}, False, "key.0", "maxLength", "PropertyConstraintViolation"),
        (
            "StartTransaction",
            {"transactionId": 1, "idTagInfo": {"status": "OK"}},
            True,
            "idTagInfo.status",
            "enum",
            "PropertyConstraintViolation",
        ),
        (
            "BootNotification",
            {"status": "Accepted", "interval": 10},
            True,
            "currentTime",
            "required",
            "OccurenceConstraintViolation",
        ),
        (
            "StartTransaction",
            {"transactionId": "abc", "idTagInfo": {"status": "Accepted"}},
            True,
            "transactionId",
            "type",
            "TypeConstraintViolation",
        ),
    ],
)
def test_violation_names_field_and_rule_and_maps_to_call_error(
    action: str, payload: object, response: bool, field: str, rule: str, code: str
) -> None:
    exc = violation(action, payload, response=response)
    assert (exc.field, exc.rule) == (field, rule)
    assert exc.payload is payload
    kind = "conf" if response else "req"
    assert str(exc).startswith(f"{action}.{kind} schema violation: ")
    generic = re.sub(r"\.\d+(?=\.|$)", "[]", field)
    assert f"(field {generic}, rule {rule})" in str(exc), "the name carries no array index"
    assert f"(field {field}, rule {rule})" in exc.detail, "the detail does"
    call_error = schemas.call_error_for_violation(exc)
    assert call_error.code == code
    assert call_error.details == {"field": field, "rule": rule}


def test_required_violation_names_the_missing_key() -> None:
    exc = violation("ChangeConfiguration", {"key": "HeartbeatInterval"})
    assert exc.field == "value"
    assert "required field 'value' is missing" in str(exc)


def test_one_decimal_limits_satisfy_multiple_of() -> None:
    """The 1.6 schemas say ``multipleOf: 0.1``: 21.4 is valid although 21.4 / 0.1 is not integral in binary."""
    for limit in (21.4, 10.7, 0.3, 16, 16.0, 1234.5):
        SCHEMAS.validate_response(
            "GetCompositeSchedule",
            {
                "status": "Accepted",
                "chargingSchedule": {
                    "chargingRateUnit": "W",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
                },
            },
        )
    exc = violation(
        "GetCompositeSchedule",
        {
            "status": "Accepted",
            "chargingSchedule": {
                "chargingRateUnit": "W",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 4.11}],
            },
        },
        response=True,
    )
    assert exc.rule == "multipleOf"


@FUZZ
@given(st.integers(min_value=0, max_value=10_000_000))
def test_fuzz_every_one_decimal_limit_is_valid(tenths: int) -> None:
    period = {"startPeriod": 0, "limit": round(tenths / 10, 1)}
    SCHEMAS.validate_response(
        "GetCompositeSchedule",
        {"status": "Accepted", "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [period]}},
    )


def test_validator_is_compiled_once_per_action_and_direction() -> None:
    SCHEMAS.warm_up(["Authorize"])
    assert schemas._validator(SCHEMAS.package, "Authorize", False) is schemas._validator(
        SCHEMAS.package, "Authorize", False
    )
    assert schemas._validator(SCHEMAS.package, "Authorize", False) is not schemas._validator(
        SCHEMAS.package, "Authorize", True
    )


def test_call_error_for_violation_defaults_to_formation_violation() -> None:
    exc = SchemaViolation("x", field="a", rule="somethingNew")
    assert isinstance(schemas.call_error_for_violation(exc), errors.FormationViolationError)


# ---------------------------------------------------------------- property-based fuzzing

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(["Accepted", "Available", "2024-01-01T00:00:00Z", "Soft", "Operative", "Wh"])
)
KEYS = st.sampled_from(
    [
        "connectorId",
        "idTag",
        "status",
        "type",
        "key",
        "value",
        "transactionId",
        "meterValue",
        "sampledValue",
        "timestamp",
        "idTagInfo",
        "chargingProfile",
        "csChargingProfiles",
        "chargingSchedule",
        "limit",
        "chargingSchedulePeriod",
        "startPeriod",
        "reservationId",
        "expiryDate",
        "requestedMessage",
        "listVersion",
        "updateType",
        "localAuthorizationList",
        "currentTime",
        "interval",
        "vendorId",
        "data",
    ]
) | st.text(max_size=8)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=6),
    max_leaves=30,
)
ALL_ACTIONS = sorted(CP_INITIATED | CSMS_INITIATED | SECURITY_EXTENSION)


@FUZZ
@given(st.sampled_from(ALL_ACTIONS), st.booleans(), JSON_VALUES)
def test_fuzz_validate_raises_only_schema_violation(action: str, response: bool, payload: object) -> None:
    # What comes off the wire went through orjson: use that representation.
    payload = orjson.loads(orjson.dumps(payload))
    try:
        SCHEMAS.validate(action, payload, response=response)
    except SchemaViolation as exc:
        assert exc.field and exc.rule
        assert "schema violation" in str(exc)
        assert isinstance(schemas.call_error_for_violation(exc), errors.OcppCallError)


@FUZZ
@given(
    st.sampled_from(ALL_ACTIONS),
    st.booleans(),
    st.dictionaries(KEYS, JSON_VALUES, max_size=8),
)
def test_fuzz_object_payloads(action: str, response: bool, payload: dict) -> None:
    try:
        SCHEMAS.validate(action, payload, response=response)
    except SchemaViolation as exc:
        assert exc.payload is payload
