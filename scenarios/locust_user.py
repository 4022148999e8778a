"""Compliance mode under Locust: the OCTT 1.6 Central System cases as one user, one stats row each.

    locust -f locustfiles/compliance.py --headless -u 1 -r 1                       # the testbed
    locust -f locustfiles/compliance.py --headless -u 1 -r 1 --host ws://csms/ocpp/ \\
        --octt-id-tag TAG1 --octt-expired-tag TAG2 --octt-blocked-tag TAG3 \\
        --octt-trigger-url 'http://csms/api/{cp_id}/{action}'

Each case is a request of type ``OCTT`` named by its id with the case's duration; a FAILED or
ERROR case is a failure whose message carries expected and actual. NOT APPLICABLE cases are
reported under the type ``OCTT n/a``. The console shows what ``volatileocpp scenarios`` prints
(one verdict line per case in document order, the details of a failure, the summary). The user
stops the runner when the suite is done; the exit code is 1 when a case FAILED or ERRORed, 2
when the CSMS cannot be reached and 3 when ``--octt-require-all`` is given and a case was NOT
APPLICABLE, as the CLI's. Without ``--host`` the testbed CSMS is started (over TLS, as the CLI's
demonstration: every case runs).

The options (:data:`OPTIONS`, each also an environment variable, ``LOCUST_`` + its name as for
every Locust option: ``--octt-id-tag`` is ``LOCUST_OCTT_ID_TAG``; the older ``VOCPP_OCTT_ID_TAG``
is still read, with a deprecation note) all start with ``--octt-`` so this user can be loaded
beside the fleet: the selection, ``--octt-profiles`` and ``--octt-require-all``, the preconditions'
idTags, the driver, the timing, the document's test data (``--octt-firmware-url`` ...
``--octt-invalid-firmware-signature``, the CLI's options with ``octt-`` in front) and the security options.
Bad options end Locust at start-up with one line and exit code 2. Importing this module registers
the options and listeners on Locust's global events, as a locustfile's own listeners would.
"""

from __future__ import annotations

import sys
from typing import Any
from urllib.parse import urlsplit

import gevent
from locust import User, constant, events, task  # (locust monkey-patches gevent before any socket exists)
from locust.argument_parser import LocustArgumentParser
from locust.env import Environment
from locust.exception import StopUser

from ocpp_users.embedded import TestbedStartError
from ocpp_users.fleet import secrecy
from ocpp_users.fleet.optiontable import add_group
from ocpp_users.fleet.runners import is_worker
from ocpp_users.ocppj.sink import report
from ocpp_users.ocppj.transport import SecurityConfig
from scenarios import demo
from scenarios.console import Console
from scenarios.locust_options import DATA, OPTIONS
from scenarios.options import RunOptions, Tags, TestData, parse_profiles, security_file_errors, split_patterns
from scenarios.reporting import write_reports
from scenarios.results import CaseResult, RunResult, Verdict
from scenarios.runner import ConnectionFailed, Runner

REQUEST_TYPE = "OCTT"
NOT_APPLICABLE_TYPE = "OCTT n/a"


class OcttFailure(Exception):
    """A FAILED or ERROR case; ``str()`` is the failing check with expected and actual."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


def _add_options(parser: LocustArgumentParser, **_: object) -> None:
    add_group(parser, OPTIONS)


class _Results:
    run: RunResult | None = None
    bad = 0
    exit_code = 0


def _parsed(environment: Environment) -> Any:
    options = environment.parsed_options
    if options is None:
        raise RuntimeError("compliance.py needs locust's parsed command line options")
    return options


def _security(o: Any, host: str | None) -> SecurityConfig:
    password = o.octt_basic_auth_password or None
    client_cert = o.octt_client_cert or None
    wss = (host or "").startswith("wss")
    profile = o.octt_security_profile
    if profile < 0:
        profile = 3 if client_cert and wss else ((2 if wss else 1) if password else 0)
    return SecurityConfig(
        profile=profile,
        password=password if profile in (1, 2) else None,
        ca_file=o.octt_ca_file or None,
        client_cert=client_cert,
        client_key=o.octt_client_key or None,
    )


def option_errors(environment: Environment) -> list[str]:
    """What is wrong with the command line, one line each (``--octt-ca-file /x: no such file``)."""
    o = _parsed(environment)
    host = environment.host or getattr(o, "host", None) or ""
    security = _security(o, host)
    errors = security_file_errors(o.octt_ca_file, o.octt_client_cert, o.octt_client_key, prefix="--octt-")
    if host:
        if urlsplit(host).scheme not in ("ws", "wss"):
            errors.append(f"--host must be a ws:// or wss:// CSMS URL for compliance mode, not {host!r}")
        else:
            try:
                security.check(host)
            except ValueError as exc:
                errors.append(f"--octt-security-profile: {exc}")
    elif not 0 <= security.profile <= 3:
        errors.append(f"--octt-security-profile must be 0, 1, 2 or 3, not {security.profile}")
    errors += _data_errors(o)
    return errors


def _data_errors(o: Any) -> list[str]:
    """The numbers the CLI checks when it parses them (the Locust parser keeps the types only)."""
    errors = []
    if not o.octt_step_timeout > 0:
        errors.append(f"--octt-step-timeout must be above 0, not {o.octt_step_timeout:g}")
    if not o.octt_expiry_offset > 0:
        errors.append(f"--octt-expiry-offset must be above 0, not {o.octt_expiry_offset:g}")
    if not o.octt_expiry_tolerance >= 0:
        errors.append(f"--octt-expiry-tolerance must be 0 or above, not {o.octt_expiry_tolerance:g}")
    if not 0 <= o.octt_stack_level <= 97:
        errors.append(f"--octt-stack-level must be 0 to 97, not {o.octt_stack_level}")
    if not 1 <= o.octt_schedule_duration <= 7 * 86400:
        errors.append(f"--octt-schedule-duration must be 1 to 604800, not {o.octt_schedule_duration}")
    if not 0 <= o.octt_start_period <= 86400:
        errors.append(f"--octt-start-period must be 0 to 86400, not {o.octt_start_period}")
    if o.octt_number_phases not in (1, 2, 3):
        errors.append(f"--octt-number-phases must be 1, 2 or 3, not {o.octt_number_phases}")
    return errors


def _check_options(environment: Environment, runner: Any = None, web_ui: Any = None, **_kwargs: object) -> None:
    """Fail early: one line on stderr, exit code 2 (as argparse does). Then keep the secrets out
    of Locust's pages and reports (a password in --host, --octt-basic-auth-password)."""
    if is_worker(runner) or environment.parsed_options is None:
        return  # the master checked them (or there is no command line: an Environment built in code)
    errors = option_errors(environment)
    if errors:
        sys.stderr.write(f"locust: error: {errors[0]}\n")
        sys.stderr.flush()
        raise SystemExit(2)
    secrecy.hide_url_password(environment)
    if web_ui is not None:
        secrecy.install_web_ui(web_ui, environment, [o for o in OPTIONS.options if o.secret])


def _options(environment: Environment, host: str | None) -> RunOptions:
    o = _parsed(environment)
    host = secrecy.real_host(environment, host) if host else host
    return RunOptions(
        url=host or "",
        cp_id=o.octt_cp_id,
        security=_security(o, host),
        tags=Tags(
            valid=o.octt_id_tag or None,
            invalid=o.octt_invalid_tag or None,
            expired=o.octt_expired_tag or None,
            blocked=o.octt_blocked_tag or None,
            group=o.octt_group_tag or None,
            parent=o.octt_parent_id_tag or None,
        ),
        step_timeout=o.octt_step_timeout,
        connection_timeout=o.octt_connection_timeout,
        trigger_url=o.octt_trigger_url or None,
        trigger_cmd=o.octt_trigger_cmd or None,
        only=split_patterns([o.octt_only]),
        exclude=split_patterns([o.octt_exclude]),
        profiles=parse_profiles(o.octt_profiles) if o.octt_profiles else None,
        require_all=bool(o.octt_require_all),
        test_data=TestData(
            firmware_url=o.octt_firmware_url,
            diagnostics_url=o.octt_diagnostics_url,
            expiry_offset=o.octt_expiry_offset,
            expiry_tolerance=o.octt_expiry_tolerance,
            stack_level=o.octt_stack_level,
            charging_rate_unit=o.octt_charging_rate_unit,
            duration=o.octt_schedule_duration,
            start_period=o.octt_start_period,
            number_phases=o.octt_number_phases,
            cpo_name=o.octt_cpo_name or DATA.cpo_name,
            authorization_key=o.octt_authorization_key.strip() or None,
            root_certificate=o.octt_root_certificate or None,
            log_location=o.octt_log_location or DATA.log_location,
            manufacturer_root=o.octt_manufacturer_root or None,
            signing_certificate=o.octt_signing_certificate or None,
            firmware_signature=o.octt_firmware_signature.strip() or None,
            invalid_firmware_signature=o.octt_invalid_firmware_signature.strip() or DATA.invalid_firmware_signature,
        ),
    )


class _Fire(Console):
    """Runner listener: prints what the CLI prints, and makes every case one request event."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(sys.stdout)
        self.environment = environment

    def case(self, result: CaseResult) -> None:
        super().case(result)
        exception: Exception | None = None
        request_type = REQUEST_TYPE
        if result.verdict in (Verdict.failed, Verdict.error):
            exception = OcttFailure(f"{result.verdict}: {result.reason}")
            _Results.bad += 1
        elif result.verdict == Verdict.not_applicable:
            request_type = NOT_APPLICABLE_TYPE
        report(
            self.environment.events.request.fire,
            request_type,
            result.case_id,
            result.duration * 1000.0,
            len(result.wire),
            exception,
        )


def _write_reports(environment: Environment, run: RunResult) -> None:
    o = _parsed(environment)
    write_reports(run, junit=o.octt_junit, json=o.octt_json, html=o.octt_html)


def _fail_setup(environment: Environment, reason: str) -> None:
    """No case could run (the CSMS is unreachable, the testbed did not start): one failure, one line
    on stderr and exit code 2, as ``volatileocpp scenarios`` does."""
    _Results.bad += 1
    _Results.exit_code = 2
    sys.stderr.write(f"locust: error: {reason}\n")
    sys.stderr.flush()
    report(environment.events.request.fire, REQUEST_TYPE, "connect", exception=OcttFailure(reason))


class ComplianceUser(User):
    """Runs the selected OCTT cases once, in document order, then stops the test."""

    abstract = True
    fixed_count = 1
    wait_time = constant(0)

    @task
    def run_suite(self) -> None:
        environment = self.environment
        options = _options(environment, self.host)
        started: demo.DemoRun | None = None
        try:
            if not options.url:
                password = demo.testbed_password()
                try:
                    started = demo.start_demo(options, password)
                except (TestbedStartError, OSError) as exc:  # (the error's text has the password redacted)
                    first = (demo.redact(str(exc), password).splitlines() or [type(exc).__name__])[0]
                    _fail_setup(environment, f"cannot start the testbed: {first}")
                    raise StopUser() from None
                options = started.options
            listener = _Fire(environment)
            runner = Runner(options, listener=listener, driver=started.driver if started else None)
            try:
                _Results.run = runner.run()
            except ConnectionFailed as exc:
                _fail_setup(environment, str(exc))
            if _Results.run is not None:
                listener.summary(_Results.run)
                _write_reports(environment, _Results.run)
        finally:
            if started is not None:
                started.stop()
            if environment.runner is not None:
                gevent.spawn_later(0.1, environment.runner.quit)
        raise StopUser()


def _exit_code(environment: Environment, **_kwargs: object) -> None:
    """As ``volatileocpp scenarios``: 2 no case could run, 1 a case FAILED or ERRORed, 3 with
    ``--octt-require-all`` nothing failed but a case was NOT APPLICABLE."""
    if _Results.exit_code:
        environment.process_exit_code = _Results.exit_code
    elif _Results.bad:
        environment.process_exit_code = 1
    elif _Results.run is not None and _Results.run.exit_code:
        environment.process_exit_code = _Results.run.exit_code


events.init_command_line_parser.add_listener(_add_options)
events.init.add_listener(_check_options)
events.quitting.add_listener(_exit_code)
