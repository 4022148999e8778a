"""The schema fast path (ocpp_users/schemas.py ``compile_fast``) gives the same verdict as
fastjsonschema on every official OCPP 1.6 schema it compiles: payloads drawn near the schema
(valid values, wrong types, unknown keys, missing keys, bad enums and timestamps) are checked by
both. A fast "valid" that fastjsonschema rejects would let an invalid payload through."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import fastjsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ocpp_users.ocppj import schemas
from ocpp_users.ocppj.errors import SchemaViolation
from ocpp_users.v16.protocol import SCHEMAS as V16


def _schema_files() -> list[tuple[str, bool]]:
    names = []
    for entry in resources.files("ocpp.v16").joinpath("schemas").iterdir():
        if entry.name.endswith(".json"):
            stem = entry.name[: -len(".json")]
            response = stem.endswith("Response")
            names.append((stem[: -len("Response")] if response else stem, response))
    return sorted(names)


SCHEMAS = _schema_files()
COMPILED = [(a, r) for a, r in SCHEMAS if schemas._fast_validator(V16.package, a, r) is not None]
HOT = [
    "Heartbeat",
    "BootNotification",
    "StatusNotification",
    "MeterValues",
    "Authorize",
    "StartTransaction",
    "StopTransaction",
    "DataTransfer",
]

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([1.0, 2.5, -0.0, 1e20]),
    st.text(max_size=4),
    st.just([]),
    st.just({}),
    st.just({"x": 1}),
)
TIMESTAMPS = st.sampled_from(
    [
        "2026-11-24T10:00:00Z",
        "2026-11-24T10:00:00.123+01:00",
        "2024-02-29T00:00:00z",
        "2023-02-29T00:00:00Z",
        "2026-11-24 10:00:00",
        "2026-13-01T00:00:00Z",
        "",
        "yesterday",
    ]
)


def near(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values that are mostly valid for ``schema``, sometimes not."""
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        fields = {key: st.one_of(st.just(_ABSENT), near(sub)) for key, sub in properties.items()}
        extra = st.dictionaries(st.sampled_from(["extra", "connectorId", "x"]), JUNK, max_size=1)

        def build(values: dict[str, Any], more: dict[str, Any], keep_required: bool) -> dict[str, Any]:
            out = {k: v for k, v in values.items() if v is not _ABSENT}
            if keep_required:
                for key in schema.get("required", []):
                    if key not in out and key in properties:
                        out[key] = values[key] if values[key] is not _ABSENT else _example(properties[key])
            out.update(more if len(more) and more.keys() - out.keys() else {})
            return out

        valid_ish = st.builds(build, st.fixed_dictionaries(fields), st.just({}), st.just(True))
        broken = st.builds(build, st.fixed_dictionaries(fields), extra, st.booleans())
        return st.one_of(valid_ish, valid_ish, broken, JUNK)
    if kind == "array":
        items = schema.get("items", {})
        return st.one_of(st.lists(near(items), max_size=3), JUNK)
    if kind == "string":
        options: list[st.SearchStrategy[Any]] = [JUNK]
        if "enum" in schema:
            options += [st.sampled_from(schema["enum"])] * 3 + [st.just(schema["enum"][0] + "x")]
        elif schema.get("format") == "date-time":
            options += [TIMESTAMPS] * 3
        else:
            limit = schema.get("maxLength", 10)
            options += [st.text(max_size=min(limit, 20)), st.sampled_from(["a" * limit, "é" * (limit + 1)])]
        return st.one_of(*options)
    if kind == "integer":
        return st.one_of(st.integers(-10, 10), st.integers(-10, 10), st.sampled_from([1.0, 1.5, True]), JUNK)
    if kind == "number":
        return st.one_of(st.floats(-100, 100), st.integers(-10, 10), st.just(False), JUNK)
    if kind == "boolean":
        return st.one_of(st.booleans(), st.booleans(), JUNK)
    return JUNK


_ABSENT = object()


def _example(schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        return {k: _example(props[k]) for k in schema.get("required", []) if k in props}
    if kind == "array":
        return [_example(schema.get("items", {}))] * max(1, schema.get("minItems", 1))
    if kind == "string":
        if "enum" in schema:
            return schema["enum"][0]
        return {"date-time": "2026-11-24T10:00:00Z", "uri": "ftp://example.org/diagnostics"}.get(
            schema.get("format"), "a"
        )
    if kind in ("integer", "number"):
        return 1
    if kind == "boolean":
        return True
    return None


def _full_accepts(action: str, response: bool, payload: Any) -> bool:
    validator = schemas._validator(V16.package, action, response)
    assert validator is not None
    try:
        validator(payload)
    except fastjsonschema.JsonSchemaValueException:
        return False
    return True


def _schema(action: str, response: bool) -> dict[str, Any]:
    name = f"{action}Response" if response else action
    text = resources.files("ocpp.v16").joinpath("schemas", f"{name}.json").read_text(encoding="utf-8")
    return json.loads(text)


def test_the_hot_path_actions_have_a_fast_validator_both_ways() -> None:
    for action in HOT:
        assert schemas._fast_validator(V16.package, action, False) is not None, action
        assert schemas._fast_validator(V16.package, action, True) is not None, action


def test_most_schemas_compile_and_the_rest_fall_back() -> None:
    assert len(COMPILED) >= 50
    for action, response in SCHEMAS:
        if (action, response) not in COMPILED:
            # not compiled (e.g. $ref, multipleOf): fastjsonschema alone decides
            assert schemas._validator(V16.package, action, response) is not None


@pytest.mark.parametrize(("action", "response"), COMPILED, ids=[f"{a}{'.conf' if r else '.req'}" for a, r in COMPILED])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fast_path_agrees_with_fastjsonschema(action: str, response: bool, data: st.DataObject) -> None:
    payload = data.draw(near(_schema(action, response)))
    fast = schemas._fast_validator(V16.package, action, response)
    assert fast is not None
    assert fast(payload) == _full_accepts(action, response, payload), payload


def test_example_payloads_are_valid_on_both_paths() -> None:
    for action, response in COMPILED:
        example = _example(_schema(action, response))
        fast = schemas._fast_validator(V16.package, action, response)
        assert fast is not None and fast(example), (action, response, example)
        assert _full_accepts(action, response, example)


def test_an_invalid_payload_still_gets_fastjsonschemas_precise_violation() -> None:
    payload = {
        "connectorId": 1,
        "meterValue": [{"timestamp": "2026-11-24T10:00:00Z", "sampledValue": [{"value": "1", "measurand": "Bogus"}]}],
    }
    with pytest.raises(SchemaViolation) as info:
        V16.validate_request("MeterValues", payload)
    assert info.value.rule == "enum"
    assert info.value.field == "meterValue.0.sampledValue.0.measurand"


def test_integral_floats_and_bools_follow_fastjsonschema() -> None:
    fast = schemas._fast_validator(V16.package, "Heartbeat", False)
    assert fast is not None
    status = schemas._fast_validator(V16.package, "StatusNotification", False)
    assert status is not None
    base = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
    for value in (1, 1.0, 1.5, True, "1", None):
        payload = {**base, "connectorId": value}
        assert status(payload) == _full_accepts("StatusNotification", False, payload), value
