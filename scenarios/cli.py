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

from ocpp_users.embedded import TestbedStartError  # noqa: E402
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
    check_authorization_key,
    check_signature,
    file_problem,
    parse_profiles,
    redact_url,
    security_file_errors,
    split_patterns,
)
from scenarios.pki import certificate_problem  # noqa: E402
from scenarios.reporting import write_reports  # noqa: E402
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


def _certificate_file(text: str) -> str:
    problem = file_problem(text) or certificate_problem(text)
    if problem is not None:
        raise argparse.ArgumentTypeError(f"{text}: {problem}")
    return text


def _authorization_key(text: str) -> str:
    try:
        check_authorization_key(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text.strip()


def _signature(text: str) -> str:
    try:
        check_signature(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text.strip()


def _cpo_name(text: str) -> str:
    if not text.strip() or len(text) > 64:
        raise argparse.ArgumentTypeError("--cpo-name must have 1 to 64 characters (the CSR's organizationName)")
    return text


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
    secdata = p.add_argument_group(
        "security extension test data (TC_073 to TC_081; certificates are PEM files)",
    )
    secdata.add_argument(
        "--cpo-name",
        type=_cpo_name,
        default=TestData.cpo_name,
        metavar="NAME",
        help=f"the Tool's CpoName, O of its certificate signing requests (TC_074, TC_077; default {TestData.cpo_name})",
    )
    secdata.add_argument(
        "--authorization-key",
        type=_authorization_key,
        metavar="HEX",
        help="the new AuthorizationKey TC_073 asks the CSMS to send: 16-20 bytes in hexadecimal (default: a random "
        "one; the CSMS expects it afterwards, so give yours to know the password); never printed",
    )
    secdata.add_argument(
        "--root-certificate",
        type=_certificate_file,
        metavar="FILE",
        help="<Configured root certificate> the CSMS installs (TC_075_1, TC_075_2, TC_076, TC_078; default: a fresh "
        "root per case)",
    )
    secdata.add_argument(
        "--log-location",
        default=TestData.log_location,
        metavar="URL",
        help="<Configured log location> of GetLog (TC_079)",
    )
    secdata.add_argument(
        "--manufacturer-root",
        type=_certificate_file,
        metavar="FILE",
        help="the Tool's factory ManufacturerRootCertificate(s): what --signing-certificate chains to (TC_080, TC_081)",
    )
    secdata.add_argument(
        "--signing-certificate",
        type=_certificate_file,
        metavar="FILE",
        help="<Configured signingCertificate> of SignedUpdateFirmware (TC_080, TC_081)",
    )
    secdata.add_argument(
        "--firmware-signature",
        type=_signature,
        metavar="BASE64",
        help="<Configured signature> of SignedUpdateFirmware (TC_080)",
    )
    secdata.add_argument(
        "--invalid-firmware-signature",
        type=_signature,
        default=TestData.invalid_firmware_signature,
        metavar="BASE64",
        help="<An invalid signature.> the CSMS sends in TC_081 (default: the base64 of a text that signs nothing)",
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
    sec = p.add_argument_group(
        "security (TC_073 and TC_085 need Basic auth, TC_075_x, TC_078 and TC_086 a wss:// URL, TC_074, TC_077 and "
        "TC_087 a client certificate: with --basic-auth-password too, those connect with it for the case)"
    )
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
            cpo_name=args.cpo_name,
            authorization_key=args.authorization_key,
            root_certificate=args.root_certificate,
            log_location=args.log_location,
            manufacturer_root=args.manufacturer_root,
            signing_certificate=args.signing_certificate,
            firmware_signature=args.firmware_signature,
            invalid_firmware_signature=args.invalid_firmware_signature,
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
    if case.set_up:
        parts.append("set-up: " + case.set_up)
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
    started: demo.DemoRun | None = None
    if not options.url:
        password = demo.testbed_password()
        try:
            started = demo.start_demo(options, password)
        except (TestbedStartError, OSError) as exc:
            first = (demo.redact(str(exc), password).splitlines() or [type(exc).__name__])[0]
            sys.stderr.write(f"{PROG}: error: cannot start the testbed: {first}\n")
            return 2
        options = started.options
        sys.stdout.write(f"No --url: testing {started.description}\n")
    options.interactive = not options.has_driver and sys.stdin.isatty()
    console = Console(sys.stdout, verbose=args.verbose)
    runner = Runner(options, listener=console, out=sys.stdout, driver=started.driver if started else None)
    try:
        try:
            run = runner.run()
        except ConnectionFailed as exc:
            sys.stderr.write(f"{PROG}: error: {exc}\n")
            return 2
    finally:
        if started is not None:
            started.stop()
    console.summary(run)
    try:
        write_reports(run, junit=args.junit, json=args.json, html=args.html)
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
