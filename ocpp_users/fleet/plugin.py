"""The fleet as a locustfile uses it: importing this module plugs the fleet into Locust's events.

Its options on the command line parser, the run's listeners (:func:`ocpp_users.fleet.runtime.install`),
the CI gates, ``--json-summary`` and the storm messages (:func:`ocpp_users.fleet.gates.install`), the
load shapes and ``--shape`` (:mod:`ocpp_users.fleet.shapes`);
``locustfiles/fleet.py`` imports :class:`ChargePointUser` from here and declares its User class.
"""

from __future__ import annotations

from importlib import import_module

import gevent
from locust import events

from ocpp_users.fleet import gates, runtime
from ocpp_users.fleet.users import ChargePointUser

# gevent records, for every greenlet, which greenlet spawned it (a tree for debugging): ~3 KiB per
# charge point that a fleet never reads.
gevent.config.track_greenlet_tree = False

runtime.install(events)
gates.install(events)
import_module("ocpp_users.fleet.shapes")  # --shape and its options with fleet.py alone (it registers on import)

__all__ = ["ChargePointUser"]
