"""Validation against the official OCPP 1.6 JSON schemas shipped in the ``ocpp`` package.

Each (action, request|response) schema is compiled once, on first use, with fastjsonschema.
A violation raises :class:`SchemaViolation` naming the field and the rule, e.g.
``StartTransaction.conf: idTagInfo.status must be one of [...] (rule enum)``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from importlib import resources
from typing import Any

import fastjsonschema

from .errors import (
    ErrorCode,
    FormationViolationError,
    OccurenceConstraintViolationError,
    OcppCallError,
    PropertyConstraintViolationError,
    SchemaViolation,
    TypeConstraintViolationError,
)

Validator = Callable[[Any], Any]

#: JSON-schema rule -> the OCPP-J error code a receiver answers with (OCPP-J 1.6 §4.2.3).
RULE_TO_ERROR: dict[str, type[OcppCallError]] = {
    "type": TypeConstraintViolationError,
    "required": OccurenceConstraintViolationError,
    "minItems": OccurenceConstraintViolationError,
    "maxItems": OccurenceConstraintViolationError,
    "additionalProperties": FormationViolationError,
    "enum": PropertyConstraintViolationError,
    "maxLength": PropertyConstraintViolationError,
    "minLength": PropertyConstraintViolationError,
    "minimum": PropertyConstraintViolationError,
    "maximum": PropertyConstraintViolationError,
    "multipleOf": PropertyConstraintViolationError,
    "format": PropertyConstraintViolationError,
    "pattern": PropertyConstraintViolationError,
}


def _schema_text(name: str) -> str | None:
    try:
        return resources.files("ocpp.v16").joinpath("schemas", f"{name}.json").read_text(encoding="utf-8")
    except (FileNotFoundError, ModuleNotFoundError, OSError):
        return None


@functools.cache
def _validator(action: str, response: bool) -> Validator | None:
    text = _schema_text(f"{action}Response" if response else action)
    if text is None:
        return None
    schema = json.loads(text)
    schema.pop("$schema", None)  # draft-04 keywords are what fastjsonschema applies by default
    return fastjsonschema.compile(schema)  # type: ignore[no-any-return]


def has_schema(action: str) -> bool:
    return _validator(action, False) is not None


def _field(path: list[Any] | None) -> str:
    parts = [str(p) for p in (path or [])[1:]]
    return ".".join(parts) if parts else "(payload)"


def validate(action: str, payload: Any, *, response: bool) -> None:
    """Raise :class:`SchemaViolation` unless ``payload`` conforms to the action's 1.6 schema.

    Unknown actions have no schema and pass (the caller decides what an unknown action means).
    """
    validator = _validator(action, response)
    if validator is None:
        return
    try:
        validator(payload)
    except fastjsonschema.JsonSchemaValueException as exc:
        rule = exc.rule or "schema"
        path = list(exc.path or [])
        message = exc.message
        if rule == "required" and isinstance(exc.value, dict) and isinstance(exc.rule_definition, list):
            missing = [key for key in exc.rule_definition if key not in exc.value]
            if missing:
                path.append(missing[0])
                message = f"required field {missing[0]!r} is missing"
        field = _field(path)
        if message.startswith("data."):
            message = message[len("data.") :]
        kind = "conf" if response else "req"
        raise SchemaViolation(
            f"{action}.{kind} schema violation: {message} (field {field}, rule {rule})",
            field=field,
            rule=rule,
            payload=payload,
        ) from None


def validate_request(action: str, payload: Any) -> None:
    validate(action, payload, response=False)


def validate_response(action: str, payload: Any) -> None:
    validate(action, payload, response=True)


def call_error_for_violation(violation: SchemaViolation) -> OcppCallError:
    """The CALLERROR a receiver answers a schema-invalid request with."""
    cls = RULE_TO_ERROR.get(violation.rule, FormationViolationError)
    if violation.field == "(payload)" and violation.rule == "type":
        cls = FormationViolationError
    return cls(violation.reason, {"field": violation.field, "rule": violation.rule})


def warm_up(actions: list[str]) -> None:
    """Compile schemas ahead of a run so the first calls do not pay for it."""
    for action in actions:
        _validator(action, False)
        _validator(action, True)


__all__ = [
    "ErrorCode",
    "call_error_for_violation",
    "has_schema",
    "validate",
    "validate_request",
    "validate_response",
    "warm_up",
]
