"""Validation against the official OCPP JSON schemas shipped in the ``ocpp`` package, given a version.

A :class:`SchemaSet` names the package that holds one version's schemas (``ocpp.v16``,
``ocpp.v201``); each (action, request|response) schema is compiled once, on first use, with
fastjsonschema. A violation raises :class:`SchemaViolation` naming the field and the rule, e.g.
``StartTransaction.conf: idTagInfo.status must be one of [...] (rule enum)``.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from importlib import resources
from typing import Any

import fastjsonschema

from ocpp_users.ocppj.errors import (
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


def _schema_text(package: str, name: str) -> str | None:
    try:
        return resources.files(package).joinpath("schemas", f"{name}.json").read_text(encoding="utf-8")
    except (FileNotFoundError, ModuleNotFoundError, OSError):
        return None


@functools.cache
def _validator(package: str, action: str, response: bool) -> Validator | None:
    text = _schema_text(package, f"{action}Response" if response else action)
    if text is None:
        return None
    schema = json.loads(text)
    schema.pop("$schema", None)  # draft-04 keywords are what fastjsonschema applies by default
    validator: Validator = fastjsonschema.compile(schema)
    return validator


# ---------------------------------------------------------------- the fast path
#
# fastjsonschema's generated code is thorough but slow on the hot path (an enum of 22 measurands
# is a chain of 22 comparisons). For the keywords the OCPP 1.6 schemas use, a second, tighter
# predicate answers only "valid or not": a valid payload stops there; an invalid one (or a schema
# with keywords it does not handle) goes to fastjsonschema, which names the field and the rule.
# So the fast path can cost a wrong "invalid" only time, never a verdict; tests/test_schema_fast.py
# checks that it accepts nothing fastjsonschema rejects.

_MISSING = object()
_FAST_MEMORY = 1024
"""Actions whose fast predicate a :class:`SchemaSet` keeps at hand."""
_IGNORED = frozenset({"title", "description", "$schema", "$id", "id", "javaType"})
_HANDLED = _IGNORED | {"type", "properties", "required", "additionalProperties", "enum", "maxLength", "minLength"}
_HANDLED |= {"format", "items", "minItems", "maxItems"}


class _Unsupported(Exception):
    pass


def _format_regex(name: str) -> Any:
    import re

    from fastjsonschema.draft04 import CodeGeneratorDraft04

    pattern = CodeGeneratorDraft04.FORMAT_REGEXS.get(name)
    if pattern is None:
        raise _Unsupported(name)
    return re.compile(pattern).match


class _FastCompiler:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.names: dict[str, Any] = {"_MISSING": _MISSING}
        self.count = 0

    def const(self, value: Any) -> str:
        self.count += 1
        name = f"_c{self.count}"
        self.names[name] = value
        return name

    def var(self) -> str:
        self.count += 1
        return f"_v{self.count}"

    def emit(self, depth: int, line: str) -> None:
        self.lines.append("    " * depth + line)

    def node(self, schema: Any, var: str, depth: int) -> None:
        if not isinstance(schema, dict) or not set(schema) <= _HANDLED:
            raise _Unsupported(schema)
        kind = schema.get("type")
        if kind is None:
            if set(schema) - _IGNORED:
                raise _Unsupported(schema)
            return
        fail = "return False"
        if kind == "object":
            if {"enum", "format"} & set(schema):
                raise _Unsupported(schema)
            self.emit(depth, f"if not isinstance({var}, dict): {fail}")
            properties = schema.get("properties", {})
            required = schema.get("required")
            if required:
                self.emit(depth, f"if not {self.const(frozenset(required))} <= {var}.keys(): {fail}")
            extra = schema.get("additionalProperties", True)
            if extra is False:
                self.emit(depth, f"if not {var}.keys() <= {self.const(frozenset(properties))}: {fail}")
            elif extra is not True and extra != {}:
                raise _Unsupported(schema)
            present = frozenset(required or ())
            for key, sub in properties.items():
                child = self.var()
                if key in present:  # checked above: read it, no default
                    self.emit(depth, f"{child} = {var}[{key!r}]")
                    self.node(sub, child, depth)
                    continue
                self.emit(depth, f"{child} = {var}.get({key!r}, _MISSING)")
                self.emit(depth, f"if {child} is not _MISSING:")
                self.emit(depth + 1, "pass")
                self.node(sub, child, depth + 1)
        elif kind == "array":
            if {"enum", "format", "required"} & set(schema):
                raise _Unsupported(schema)
            self.emit(depth, f"if not isinstance({var}, (list, tuple)): {fail}")
            if "minItems" in schema:
                self.emit(depth, f"if len({var}) < {int(schema['minItems'])}: {fail}")
            if "maxItems" in schema:
                self.emit(depth, f"if len({var}) > {int(schema['maxItems'])}: {fail}")
            items = schema.get("items")
            if items is not None:
                if not isinstance(items, dict):
                    raise _Unsupported(schema)
                child = self.var()
                self.emit(depth, f"for {child} in {var}:")
                self.emit(depth + 1, "pass")
                self.node(items, child, depth + 1)
        elif kind == "string":
            if "required" in schema:
                raise _Unsupported(schema)
            self.emit(depth, f"if not isinstance({var}, str): {fail}")
            if "maxLength" in schema:
                self.emit(depth, f"if len({var}) > {int(schema['maxLength'])}: {fail}")
            if "minLength" in schema:
                self.emit(depth, f"if len({var}) < {int(schema['minLength'])}: {fail}")
            if "enum" in schema:
                values = schema["enum"]
                if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                    raise _Unsupported(schema)
                self.emit(depth, f"if {var} not in {self.const(frozenset(values))}: {fail}")
            if "format" in schema:
                self.emit(depth, f"if not {self.const(_format_regex(schema['format']))}({var}): {fail}")
        elif kind in ("integer", "number", "boolean"):
            if {"enum", "format", "required"} & set(schema):
                raise _Unsupported(schema)
            if kind == "integer":
                test = f"isinstance({var}, int) or isinstance({var}, float) and {var}.is_integer()"
                # type() is int first: the common case, and never a bool (a subclass of int).
                self.emit(depth, f"if type({var}) is not int and (not ({test}) or isinstance({var}, bool)): {fail}")
            elif kind == "number":
                self.emit(depth, f"if not isinstance({var}, (int, float, _Decimal)) or isinstance({var}, bool): {fail}")
            else:
                self.emit(depth, f"if not isinstance({var}, bool): {fail}")
        else:
            raise _Unsupported(schema)


def compile_fast(schema: dict[str, Any]) -> Callable[[Any], bool] | None:
    """A predicate ``payload -> bool`` for ``schema``, or None when it uses keywords not handled here."""
    from decimal import Decimal

    compiler = _FastCompiler()
    compiler.names["_Decimal"] = Decimal
    try:
        compiler.node(schema, "data", 1)
    except (_Unsupported, TypeError, ValueError):
        return None
    source = "def valid(data):\n" + "\n".join(compiler.lines) + "\n    return True\n"
    namespace = dict(compiler.names)
    exec(compile(source, "<ocpp schema fast path>", "exec"), namespace)
    return namespace["valid"]  # type: ignore[no-any-return]


@functools.cache
def _fast_validator(package: str, action: str, response: bool) -> Callable[[Any], bool] | None:
    text = _schema_text(package, f"{action}Response" if response else action)
    if text is None:
        return None
    schema = json.loads(text)
    schema.pop("$schema", None)
    return compile_fast(schema)


def _field(path: list[Any] | None) -> str:
    parts = [str(p) for p in (path or [])[1:]]
    return ".".join(parts) if parts else "(payload)"


_INDEX = re.compile(r"\[\d+\]|\.\d+(?=\.|$)")


def _generic(field: str) -> str:
    """``meterValue.3.timestamp`` -> ``meterValue[].timestamp``: a reason names the field, not the
    position a peer put it at (one stats row per index otherwise)."""
    return _INDEX.sub("[]", field)


def _bounded_message(message: str, rule: str) -> str:
    """fastjsonschema's message without what the payload chose: an additionalProperties message
    lists the unexpected property names (any text), an array path carries indices."""
    if rule == "additionalProperties":
        head = message.split(" must not contain", 1)[0]
        head = "(payload)" if head == "data" else head
        return f"{_generic(head)} has properties the schema does not define"
    return _generic(message)


class SchemaSet:
    """The official JSON schemas of one OCPP version (``package`` holds a ``schemas/`` folder)."""

    __slots__ = ("_fast_requests", "_fast_responses", "package", "suffixes")

    def __init__(self, package: str, suffixes: tuple[str, str] = ("req", "conf")) -> None:
        self.package = package
        self.suffixes = suffixes
        """How violations name a request and a response (1.6: ``.req``/``.conf``)."""
        self._fast_requests: dict[str, Callable[[Any], bool] | None] = {}
        self._fast_responses: dict[str, Callable[[Any], bool] | None] = {}
        """The fast predicates by action, looked up once per call (None: no fast path)."""

    def _fast(self, action: str, response: bool) -> Callable[[Any], bool] | None:
        fast = _fast_validator(self.package, action, response)
        known = self._fast_responses if response else self._fast_requests
        if len(known) < _FAST_MEMORY:  # a CSMS's made-up action names must not grow it for ever
            known[action] = fast
        return fast

    def has_schema(self, action: str) -> bool:
        return _validator(self.package, action, False) is not None

    def validate(self, action: str, payload: Any, *, response: bool) -> None:
        """Raise :class:`SchemaViolation` unless ``payload`` conforms to the action's schema.

        Unknown actions have no schema and pass (the caller decides what an unknown action means).
        """
        fast = _fast_validator(self.package, action, response)
        if fast is not None and fast(payload):
            return
        validator = _validator(self.package, action, response)
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
            kind = self.suffixes[1] if response else self.suffixes[0]
            said, message = message, _bounded_message(message, rule)
            precise = f"{action}.{kind} schema violation: {said} (field {field}, rule {rule})"
            raise SchemaViolation(
                f"{action}.{kind} schema violation: {message} (field {_generic(field)}, rule {rule})",
                field=field,
                rule=rule,
                payload=payload,
                precise=precise,
            ).with_detail(precise) from None

    def validate_request(self, action: str, payload: Any) -> None:
        fast = self._fast_requests.get(action, _MISSING)
        if fast is _MISSING:
            fast = self._fast(action, False)
        if fast is None or not fast(payload):  # type: ignore[operator]
            self.validate(action, payload, response=False)

    def validate_response(self, action: str, payload: Any) -> None:
        fast = self._fast_responses.get(action, _MISSING)
        if fast is _MISSING:
            fast = self._fast(action, True)
        if fast is None or not fast(payload):  # type: ignore[operator]
            self.validate(action, payload, response=True)

    def warm_up(self, actions: list[str]) -> None:
        """Compile schemas ahead of a run so the first calls do not pay for it."""
        for action in actions:
            for response in (False, True):
                _validator(self.package, action, response)
                _fast_validator(self.package, action, response)


def call_error_for_violation(violation: SchemaViolation) -> OcppCallError:
    """The CALLERROR a receiver answers a schema-invalid request with."""
    cls = RULE_TO_ERROR.get(violation.rule, FormationViolationError)
    if violation.field == "(payload)" and violation.rule == "type":
        cls = FormationViolationError
    details = {"field": violation.field, "rule": violation.rule}
    return cls(violation.precise[:255], details, reason=violation.reason)


__all__ = ["ErrorCode", "SchemaSet", "call_error_for_violation", "compile_fast"]
