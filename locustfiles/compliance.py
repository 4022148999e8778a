"""Compliance mode under Locust: the OCTT 1.6 Central System cases as one user, one stats row each.

    locust -f locustfiles/compliance.py --headless -u 1 -r 1                       # the testbed
    locust -f locustfiles/compliance.py --headless -u 1 -r 1 --host ws://csms/ocpp/ \\
        --id-tag TAG1 --expired-tag TAG2 --blocked-tag TAG3 --trigger-url 'http://csms/api/{cp_id}/{action}'

Each case is a request of type ``OCTT`` named by its id with the case's duration; a FAILED or
ERROR case is a failure whose message carries expected and actual. NOT APPLICABLE cases are
reported under the type ``OCTT n/a``. The user stops the runner when the suite is done; the
exit code is 1 when a case FAILED or ERRORed. Without ``--host`` the testbed CSMS is started,
as ``volatileocpp scenarios`` does. Options: ``locust -f locustfiles/compliance.py --help``,
group "custom options"; each has an environment variable.
"""

from __future__ import annotations

from typing import Any

import gevent
from locust import User, constant, events, task  # (locust monkey-patches gevent before any socket exists)
from locust.argument_parser import LocustArgumentParser
from locust.env import Environment
from locust.exception import StopUser

from ocpp_users.transport import SecurityConfig
from scenarios import demo
from scenarios.options import RunOptions, Tags, split_patterns
from scenarios.reports import write_html, write_json, write_junit
from scenarios.results import CaseResult, RunResult, Support, Verdict
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


@events.init_command_line_parser.add_listener
def _add_options(parser: LocustArgumentParser) -> None:
    def opt(name: str, env: str, help_text: str, **kwargs: object) -> None:
        parser.add_argument(name, env_var=env, help=help_text, **kwargs)

    opt("--cp-id", "VOCPP_CP_ID", "charge point id (default VOCPP-OCTT-CP)", default="VOCPP-OCTT-CP")
    opt("--octt-only", "VOCPP_OCTT_ONLY", "run only these cases (comma-separated globs)", default="")
    opt("--octt-exclude", "VOCPP_OCTT_EXCLUDE", "skip these cases (comma-separated globs)", default="")
    opt("--id-tag", "VOCPP_ID_TAG", "an idTag the CSMS accepts", default="")
    opt("--expired-tag", "VOCPP_EXPIRED_TAG", "an idTag with status Expired", default="")
    opt("--blocked-tag", "VOCPP_BLOCKED_TAG", "an idTag with status Blocked", default="")
    opt("--invalid-tag", "VOCPP_INVALID_TAG", "an idTag unknown to the CSMS (default random)", default="")
    opt("--trigger-url", "VOCPP_TRIGGER_URL", "POST CSMS-initiated payloads here ({cp_id}, {action})", default="")
    opt("--trigger-cmd", "VOCPP_TRIGGER_CMD", "or run this shell command ({cp_id}, {action}, {payload})", default="")
    opt("--step-timeout", "VOCPP_STEP_TIMEOUT", "seconds per CSMS answer/request (default 5)", type=float, default=5.0)
    opt(
        "--connection-timeout",
        "VOCPP_CONNECTION_TIMEOUT",
        "the Tool's ConnectionTimeOut in s (default 1)",
        type=float,
        default=1.0,
    )
    opt(
        "--security-profile", "VOCPP_SECURITY_PROFILE", "0-3 (default: 1 with a password, else 0)", type=int, default=-1
    )
    opt(
        "--basic-auth-password",
        "VOCPP_BASIC_AUTH_PASSWORD",
        "Basic auth password (never printed)",
        default="",
        is_secret=True,
    )
    opt("--ca-file", "VOCPP_CA_FILE", "CA bundle for wss", default="")
    opt("--octt-junit", "VOCPP_OCTT_JUNIT", "write a JUnit XML report here", default="")
    opt("--octt-json", "VOCPP_OCTT_JSON", "write a JSON report here", default="")
    opt("--octt-html", "VOCPP_OCTT_HTML", "write an HTML report here", default="")


class _Results:
    run: RunResult | None = None
    bad = 0


def _parsed(environment: Environment) -> Any:
    options = environment.parsed_options
    if options is None:
        raise RuntimeError("compliance.py needs locust's parsed command line options")
    return options


def _options(environment: Environment, host: str | None) -> RunOptions:
    o = _parsed(environment)
    password = o.basic_auth_password or None
    profile = o.security_profile
    if profile < 0:
        profile = (2 if (host or "").startswith("wss") else 1) if password else 0
    return RunOptions(
        url=host or "",
        cp_id=o.cp_id,
        security=SecurityConfig(profile=profile, password=password, ca_file=o.ca_file or None),
        tags=Tags(
            valid=o.id_tag or None,
            invalid=o.invalid_tag or None,
            expired=o.expired_tag or None,
            blocked=o.blocked_tag or None,
        ),
        step_timeout=o.step_timeout,
        connection_timeout=o.connection_timeout,
        trigger_url=o.trigger_url or None,
        trigger_cmd=o.trigger_cmd or None,
        only=split_patterns([o.octt_only]),
        exclude=split_patterns([o.octt_exclude]),
    )


class _Fire:
    """Runner listener: every case becomes one request event."""

    def __init__(self, environment: Environment) -> None:
        self.environment = environment

    def support(self, support: dict[str, Support], seconds: float | None) -> None:
        unsupported = sorted(a for a, s in support.items() if s.state == "unsupported")
        if unsupported:
            print(f"CSMS does not support: {', '.join(unsupported)}")

    def case(self, result: CaseResult) -> None:
        exception: Exception | None = None
        request_type = REQUEST_TYPE
        if result.verdict in (Verdict.failed, Verdict.error):
            exception = OcttFailure(f"{result.verdict}: {result.reason}")
            _Results.bad += 1
        elif result.verdict == Verdict.not_applicable:
            request_type = NOT_APPLICABLE_TYPE
        self.environment.events.request.fire(
            request_type=request_type,
            name=result.case_id,
            response_time=result.duration * 1000.0,
            response_length=len(result.wire),
            exception=exception,
            context={"verdict": str(result.verdict), "reason": result.reason},
        )


def _write_reports(environment: Environment, run: RunResult) -> None:
    o = _parsed(environment)
    if o.octt_junit:
        write_junit(run, o.octt_junit)
    if o.octt_json:
        write_json(run, o.octt_json)
    if o.octt_html:
        write_html(run, o.octt_html)


class ComplianceUser(User):
    """Runs the selected OCTT cases once, in document order, then stops the test."""

    fixed_count = 1
    wait_time = constant(0)

    @task
    def run_suite(self) -> None:
        environment = self.environment
        options = _options(environment, self.host)
        testbed = None
        try:
            if not options.url:
                password = demo.testbed_password()
                testbed = demo.start_testbed(password)
                options = demo.against_testbed(options, testbed, password)
            runner = Runner(options, listener=_Fire(environment))
            try:
                _Results.run = runner.run()
            except ConnectionFailed as exc:
                _Results.bad += 1
                environment.events.request.fire(
                    request_type=REQUEST_TYPE,
                    name="connect",
                    response_time=0.0,
                    response_length=0,
                    exception=OcttFailure(str(exc)),
                    context={},
                )
            if _Results.run is not None:
                _write_reports(environment, _Results.run)
        finally:
            if testbed is not None:
                testbed.stop()
            if environment.runner is not None:
                gevent.spawn_later(0.1, environment.runner.quit)
        raise StopUser()


@events.quitting.add_listener
def _exit_code(environment: Environment, **_kwargs: object) -> None:
    if _Results.bad:
        environment.process_exit_code = 1
