"""Facts from the official OCPP 1.6 JSON schemas (shipped in the ``ocpp`` package, errata 2019-12),
so the catalogue's limits are the schemas' own numbers, never a copy of them.

:func:`max_length` reads a field's ``maxLength``; :func:`violation` validates a payload with the
engine's :data:`ocpp_users.v16.protocol.SCHEMAS` and names the rule it breaks. A case that means
to send an invalid payload checks it first: a payload the schema accepts is our mistake, an
ERROR, never a verdict on the CSMS.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

from ocpp_users.ocppj.errors import SchemaViolation
from ocpp_users.v16.protocol import SCHEMAS
from scenarios.results import HarnessError


@functools.cache
def request_schema(action: str) -> dict[str, Any]:
    text = resources.files(SCHEMAS.package).joinpath("schemas", f"{action}.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def max_length(action: str, path: str) -> int:
    """``maxLength`` of the request field at ``path`` (dotted, e.g. ``meterValue.sampledValue.value``)."""
    node: Any = request_schema(action)
    for part in path.split("."):
        node = node["properties"][part]
        if node.get("type") == "array":
            node = node["items"]
    return int(node["maxLength"])


def violation(action: str, payload: Any) -> str | None:
    """The rule ``payload`` breaks in the official request schema of ``action``, or None when valid."""
    try:
        SCHEMAS.validate(action, payload, response=False)
    except SchemaViolation as exc:
        return exc.rule
    return None


def must_violate(action: str, payload: Any, rule: str | None = None) -> None:
    """Our own check: ``payload`` is invalid for ``action`` (by ``rule`` when given), else HarnessError."""
    found = violation(action, payload)
    if found is None:
        raise HarnessError(f"the hostile {action}.req payload passes the official schema: the case is wrong")
    if rule is not None and found != rule:
        raise HarnessError(f"the hostile {action}.req payload breaks rule {found}, not {rule}: the case is wrong")


def must_conform(action: str, payload: Any) -> None:
    """Our own check: ``payload`` is valid for ``action``, else HarnessError."""
    found = violation(action, payload)
    if found is not None:
        raise HarnessError(f"the {action}.req payload breaks the official schema (rule {found}): the case is wrong")
