"""Turn one inbound CALL into a Reply using the ocpp route map of a handler object."""

from __future__ import annotations

import inspect
import logging
from typing import Any

from ocpp.charge_point import camel_to_snake_case, remove_nones, serialize_as_dict, snake_to_camel_case

from testbed.frames import Reply
from testbed.validation import error, is_known_action, validate_request

LOG = logging.getLogger("testbed.dispatch")


async def dispatch(handlers: Any, action: str, payload: dict[str, Any]) -> Reply:
    """Validate, run the ``@on`` handler and serialise its result; never raises."""
    route = handlers.route_map.get(action)
    if route is None or "_on_action" not in route:
        if is_known_action(action):
            return Reply(error=error("NotSupported", f"{action} is not supported by this Central System"))
        return Reply(error=error("NotImplemented", f"unknown action {action!r}"))
    problem = validate_request(action, payload)
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
