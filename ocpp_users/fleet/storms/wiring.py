"""Wiring the storms into Locust: message handlers and event listeners on each kind of runner."""

from __future__ import annotations

from typing import Any

from locust.env import Environment
from locust.event import Events
from locust.runners import Runner

from ocpp_users.fleet.runners import is_master, is_worker
from ocpp_users.fleet.storms.master import Conductor
from ocpp_users.fleet.storms.messages import MSG_COMMAND, MSG_RESULT, MSG_STATE
from ocpp_users.fleet.storms.worker import LocalFleet
from ocpp_users.v16.actions import CP_INITIATED
from ocpp_users.v16.protocol import SCHEMAS

ATTR = "_vocpp_storms"


def local_fleet(environment: Environment) -> LocalFleet | None:
    return getattr(environment, ATTR + "_local", None)


def conductor(environment: Environment) -> Conductor | None:
    return getattr(environment, ATTR + "_conductor", None)


def hold_boot(environment: Environment) -> None:
    """Called by a charge point between connecting and its BootNotification: waits while a boot
    storm holds the fleet back (returns at once otherwise)."""
    fleet = local_fleet(environment)
    if fleet is not None:
        fleet.hold()


def on_init(environment: Environment, runner: Runner | None = None, **_: Any) -> None:
    runner = runner or environment.runner
    if runner is None or getattr(environment, ATTR + "_installed", False):
        return
    setattr(environment, ATTR + "_installed", True)
    if not is_master(runner):
        # compile the schemas now: compiled on first use, a storm's first calls would wait ~0.1 s
        SCHEMAS.warm_up([str(action) for action in CP_INITIATED])
        fleet = LocalFleet(environment)
        setattr(environment, ATTR + "_local", fleet)
        runner.register_message(MSG_COMMAND, lambda environment, msg, **kw: fleet.on_command(msg.data or {}))
        environment.events.request.add_listener(
            lambda request_type, name, response_time, response_length=0, exception=None, **kw: fleet.on_request(
                request_type, name, response_time, exception
            )
        )
        environment.events.test_start.add_listener(lambda **kw: fleet.start_run())
        environment.events.test_stop.add_listener(lambda **kw: fleet.stop_run())
        if is_worker(runner):
            environment.events.report_to_master.add_listener(
                lambda client_id, data, **kw: data.__setitem__(MSG_STATE, fleet.snapshot())
            )
    if not is_worker(runner):
        master = Conductor(environment)
        setattr(environment, ATTR + "_conductor", master)
        runner.register_message(MSG_STATE, lambda environment, msg, **kw: master.on_state(msg.node_id, msg.data))
        runner.register_message(MSG_RESULT, lambda environment, msg, **kw: master.on_result(msg.node_id, msg.data))
        environment.events.test_start.add_listener(lambda **kw: master.reset())
        if is_master(runner):

            def on_worker_report(client_id: str, data: dict[str, Any], **kw: Any) -> None:
                state = data.get(MSG_STATE)
                if isinstance(state, dict):
                    master.on_state(client_id, state)

            environment.events.worker_report.add_listener(on_worker_report)


def final_fleet(environment: Environment) -> dict[str, Any] | None:
    """The fleet counts at the end of the run (on the master or local runner), or None."""
    master = conductor(environment)
    if master is None:
        return None
    fleet = local_fleet(environment)
    if fleet is not None:  # local runner: take a last sample
        master.on_state("local", fleet.snapshot())
    counts = master.fleet()
    counts["peak_users"] = max(master.peak_users, int(counts.get("max_users") or 0))
    return counts


def install(events: Events) -> None:
    """Register the storm machinery on ``events`` (Locust's global ones, normally); idempotent."""
    if getattr(events, ATTR, False):
        return
    setattr(events, ATTR, True)
    events.init.add_listener(on_init)
