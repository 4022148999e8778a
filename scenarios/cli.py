"""``volatileocpp``: ``scenarios`` runs the OCTT 1.6 Central System test cases against a CSMS,
``robustness`` the robustness suite (:mod:`scenarios.robustness.cli`), ``fleet-options`` lists the
fleet's options.

Exit status of ``scenarios`` (also in ``--help``): 0 every case that ran PASSED; 1 a case FAILED or
ERRORed; 2 a usage error, or the CSMS cannot be reached or never answers the BootNotification; 3
with ``--require-all``, nothing failed but a case was NOT APPLICABLE.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from typing import NoReturn, TextIO  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402

from ocpp_users.embedded import TestbedProcess, TestbedStartError  # noqa: E402
from ocpp_users.ocppj.text import frame_size  # noqa: E402
from ocpp_users.ocppj.transport import SecurityConfig  # noqa: E402
from scenarios import demo  # noqa: E402
from scenarios.base import PRECONDITIONS, Case  # noqa: E402
from scenarios.console import Console  # noqa: E402
from scenarios.options import (  # noqa: E402
    FEATURE_PROFILES,
    RunOptions,
    Tags,
    TestData,
    parse_profiles,
    redact_url,
    security_file_errors,
    split_patterns,
)
from scenarios.reporting import write_html, write_json, write_junit  # noqa: E402
from scenarios.runner import ConnectionFailed, Runner, select_cases  # noqa: E402

PROG = "volatileocpp"
PASSWORD_ENV = "VOCPP_BASIC_AUTH_PASSWORD"

DESCRIPTION = """\
Run the OCTT 1.6 test cases for a Central System (TC_xxx_CSMS) against a CSMS, one simulated
charge point playing the Tool. Without --url the bundled testbed CSMS is started and tested
(a demonstration: every case should pass).
"""

EPILOG = """\
CSMS-initiated steps (RemoteStartTransaction, Reset, GetConfiguration, ...) need the CSMS to send
a request: --trigger-url POSTs the OCPP payload (JSON) to e.g. http://csms/api/{cp_id}/{action};
--trigger-cmd runs a shell command with {cp_id}, {action} and {payload} (JSON), all shell-quoted.
Without a driver, at a terminal the runner asks you to make the CSMS send it and waits for Enter;
without a terminal such cases are NOT APPLICABLE.

Feature profiles: --profiles names those the CSMS declares (Core is always in); a case of
another profile is NOT APPLICABLE. Without it every profile counts as claimed except one the
support probe rules out (FirmwareManagement when FirmwareStatusNotification or
DiagnosticsStatusNotification is NotImplemented/NotSupported). An action of a declared profile
that the CSMS does not support FAILS the cases that need it.

exit status:
  0  every case that ran PASSED (cases NOT APPLICABLE are listed in the closing lines)
  1  a case FAILED (the CSMS) or ended ERROR (the harness or its driver)
  2  usage error; the CSMS cannot be reached, or never answers the BootNotification
  3  with --require-all: nothing FAILED, but a case was NOT APPLICABLE
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """One line on stderr, exit status 2."""
        sys.stderr.write(f"{self.prog}: error: {message} (see --help)\n")
        sys.exit(2)


def _seconds(text: str) -> float:
    value = float(text)
    if not value > 0 or value > 86400:
        raise ValueError(text)
    return value


def _wait(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 86400:
        raise ValueError(text)
    return value


def _level(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 97:
        raise ValueError(text)
    return value


def _offset(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 86400:
        raise ValueError(text)
    return value


def _duration(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 7 * 86400:
        raise ValueError(text)
    return value


def _phases(text: str) -> int:
    value = int(text)
    if value not in (1, 2, 3):
        raise ValueError(text)
    return value


def _frame_size(text: str) -> int:
    try:
        return frame_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _profiles(text: str) -> frozenset[str]:
    try:
        return parse_profiles(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _count(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 100:
        raise ValueError(text)
    return value


_seconds.__name__ = "positive number of seconds"
_wait.__name__ = "non-negative number of seconds"
_count.__name__ = "number from 1 to 100"
_level.__name__ = "stack level from 0 to 97"
_duration.__name__ = "number of seconds from 1 to 604800"
_offset.__name__ = "number of seconds from 0 to 86400"
_phases.__name__ = "1, 2 or 3"


TOP_DESCRIPTION = """\
VolatileOCPP: OCPP 1.6J load testing, compliance and robustness for Central Systems (CSMS).

  volatileocpp scenarios      the OCTT 1.6 test cases for a Central System, one verdict each
  volatileocpp robustness     a hostile charge point: broken frames, bad payloads, nonsense, floods;
                              PASSED / NON-STRICT / FAILED / CRASHED / DEGRADED per case
  volatileocpp fleet-options  the options of the Locust modes: fleet, load shapes, CI gates, compliance

Without --url, scenarios and robustness start the bundled testbed CSMS and test it.
"""


def build_parser() -> argparse.ArgumentParser:
    from scenarios.robustness import cli as robustness_cli

    parser = _Parser(prog=PROG, description=TOP_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    p = sub.add_parser(
        "scenarios",
        help="run the OCTT 1.6 Central System test cases",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    robustness_cli.add_parser(sub)
    sub.add_parser(
        "fleet-options",
        help="list the options of the Locust modes, grouped (locust -f locustfiles/fleet.py --help cannot)",
        description="Print the options of locustfiles/fleet.py (fleet, load shapes, CI gates and reports) and "
        "locustfiles/compliance.py, grouped as the web UI shows them, with their environment variables.",
    )
    target = p.add_argument_group("target")
    target.add_argument(
        "--url",
        help="CSMS URL, e.g. ws://host:9000/ocpp/{cp_id} ({cp_id} is replaced by the "
        "charge point id, else the id is appended). Without it the testbed is started",
    )
    target.add_argument("--protocol", default="ocpp1.6", help="WebSocket subprotocol (only ocpp1.6)")
    target.add_argument("--cp-id", default="VOCPP-OCTT-CP", help="charge point id (default VOCPP-OCTT-CP)")
    target.add_argument("--connectors", type=_count, default=1, help="number of connectors (default 1)")
    target.add_argument("--connector-id", type=_count, default=1, help="<Configured ConnectorId> (default 1)")
    target.add_argument("--vendor", default="VolatileOCPP", help="<Configured Vendor Name>")
    target.add_argument("--model", default="OCTT-Tool", help="<Configured Model>")
    tags = p.add_argument_group("preconditions (idTags configured in the CSMS)")
    tags.add_argument("--id-tag", help="an idTag the CSMS accepts (<Configured Valid IdTag>)")
    tags.add_argument("--expired-tag", help="an idTag with status Expired (TC_023_2)")
    tags.add_argument("--blocked-tag", help="an idTag with status Blocked (TC_023_3)")
    tags.add_argument("--invalid-tag", help="an idTag unknown to the CSMS (default: a random one)")
    tags.add_argument("--group-tag", help="another Accepted idTag with the same parentIdTag as --id-tag (TC_053)")
    tags.add_argument("--parent-id-tag", help="the parentIdTag of --id-tag and --group-tag (TC_053)")
    tags.add_argument(
        "--unknown-vendor-id",
        default="org.volatileocpp.unknown",
        help="a DataTransfer vendorId the CSMS does not support (TC_064)",
    )
    drive = p.add_argument_group("CSMS-initiated steps")
    drive.add_argument(
        "--trigger-url", metavar="TEMPLATE", help="POST the OCPP payload to this URL ({cp_id}, {action} filled in)"
    )
    drive.add_argument(
        "--trigger-cmd",
        metavar="TEMPLATE",
        help="run this shell command ({cp_id}, {action}, {payload} filled in, shell-quoted)",
    )
    drive.add_argument(
        "--trigger-header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="extra HTTP header for --trigger-url (repeatable; never printed)",
    )
    drive.add_argument(
        "--prompt-timeout",
        type=_seconds,
        default=300.0,
        metavar="S",
        help="at a terminal without a driver: seconds to wait for Enter (default 300)",
    )
    profiles = p.add_argument_group("feature profiles and test data (the document's <Configured ...> values)")
    profiles.add_argument(
        "--profiles",
        type=_profiles,
        metavar="LIST",
        help="profiles the CSMS declares, comma-separated: " + ",".join(FEATURE_PROFILES) + " (default: all but "
        "those the probe rules out)",
    )
    profiles.add_argument(
        "--firmware-url", default=TestData.firmware_url, metavar="URL", help="<Firmware Download URL> (TC_044_1)"
    )
    profiles.add_argument(
        "--diagnostics-url", default=TestData.diagnostics_url, metavar="URL", help="diagnostics location (TC_045_x)"
    )
    profiles.add_argument(
        "--expiry-offset",
        type=_seconds,
        default=TestData.expiry_offset,
        metavar="S",
        help="<Configured Expiry Date Offset>: ReserveNow expiryDate = now + S; TC_047 waits for it (default 2)",
    )
    profiles.add_argument(
        "--expiry-tolerance",
        type=_wait,
        default=TestData.expiry_tolerance,
        metavar="S",
        help="how far that expiryDate may be off (clocks, transit; default 2)",
    )
    profiles.add_argument(
        "--stack-level", type=_level, default=TestData.stack_level, metavar="N", help="<Configured stackLevel> (0)"
    )
    profiles.add_argument(
        "--charging-rate-unit",
        choices=("A", "W"),
        default=TestData.charging_rate_unit,
        help="<Configured chargingRateUnit> (A; the limit is then 6.0, with W 6000.0)",
    )
    profiles.add_argument(
        "--schedule-duration",
        type=_duration,
        default=TestData.duration,
        metavar="S",
        help="<Configured duration> of a charging schedule (3600)",
    )
    profiles.add_argument(
        "--start-period", type=_offset, default=TestData.start_period, metavar="S", help="<Configured startPeriod> (0)"
    )
    profiles.add_argument(
        "--number-phases", type=_phases, default=TestData.number_phases, help="<Configured numberPhases> (3)"
    )
    probe = p.add_argument_group("support probe")
    probe.add_argument("--no-probe", action="store_true", help="do not probe which actions the CSMS supports")
    probe.add_argument(
        "--assume-supported",
        nargs="?",
        const="*",
        metavar="ACTIONS",
        help="treat these actions (comma-separated; all when no list) as supported",
    )
    probe.add_argument(
        "--probe-timeout",
        type=_seconds,
        default=2.0,
        metavar="S",
        help="wait for each probe call's answer (one call at a time; default 2)",
    )
    select = p.add_argument_group("selection")
    select.add_argument("--only", action="append", metavar="GLOBS", help="run only these cases (e.g. TC_023*)")
    select.add_argument("--exclude", action="append", metavar="GLOBS", help="skip these cases")
    select.add_argument("--list", action="store_true", help="print the selected cases in order and exit")
    select.add_argument(
        "--require-all",
        action="store_true",
        help="fail the run (exit status 3) when any selected case is NOT APPLICABLE",
    )
    timing = p.add_argument_group("timing")
    timing.add_argument(
        "--step-timeout",
        type=_seconds,
        default=5.0,
        metavar="S",
        help="wait for each CSMS answer or request (default 5)",
    )
    timing.add_argument("--connect-timeout", type=_seconds, default=10.0, metavar="S", help="default 10")
    timing.add_argument(
        "--max-frame-size",
        type=_frame_size,
        default=RunOptions.max_frame_size,
        metavar="BYTES",
        help="largest WebSocket message accepted from the CSMS, e.g. 4MiB (default 4MiB; a larger one closes "
        "the connection with 1009)",
    )
    timing.add_argument(
        "--connection-timeout",
        type=_wait,
        default=1.0,
        metavar="S",
        help="the Tool's ConnectionTimeOut (TC_004_2, TC_011_2; default 1)",
    )
    timing.add_argument(
        "--heartbeat-wait",
        type=_wait,
        default=0.0,
        metavar="S",
        help="TC_001: wait before the Heartbeat (default 0: at once)",
    )
    timing.add_argument(
        "--offline-time", type=_wait, default=0.3, metavar="S", help="offline period in TC_037_x/TC_039 (default 0.3)"
    )
    timing.add_argument(
        "--reboot-delay",
        type=_wait,
        default=0.2,
        metavar="S",
        help="pause between losing the connection and reconnecting on reset/power loss",
    )
    timing.add_argument(
        "--swap-order",
        action="store_true",
        help="send the message pairs the document lets swap (StartTransaction/Charging, "
        "StopTransaction/Finishing) in the other order",
    )
    sec = p.add_argument_group("security (TC_085 Basic auth, TC_086 TLS)")
    sec.add_argument(
        "--security-profile",
        type=int,
        choices=(0, 1, 2, 3),
        help="0 ws, 1 ws+Basic, 2 wss+Basic, 3 wss+client certificate (default from the options)",
    )
    sec.add_argument(
        "--basic-auth-password",
        metavar="PW",
        help=f"the AuthorizationKey for Basic auth (or ${PASSWORD_ENV}); never printed",
    )
    sec.add_argument("--ca-file", help="CA bundle to verify the CSMS certificate")
    sec.add_argument("--client-cert", help="client certificate (profile 3)")
    sec.add_argument("--client-key", help="client key (profile 3)")
    out = p.add_argument_group("reports")
    out.add_argument("--junit", metavar="FILE", help="JUnit XML report")
    out.add_argument("--json", metavar="FILE", help="JSON report (checks, wire log)")
    out.add_argument("--html", metavar="FILE", help="self-contained HTML report")
    out.add_argument("-v", "--verbose", action="store_true", help="print the wire log of every case")
    p.set_defaults(subparser=p)
    return parser


def _security(args: argparse.Namespace, parser: argparse.ArgumentParser) -> SecurityConfig:
    problems = security_file_errors(args.ca_file, args.client_cert, args.client_key)
    if problems:
        parser.error(problems[0])
    password = args.basic_auth_password or os.environ.get(PASSWORD_ENV) or None
    profile = args.security_profile
    scheme = urlsplit(args.url).scheme if args.url else "ws"
    if profile is None:
        if args.client_cert and scheme == "wss":
            profile = 3
        elif password:
            profile = 2 if scheme == "wss" else 1
        else:
            profile = 0
    security = SecurityConfig(
        profile=profile,
        password=password if profile in (1, 2) else None,
        ca_file=args.ca_file,
        client_cert=args.client_cert,
        client_key=args.client_key,
    )
    if args.url:
        try:
            security.check(args.url)
        except ValueError as exc:
            parser.error(str(exc))
    return security


def _files_writable(parser: argparse.ArgumentParser, *paths: str | None) -> None:
    for path in paths:
        if not path:
            continue
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
            parser.error(f"cannot write report {path}: directory {folder} is missing or not writable")


def options_from_args(args: argparse.Namespace, parser: argparse.ArgumentParser) -> RunOptions:
    if args.protocol != "ocpp1.6":
        parser.error(f"--protocol {args.protocol} is not supported (only ocpp1.6)")
    if args.trigger_url and args.trigger_cmd:
        parser.error("--trigger-url and --trigger-cmd exclude each other")
    if args.connector_id > args.connectors:
        parser.error(f"--connector-id {args.connector_id} exceeds --connectors {args.connectors}")
    for header in args.trigger_header:
        if ":" not in header:
            parser.error("--trigger-header must look like 'Name: value'")
    if args.url and urlsplit(args.url).scheme not in ("ws", "wss"):
        parser.error(f"--url must start with ws:// or wss://, not {redact_url(args.url)!r}")
    assumed = frozenset(split_patterns([args.assume_supported])) if args.assume_supported else frozenset()
    return RunOptions(
        url=args.url or "",
        cp_id=args.cp_id,
        security=_security(args, parser),
        tags=Tags(
            valid=args.id_tag,
            invalid=args.invalid_tag,
            expired=args.expired_tag,
            blocked=args.blocked_tag,
            group=args.group_tag,
            parent=args.parent_id_tag,
        ),
        connectors=args.connectors,
        connector_id=args.connector_id,
        vendor=args.vendor,
        model=args.model,
        unknown_vendor_id=args.unknown_vendor_id,
        step_timeout=args.step_timeout,
        connect_timeout=args.connect_timeout,
        max_frame_size=args.max_frame_size,
        connection_timeout=args.connection_timeout,
        heartbeat_wait=args.heartbeat_wait,
        offline_time=args.offline_time,
        reboot_delay=args.reboot_delay,
        probe_timeout=args.probe_timeout,
        probe=not args.no_probe and "*" not in assumed,
        assume_supported=assumed,
        swap_order=args.swap_order,
        trigger_url=args.trigger_url,
        trigger_cmd=args.trigger_cmd,
        trigger_headers=tuple(args.trigger_header),
        prompt_timeout=args.prompt_timeout,
        only=split_patterns(args.only),
        exclude=split_patterns(args.exclude),
        profiles=args.profiles,
        require_all=args.require_all,
        test_data=TestData(
            firmware_url=args.firmware_url,
            diagnostics_url=args.diagnostics_url,
            expiry_offset=args.expiry_offset,
            expiry_tolerance=args.expiry_tolerance,
            stack_level=args.stack_level,
            charging_rate_unit=args.charging_rate_unit,
            duration=args.schedule_duration,
            start_period=args.start_period,
            number_phases=args.number_phases,
        ),
    )


def _needs(case: type[Case]) -> str:
    parts = []
    if case.cp_actions:
        parts.append("CP->CSMS " + ", ".join(case.cp_actions))
    if case.csms_actions:
        parts.append("CSMS->CP " + ", ".join(case.csms_actions))
    if case.preconditions:
        parts.append("preconditions: " + "; ".join(PRECONDITIONS[p] for p in case.preconditions))
    return " | ".join(parts) or "-"


def list_cases(cases: Sequence[type[Case]], out: TextIO) -> None:
    for case in cases:
        out.write(f"{case.case_id:<15} {case.section:<7} {case.profile:<23} {case.title}\n")
        out.write(f"{'':<15} needs: {_needs(case)}\n")
    out.write(f"{len(cases)} cases\n")


def run_scenarios(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    options = options_from_args(args, parser)
    cases = select_cases(options.only, options.exclude)
    if not cases:
        parser.error("no case matches --only/--exclude")
    if args.list:
        list_cases(cases, sys.stdout)
        return 0
    _files_writable(parser, args.junit, args.json, args.html)
    testbed: TestbedProcess | None = None
    if not options.url:
        password = demo.testbed_password()
        try:
            testbed = demo.start_testbed(password)
        except (TestbedStartError, OSError) as exc:
            first = (demo.redact(str(exc), password).splitlines() or [type(exc).__name__])[0]
            sys.stderr.write(f"{PROG}: error: cannot start the testbed: {first}\n")
            return 2
        options = demo.against_testbed(options, testbed, password)
        sys.stdout.write(f"No --url: testing the bundled testbed CSMS at {testbed.ws_url} (driver: its control API)\n")
    options.interactive = not options.has_driver and sys.stdin.isatty()
    console = Console(sys.stdout, verbose=args.verbose)
    runner = Runner(options, listener=console, out=sys.stdout)
    try:
        try:
            run = runner.run()
        except ConnectionFailed as exc:
            sys.stderr.write(f"{PROG}: error: {exc}\n")
            return 2
    finally:
        if testbed is not None:
            testbed.stop()
    console.summary(run)
    try:
        if args.junit:
            write_junit(run, args.junit)
        if args.json:
            write_json(run, args.json)
        if args.html:
            write_html(run, args.html)
    except OSError as exc:
        sys.stderr.write(f"{PROG}: error: cannot write a report: {exc}\n")
        return 2
    return run.exit_code


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "fleet-options":
        from ocpp_users.fleet.options import help_text
        from scenarios.locust_options import OPTIONS

        sys.stdout.write(help_text([OPTIONS]))
        return 0
    try:
        if args.command == "robustness":
            from scenarios.robustness import cli as robustness_cli

            return robustness_cli.run(args, args.subparser)
        return run_scenarios(args, args.subparser)
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
