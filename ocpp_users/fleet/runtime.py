"""The state of a fleet run per Locust Environment, and the event listeners that drive it.

:func:`install` wires the fleet into Locust's events (``locustfiles/fleet.py`` calls it):
options on the command line parser; on ``init`` (master or local runner) the options are
checked (a bad one ends Locust with one ``locust: error:`` line, exit code 2) and, without
``--host``, the embedded testbed CSMS is started; on ``test_start`` every process rebuilds its
configuration (the web UI may have changed options: the master logs which, and the configuration
they make) and its charge point id pool, and each process running charge points starts its load
fidelity tracking (:mod:`ocpp_users.fleet_fidelity`) until ``test_stop``; the master (or local
runner) samples the run's timeline and, headless, logs the fleet's line every 10 s until the test
stops, and once at its end. When spawning completes, the objects alive then (the charge points) are
frozen out of the garbage collector's sight: a full collection over 10,000 charge points pauses
the process for ~250 ms.
"""

from __future__ import annotations

import atexit
import gc
import logging
import sys
import weakref
from typing import Any, ClassVar

import gevent
from locust.env import Environment
from locust.event import Events
from locust.runners import Runner
from locust.web import WebUI

from ocpp_users.fleet import secrecy
from ocpp_users.fleet.config import EMBEDDED_HEARTBEAT_INTERVAL, FleetConfig, OptionError, fleet_config
from ocpp_users.fleet.fleet_fidelity import FleetFidelity
from ocpp_users.fleet.ids import MSG_IDS_GRANT, MSG_IDS_REQUEST, MSG_IDS_RETURN, IdLedger, IdPool, LeasedIdPool
from ocpp_users.fleet.options import register
from ocpp_users.fleet.optiontable import registered_groups
from ocpp_users.fleet.runners import is_master, is_worker, runner_of
from ocpp_users.fleet.stats import keep_total_to_round_trips
from ocpp_users.fleet.ui import FleetMonitor
from ocpp_users.ocppj import pacing
from ocpp_users.ocppj.redact import redact_url

log = logging.getLogger("ocpp_users.fleet")

LOOPBACK_PROBE = "ws://127.0.0.1:9/"
"""Stands in for the embedded testbed's URL while checking options before it is started."""
EMBEDDED_FLAG = "vocpp_embedded_csms"
"""Set in the master's parsed options when ``--host`` is its embedded testbed; Locust sends the
parsed options to every worker, so workers and ``--processes`` behave as one process would."""


def _is_loopback(url: str) -> bool:
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")


class Fleet:
    """Configuration, id pool, charge point counts and the embedded testbed of one Environment."""

    _instances: ClassVar[weakref.WeakKeyDictionary[Environment, Fleet]] = weakref.WeakKeyDictionary()

    def __init__(self, environment: Environment) -> None:
        self.environment = environment
        self.fidelity = FleetFidelity(environment)
        """Load fidelity: periodic messages due vs sent on time, loop lag, CPU; warnings."""
        self.monitor = FleetMonitor(environment, self.fidelity)
        self.config: FleetConfig | None = None
        self.error: str | None = None
        """Why the fleet cannot run (a bad option); charge points stay idle and count as failed."""
        self.ids: IdPool | None = None
        self.ledger: IdLedger | None = None
        """On a master with ``--cp-ids-file``: which worker holds which ids of the file."""
        self.url = ""
        self.testbed: Any = None
        """The embedded :class:`~ocpp_users.embedded.TestbedProcess`, when the fleet started one."""
        self.option_values: dict[str, Any] = {}
        """Our options' values before the web UI's form was read: the next test start logs its changes."""
        self.described = ""
        """The configuration line logged last."""

    @classmethod
    def of(cls, environment: Environment) -> Fleet:
        fleet = cls._instances.get(environment)
        if fleet is None:
            fleet = cls._instances[environment] = cls(environment)
        return fleet

    # ------------------------------------------------------------ configuration

    @property
    def embedded(self) -> bool:
        return self.testbed is not None and self.url == self.testbed.ws_url

    def configure(self) -> FleetConfig:
        """(Re)build the configuration and the id pool; raise :class:`OptionError`."""
        if not self.environment.host and self.testbed is not None:
            self.environment.host = self.testbed.ws_url
        secrecy.hide_url_password(self.environment)  # a password in the URL never reaches a page
        host = secrecy.real_host(self.environment, self.environment.host or "")
        if not host:
            raise OptionError(
                "--host: no CSMS URL; a worker needs --host (the embedded testbed runs only on a master "
                "or local runner)"
            )
        options = self.environment.parsed_options
        # A worker has no testbed of its own: the master says when the URL it sent is its embedded one.
        embedded = (self.testbed is not None and host == self.testbed.ws_url) or bool(
            getattr(options, EMBEDDED_FLAG, False)
        )
        runner = self.environment.runner
        worker = is_worker(runner)
        config = fleet_config(options, host, embedded=embedded, read_ids=not worker)
        pacing.set_pacing(config.pacing)
        ids_file = str(getattr(options, "cp_ids_file", "") or "")
        if worker and ids_file:
            # the master lends the file's ids out, each to one worker, whatever the number of workers
            self.ids = LeasedIdPool(self._send_to_master, passwords=config.passwords)  # a password comes with its id
        else:
            worker_index = max(0, int(getattr(runner, "worker_index", 0) or 0)) if worker else 0
            self.ids = IdPool(template=config.cp_id_template, ids=config.cp_ids, worker_index=worker_index)
        if is_master(runner):
            self.ledger = IdLedger(config.cp_ids, config.passwords) if config.cp_ids else None
        self.config, self.url, self.error = config, host, None
        self.monitor.target = redact_url(host)
        return config

    def ensure_configured(self) -> FleetConfig | None:
        """The configuration, built on first use (a library run without the listeners)."""
        if self.config is None and self.error is None:
            try:
                self.configure()
            except OptionError as exc:
                self.fail(str(exc))
        return self.config

    def fail(self, reason: str) -> None:
        self.config, self.error = None, reason
        log.error("locust: error: %s", reason)

    # ------------------------------------------------------------ ids lent by the master

    def install_id_messages(self, runner: Runner | None) -> None:
        """Register the id lending messages (master: requests and returns; worker: grants)."""
        if runner is None:
            return
        if is_master(runner):
            runner.register_message(MSG_IDS_REQUEST, lambda msg, **_: self.on_ids_request(msg.node_id, msg.data))
            runner.register_message(MSG_IDS_RETURN, lambda msg, **_: self.on_ids_return(msg.node_id, msg.data))
            self.environment.events.worker_report.add_listener(lambda **_: self.prune_leases())
        elif is_worker(runner):
            runner.register_message(MSG_IDS_GRANT, lambda msg, **_: self.on_ids_grant(msg.data))

    def _send_to_master(self, msg_type: str, data: dict[str, Any]) -> None:
        try:
            runner_of(self.environment).send_message(msg_type, data)
        except Exception as exc:  # the master is gone: the charge point fails on the grant timeout
            log.debug("cannot send %s to the master: %r", msg_type, exc)

    def prune_leases(self) -> None:
        """Take back the ids of workers that quit or were removed after going missing."""
        runner = self.environment.runner
        clients = getattr(runner, "clients", None)
        if self.ledger is not None and clients is not None:
            freed = self.ledger.prune(client.id for client in clients.all)
            if freed:
                log.info("fleet: %d charge point id(s) of departed workers are free again", freed)

    def on_ids_request(self, worker: str, data: Any) -> None:
        data = data if isinstance(data, dict) else {}
        asked = max(1, int(data.get("n") or 1))
        short = "the master has no --cp-ids-file (start master and workers with the same options)"
        grant: dict[str, Any] = {"seq": data.get("seq"), "ids": [], "short": short}
        if self.ledger is not None:
            self.prune_leases()
            grant = self.ledger.grant(worker, data.get("seq"), asked)  # with the passwords of the ids
        runner_of(self.environment).send_message(MSG_IDS_GRANT, grant, client_id=worker)

    def on_ids_return(self, worker: str, data: Any) -> None:
        if self.ledger is not None and isinstance(data, dict):
            self.ledger.give_back(worker, data.get("ids") or [])

    def on_ids_grant(self, data: Any) -> None:
        data = data if isinstance(data, dict) else {}
        pool = self.ids
        if isinstance(pool, LeasedIdPool):
            pool.on_grant(data)
        elif data.get("ids"):
            self._send_to_master(MSG_IDS_RETURN, {"ids": list(data["ids"])})

    # ------------------------------------------------------------ embedded testbed

    def start_testbed(self) -> None:
        from ocpp_users.embedded import TestbedProcess

        testbed = TestbedProcess(
            ["--port", "0", "--api-port", "0", "--heartbeat-interval", str(EMBEDDED_HEARTBEAT_INTERVAL), "-q"]
        )
        testbed.start()
        self.testbed = testbed
        atexit.register(_kill_quietly, testbed)
        self.environment.host = testbed.ws_url
        if self.environment.parsed_options is not None:
            setattr(self.environment.parsed_options, EMBEDDED_FLAG, True)
        log.info(
            "no --host given: started the embedded testbed CSMS at %s (heartbeat interval %d s; control API %s)",
            testbed.ws_url,
            EMBEDDED_HEARTBEAT_INTERVAL,
            testbed.api_url,
        )

    def stop_testbed(self) -> None:
        testbed, self.testbed = self.testbed, None
        if testbed is not None:
            try:
                testbed.stop()
            except BaseException:  # e.g. a second Ctrl+C / SIGTERM while waiting for it
                _kill_quietly(testbed)
                raise


def option_values(options: Any) -> dict[str, Any]:
    """Every option of ours that the web UI's form shows, by flag (secrets masked)."""
    values: dict[str, Any] = {}
    for group in registered_groups():
        for option in group.options:
            if option.web_ui and options is not None and hasattr(options, option.dest):
                value = getattr(options, option.dest)
                values[option.flag] = "***" if option.secret and value else value
    return values


def _shown(value: Any) -> str:
    return repr(value) if value in ("", None) or (isinstance(value, str) and " " in value) else str(value)


def log_form_changes(fleet: Fleet) -> None:
    """A test starts: log the options the web UI's form changed (nothing without a form)."""
    values = option_values(fleet.environment.parsed_options)
    before, fleet.option_values = fleet.option_values, {}
    changed = [
        f"{flag} {_shown(value)} (was {_shown(before.get(flag))})"
        for flag, value in values.items()
        if flag in before and before[flag] != value
    ]
    if changed:
        log.info("fleet: options changed in the web UI: %s", ", ".join(changed))


def log_config(fleet: Fleet, config: FleetConfig) -> None:
    """Log the configuration line when it is not the one logged last (once per run otherwise)."""
    line = config.describe()
    if line != fleet.described:
        fleet.described = line
        log.info("fleet: %s", line)


def _kill_quietly(testbed: Any) -> None:
    """Last resort at exit: kill the testbed child if it still runs, without waiting."""
    process = getattr(testbed, "process", None)
    try:
        if process is not None and process.poll() is None:
            process.kill()
    except Exception:
        pass


# ---------------------------------------------------------------- listeners


def _bad_option(message: str) -> None:
    """End Locust with one line and exit code 2, as argparse does."""
    sys.stderr.write(f"locust: error: {message}\n")
    sys.stderr.flush()
    raise SystemExit(2)


def on_init(environment: Environment, runner: Runner | None, web_ui: WebUI | None = None, **_: Any) -> None:
    fleet = Fleet.of(environment)
    keep_total_to_round_trips(environment.stats)
    environment.events.spawning_complete.add_listener(lambda **_: on_spawning_complete(environment))
    fleet.monitor.install()
    fleet.install_id_messages(runner)
    if is_worker(runner):
        return  # options and host come from the master with each spawn message
    options = environment.parsed_options
    try:
        fleet_config(options, environment.host or LOOPBACK_PROBE, embedded=not environment.host)
    except OptionError as exc:
        hint = "" if environment.host else " (no --host: the embedded testbed speaks plain ws://)"
        _bad_option(f"{exc}{hint}")
    if not environment.host:
        try:
            fleet.start_testbed()
        except Exception as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            sys.stderr.write(f"locust: error: cannot start the embedded testbed CSMS (give --host): {first}\n")
            raise SystemExit(1) from None
    try:
        config = fleet.configure()
    except OptionError as exc:
        fleet.stop_testbed()
        _bad_option(str(exc))
        return
    log_config(fleet, config)
    if not config.id_tag_given and not fleet.embedded:
        log.info(
            "fleet: no --id-tag given; the charge points present %s, which the CSMS must accept", config.id_tags[0]
        )
    if web_ui is not None:
        from ocpp_users.fleet import webui  # late: its pages import the gates and shapes

        def before_form() -> None:  # the options as they were: the next test start logs what the form changed
            fleet.option_values = option_values(environment.parsed_options)

        webui.install(web_ui, environment, fleet.monitor, before_form)
        secrecy.install_web_ui(web_ui, environment)


def on_test_start(environment: Environment, **_: Any) -> None:
    fleet = Fleet.of(environment)
    fleet.monitor.reset_run()
    runner = environment.runner
    if is_master(runner):
        fleet.fidelity.reset_workers()
    else:
        fleet.fidelity.start()
    if not is_worker(runner):
        log_form_changes(fleet)
        fleet.monitor.start_timeline()
        if getattr(environment.parsed_options, "headless", False):
            fleet.monitor.start_printer()
    if is_worker(runner):
        options = environment.parsed_options
        master_host = str(getattr(options, "master_host", "127.0.0.1") or "127.0.0.1")
        host = environment.host or ""
        if host and _is_loopback(host) and not _is_loopback(f"ws://{master_host}/") and master_host != "localhost":
            log.warning(
                "fleet: the master's CSMS URL %s is on its loopback interface; a worker on another machine "
                "cannot reach it: give the master --host",
                redact_url(host),
            )
    try:
        config = fleet.configure()
    except OptionError as exc:
        fleet.fail(str(exc))
        if not is_worker(runner) and runner is not None:
            gevent.spawn(runner.stop)
        return
    if not is_worker(runner):
        log_config(fleet, config)  # what the run uses, when the form changed it


def on_test_stopping(environment: Environment, **_: Any) -> None:
    fleet = Fleet.of(environment)
    fleet.fidelity.tracker.end_run_figures()  # stopping the fleet is the harness's work, not the fleet's
    if not is_worker(environment.runner):
        monitor = fleet.monitor
        monitor.stop_printer()
        monitor.stop_timeline()  # the last sample: the fleet as the test ends
        monitor.print_summary("fleet at the end of the test: ")


def on_test_stop(environment: Environment, **_: Any) -> None:
    fleet = Fleet.of(environment)
    fleet.fidelity.stop()
    if not is_worker(environment.runner):
        fleet.monitor.print_stopped()  # the users are stopped now: every stopped call is counted
    if hasattr(gc, "unfreeze"):
        gc.unfreeze()  # the stopped charge points can be collected again


def on_spawning_complete(environment: Environment) -> None:
    """Collect once, then move every object alive now (the charge points, their connections,
    their models) out of the collector's sight: later full collections skip them. The run's loop
    lag and CPU figures count from here: they describe the fleet at its size, not the ramp-up."""
    if hasattr(gc, "freeze"):
        gc.collect()
        gc.freeze()
    # After the loop has caught up with this collection (its stall is the ramp's, not the fleet's).
    gevent.spawn_later(1.0, Fleet.of(environment).fidelity.tracker.restart_run_figures)


def on_quitting(environment: Environment, **_: Any) -> None:
    fleet = Fleet.of(environment)
    fleet.monitor.stop_printer()
    fleet.fidelity.stop(final_check=False)
    if is_worker(environment.runner):
        return
    problems = fleet.monitor.connection_problems()
    if problems:
        log.warning("connection problems during the run: %s", "; ".join(problems))


def install(events: Events) -> None:
    """Register the fleet's options and listeners on ``events`` (Locust's, or a test's own)."""
    events.init_command_line_parser.add_listener(lambda parser, **_: register(parser))
    events.init.add_listener(on_init)
    events.test_start.add_listener(on_test_start)
    events.test_stopping.add_listener(on_test_stopping)
    events.test_stop.add_listener(on_test_stop)
    events.quitting.add_listener(on_quitting)

    def stop_testbeds(**_: Any) -> None:
        for fleet in list(Fleet._instances.values()):
            fleet.stop_testbed()

    events.quit.add_listener(stop_testbeds)
