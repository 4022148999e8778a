"""Schema validation of inbound requests against the official OCPP 1.6 JSON schemas.

The schema files are the ones shipped with the ``ocpp`` package.  Violations are
mapped to the CALLERROR codes of OCPP-J 1.6 section 4.2.3 (note the 1.6 spellings
``FormationViolation`` and ``OccurenceConstraintViolation``; ocpp 2.1.0 itself
answers ``FormatViolation`` / ``ProtocolError`` for some of these cases).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from ocpp.messages import get_validator
from ocpp.v16.enums import Action

from testbed.frames import CALL, CALLRESULT, CallErrorInfo

# OCPP-J 1.6 table 4.2.3: code -> description.
DESCRIPTIONS = {
    "NotImplemented": "Requested Action is not known by receiver",
    "NotSupported": "Requested Action is recognized but not supported by the receiver",
    "InternalError": "An internal error occurred and the receiver was not able to process "
    "the requested Action successfully",
    "ProtocolError": "Payload for Action is incomplete",
    "SecurityError": "During the processing of Action a security issue occurred preventing "
    "receiver from completing the Action successfully",
    "FormationViolation": "Payload for Action is syntactically incorrect or not conform the PDU structure for Action",
    "PropertyConstraintViolation": "Payload is syntactically correct but at least one field contains an invalid value",
    "OccurenceConstraintViolation": "Payload for Action is syntactically correct but at least one "
    "of the fields violates occurence constraints",
    "TypeConstraintViolation": "Payload for Action is syntactically correct but at least one of "
    'the fields violates data type constraints (e.g. "somestring": 12)',
    "GenericError": "Any other error not covered by the previous ones",
}

# JSON schema keyword that failed -> OCPP-J 1.6 error code.
_KEYWORD_CODES = {
    "type": "TypeConstraintViolation",
    "maxLength": "TypeConstraintViolation",
    "minLength": "TypeConstraintViolation",
    "format": "TypeConstraintViolation",
    "enum": "PropertyConstraintViolation",
    "minimum": "PropertyConstraintViolation",
    "maximum": "PropertyConstraintViolation",
    "multipleOf": "PropertyConstraintViolation",
    "pattern": "PropertyConstraintViolation",
    "required": "OccurenceConstraintViolation",
    "minItems": "OccurenceConstraintViolation",
    "maxItems": "OccurenceConstraintViolation",
    "additionalProperties": "FormationViolation",
}

_KNOWN_ACTIONS = frozenset(a.value for a in Action)

_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")

_cache: dict[tuple[int, str], Any] = {}


def error(code: str, cause: str | None = None) -> CallErrorInfo:
    """A CALLERROR with the spec's description for ``code``."""
    return CallErrorInfo(code, DESCRIPTIONS.get(code, ""), {"cause": cause} if cause else {})


def is_known_action(action: str) -> bool:
    """True for every action defined by OCPP 1.6 (including the security extension)."""
    return action in _KNOWN_ACTIONS


def is_date_time(value: object) -> bool:
    """RFC 3339 date-time (what the schemas' ``format: date-time`` means)."""
    if not isinstance(value, str) or not _DATE_TIME.match(value):
        return False
    try:
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _validator(message_type: int, action: str) -> Any:
    key = (message_type, action)
    if key not in _cache:
        try:
            base = get_validator(message_type, action, "1.6")
        except (OSError, ValueError):
            _cache[key] = None
            return None
        # Build a validator of the same (Draft 4) class with a date-time format check,
        # without depending on optional format-checker packages.
        cls = type(base)
        checker = type(cls.FORMAT_CHECKER)(formats=())
        checker.checks("date-time")(is_date_time)
        _cache[key] = cls(base.schema, format_checker=checker)
    return _cache[key]


def has_schema(message_type: int, action: str) -> bool:
    return _validator(message_type, action) is not None


def _first_error(message_type: int, action: str, payload: Any) -> Any:
    validator = _validator(message_type, action)
    if validator is None:
        return None
    errors = sorted(validator.iter_errors(payload), key=lambda e: (len(e.path), str(list(e.path))))
    return errors[0] if errors else None


def validate_request(action: str, payload: Any) -> CallErrorInfo | None:
    """CALLERROR for a schema-invalid CALL payload, or None when it is valid."""
    err = _first_error(CALL, action, payload)
    if err is None:
        return None
    where = "/".join(str(p) for p in err.path) or "(payload)"
    code = _KEYWORD_CODES.get(str(err.validator), "FormationViolation")
    return error(code, f"{where}: {err.message}")


def response_problem(action: str, payload: Any) -> str | None:
    """Description of why a CALLRESULT payload violates its schema, or None."""
    err = _first_error(CALLRESULT, action, payload)
    return None if err is None else str(err.message)
