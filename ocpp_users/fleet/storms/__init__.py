"""Storms across Locust processes: one broadcast makes every charge point of every worker act at once.

A spawn rate cannot synchronise a fleet: users start one after another. A storm is a Locust
custom message from the master (``runner.send_message``) that each worker handles for all of
its charge points in the same instant:

``hold``   charge points that connect from now on wait before their BootNotification;
``boot``   release them all at once (boot storm);
``drop``   drop every connection (or one wave of them) as a CSMS restart does; the engine
           reconnects with its backoff (reconnect storm, rolling restart);
``charge`` keep a fraction of the charge points charging (peak hour).

Each worker then watches its own charge points until all of them are done (booted, back,
charging) and answers with one result message: how long it took from the broadcast, measured on
the worker's own clock (no clock skew between machines), and the latencies of the calls made
during the storm as a mergeable histogram. Workers also send their fleet counts a few times a
second so that the master's load shape can wait for "all connected" or "all booted".

On a local runner the same code runs in one process: ``send_message`` calls the handlers directly.

The package: :mod:`.histogram` (mergeable latencies), :mod:`.messages` (what goes over the wire),
:mod:`.worker` (the load-generating side),
:mod:`.master` (the conductor) and :mod:`.wiring` (Locust events and runner messages).
"""

from __future__ import annotations

from ocpp_users.fleet.storms.histogram import Histogram, bucket, describe_latency
from ocpp_users.fleet.storms.master import Conductor, RoundOutcome
from ocpp_users.fleet.storms.messages import MSG_COMMAND, MSG_RESULT, MSG_STATE, PRIMARY, STATE_INTERVAL, STATE_REFRESH
from ocpp_users.fleet.storms.wiring import ATTR, conductor, final_fleet, hold_boot, install, local_fleet, on_init
from ocpp_users.fleet.storms.worker import LocalFleet, Window
from ocpp_users.ocppj.sink import CP_TO_CSMS, WEBSOCKET

__all__ = [
    "ATTR",
    "CP_TO_CSMS",
    "MSG_COMMAND",
    "MSG_RESULT",
    "MSG_STATE",
    "PRIMARY",
    "STATE_INTERVAL",
    "STATE_REFRESH",
    "WEBSOCKET",
    "Conductor",
    "Histogram",
    "LocalFleet",
    "RoundOutcome",
    "Window",
    "bucket",
    "conductor",
    "describe_latency",
    "final_fleet",
    "hold_boot",
    "install",
    "local_fleet",
    "on_init",
]
