"""Turn one inbound CALL into a Reply using the ocpp route map of a handler object."""

from __future__ import annotations

import inspect
import logging
from typing import Any

from ocpp.charge_point import camel_to_snake_case, remove_nones, serialize_as_dict, snake_to_camel_case

from testbed import sanity
from testbed.frames import Reply
from testbed.validation import error, is_known_action, validate_request

LOG = logging.getLogger("testbed.dispatch")


def implemented(handlers: Any, action: str) -> bool:
    route = handlers.route_map.get(action)
    return route is not None and "_on_action" in route


async def dispatch(handlers: Any, action: str, payload: dict[str, Any], *, check: bool = True) -> Reply:
    """Validate (the official schema, then the field constraints of :mod:`testbed.sanity`), run the
    ``@on`` handler and serialise its result; never raises. ``check=False`` skips both checks (a
    robustness fault: bad input answered as if valid)."""
    route = handlers.route_map.get(action)
    if route is None or "_on_action" not in route:
        if is_known_action(action):
            return Reply(error=error("NotSupported", f"{action} is not supported by this Central System"))
        return Reply(error=error("NotImplemented", f"unknown action {action!r}"))
    problem = (validate_request(action, payload) or sanity.problem(action, payload)) if check else None
    if problem is not None:
        return Reply(error=problem)
    try:
        result = route["_on_action"](**camel_to_snake_case(payload))
        if inspect.isawaitable(result):
            result = await result
        body = snake_to_camel_case(remove_nones(serialize_as_dict(result)))
    except Exception as exc:
        LOG.error("%s: handler for %s failed: %s: %s", handlers.id, action, type(exc).__name__, exc)
        return Reply(error=error("InternalError", f"{type(exc).__name__}"))
    return Reply(payload=body)
