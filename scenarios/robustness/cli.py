"""``volatileocpp robustness``: a hostile charge point against a CSMS, one verdict per case.

Exit status (also in ``--help``): 0 nothing FAILED, CRASHED, DEGRADED or ERROR; 1 something did;
2 a usage error, or the CSMS cannot be reached or never answers a BootNotification.
"""

from __future__ import annotations

import argparse
import ipaddress
import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO
from urllib.parse import urlsplit

from ocpp_users.embedded import TestbedProcess, TestbedStartError
from scenarios import demo
from scenarios.options import redact_url, selected, split_patterns
from scenarios.reporting import write_reports
from scenarios.robustness.base import RobustCase, all_cases
from scenarios.robustness.console import MEANING, RobustConsole
from scenarios.robustness.expect import expected_text
from scenarios.robustness.options import DEFAULT_GROUPS, GROUPS, OPT_IN, Bounds, RobustOptions
from scenarios.robustness.runner import ConnectionFailed, RobustRunner, select_cases

PROG = "volatileocpp"

DESCRIPTION = """\
Run the robustness suite against a CSMS: a hostile charge point sends what a well-behaved one
never would (broken frames, payloads against their schema, unknown actions, calls that make no
sense, sessions out of order; with --include, huge frames and floods) and judges each answer by
the clause it tests (OCPP-J 1.6 §4.1-§4.2 and errata, the official OCPP 1.6 JSON schemas, OCPP
1.6 edition 2; OCPP 2.0.1 part 4 where it states a rule 1.6 leaves implicit). After every case a
liveness probe checks that the CSMS still answers BootNotification and Heartbeat, and a control
fleet of ordinary charge points checks that nobody else was slowed down.

Without --url the bundled testbed CSMS is started on loopback and tested; any other target only
with an explicit --url. Run it against a CSMS you may disrupt.
"""


def _epilog() -> str:
    verdicts = "\n".join(f"  {v!s:<15} {text}" for v, text in MEANING.items())
    return f"""\
groups (run in this order): {", ".join(GROUPS)}; {" and ".join(OPT_IN)} only with --include.

verdicts:
{verdicts}

exit status:
  0  nothing FAILED, CRASHED, DEGRADED or ERROR (NON-STRICT and NOT APPLICABLE are listed)
  1  a case FAILED, CRASHED, DEGRADED or ended ERROR
  2  usage error; the CSMS cannot be reached, or never answers a BootNotification
"""


def _bounded(low: float, high: float, name: str, integer: bool = False) -> Callable[[str], float | int]:
    def parse(text: str) -> float | int:
        value: float | int = int(text) if integer else float(text)
        if not low <= value <= high:
            raise ValueError(text)
        return value

    parse.__name__ = name
    return parse


def _groups(text: str) -> tuple[str, ...]:
    chosen = [g.strip().lower() for g in text.split(",") if g.strip()]
    if chosen == ["all"]:
        return OPT_IN
    unknown = [g for g in chosen if g not in GROUPS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown group {unknown[0]!r} (groups: {', '.join(GROUPS)}, or all)")
    return tuple(chosen)


def add_parser(sub: argparse._SubParsersAction[Any]) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "robustness",
        help="run the robustness suite (a hostile charge point) against a CSMS",
        description=DESCRIPTION,
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    seconds = _bounded(0.01, 86400, "positive number of seconds")
    target = p.add_argument_group("target")
    target.add_argument(
        "--url",
        help="CSMS URL, e.g. ws://host:9000/ocpp/{cp_id} ({cp_id} replaced by the charge point id, else appended). "
        "Without it the testbed is started on loopback",
    )
    target.add_argument("--cp-id", default="VOCPP-ROBUST-CP", help="the hostile charge point's id (%(default)s)")
    target.add_argument(
        "--connectors", type=_bounded(1, 100, "number from 1 to 100", True), default=1, help="its connectors (1)"
    )
    target.add_argument("--id-tag", default="VOCPP-VALID", help="idTag of the transactions it starts (%(default)s)")
    target.add_argument(
        "--fresh-cp-id", metavar="ID", help="a charge point the CSMS knows that never booted (default: a random id)"
    )
    target.add_argument("--pending-cp-id", metavar="ID", help="a charge point the CSMS answers Pending")
    target.add_argument(
        "--unknown-transaction-id",
        type=_bounded(1, 2**31 - 1, "transaction id", True),
        default=RobustOptions.unknown_transaction_id,
        metavar="N",
        help="a transactionId the CSMS never gave out (default %(default)s)",
    )
    select = p.add_argument_group("selection")
    select.add_argument(
        "--include",
        type=_groups,
        action="append",
        default=[],
        metavar="GROUPS",
        help=f"also run these opt-in groups ({','.join(OPT_IN)}, or all)",
    )
    select.add_argument("--only", action="append", metavar="GLOBS", help="run only these cases (e.g. 'frame.*')")
    select.add_argument("--exclude", action="append", metavar="GLOBS", help="skip these cases")
    select.add_argument("--list", action="store_true", help="print the selected cases, what each sends, and exit")
    timing = p.add_argument_group("timing")
    timing.add_argument(
        "--answer-timeout", type=seconds, default=5.0, metavar="S", help="wait for each answer (default 5)"
    )
    timing.add_argument(
        "--quick-wait",
        type=seconds,
        default=0.25,
        metavar="S",
        help="after this long without an answer, send a Heartbeat to find out whether the input was ignored (0.25)",
    )
    timing.add_argument(
        "--silence-grace",
        type=_bounded(0, 60, "number of seconds from 0 to 60"),
        default=0.1,
        metavar="S",
        help="after that Heartbeat's answer, wait this long for a late answer to the input (0.1)",
    )
    timing.add_argument("--connect-timeout", type=seconds, default=10.0, metavar="S", help="default 10")
    timing.add_argument(
        "--probe-attempts",
        type=_bounded(1, 10, "number from 1 to 10", True),
        default=2,
        metavar="N",
        help="new-connection liveness attempts, 0.5 s apart, before CRASHED (2)",
    )
    fleet = p.add_argument_group("control fleet (DEGRADED)")
    fleet.add_argument(
        "--fleet-size",
        type=_bounded(0, 50, "number from 0 to 50", True),
        default=3,
        metavar="N",
        help="ordinary charge points heartbeating beside the suite; 0: none, no case can be DEGRADED (3)",
    )
    fleet.add_argument(
        "--fleet-interval", type=_bounded(0.05, 60, "seconds from 0.05 to 60"), default=0.5, metavar="S", help="(0.5)"
    )
    fleet.add_argument(
        "--fleet-warmup", type=_bounded(0, 60, "seconds from 0 to 60"), default=1.0, metavar="S", help="(1)"
    )
    fleet.add_argument(
        "--fleet-cp-id-template",
        default=RobustOptions.fleet_cp_id_template,
        metavar="T",
        help="their ids; {n} numbers them, {cp_id} is --cp-id (default %(default)s)",
    )
    fleet.add_argument(
        "--fleet-max-p95",
        type=_bounded(1, 600000, "milliseconds from 1 to 600000"),
        default=Bounds.max_p95_ms,
        metavar="MS",
        help="a case whose window has a higher Heartbeat p95 is DEGRADED (default %(default)g)",
    )
    fleet.add_argument(
        "--fleet-max-failures",
        type=_bounded(0, 1, "ratio from 0 to 1"),
        default=Bounds.max_failure_ratio,
        metavar="RATIO",
        help="... or a higher ratio of failed round trips (default %(default)g: any failure)",
    )
    bounds = p.add_argument_group("size and abuse bounds (every loop bounded in count and time)")
    bounds.add_argument(
        "--flood-count", type=_bounded(1, 10000, "number from 1 to 10000", True), default=500, metavar="N", help="(500)"
    )
    bounds.add_argument(
        "--slow-seconds", type=_bounded(0.1, 60, "seconds from 0.1 to 60"), default=3.0, metavar="S", help="(3)"
    )
    bounds.add_argument(
        "--idle-sockets", type=_bounded(1, 1000, "number from 1 to 1000", True), default=100, metavar="N", help="(100)"
    )
    bounds.add_argument(
        "--idle-seconds", type=_bounded(0, 60, "seconds from 0 to 60"), default=2.0, metavar="S", help="(2)"
    )
    bounds.add_argument(
        "--size-timeout",
        type=_bounded(1, 600, "seconds from 1 to 600"),
        default=60.0,
        metavar="S",
        help="time to send one large frame and hear back (60)",
    )
    sec = p.add_argument_group("security (profiles 0-3, as for scenarios)")
    sec.add_argument("--security-profile", type=int, choices=(0, 1, 2, 3), help="0 ws, 1 ws+Basic, 2 wss+Basic, 3 mTLS")
    sec.add_argument("--basic-auth-password", metavar="PW", help="the AuthorizationKey (or $VOCPP_BASIC_AUTH_PASSWORD)")
    sec.add_argument("--ca-file", help="CA bundle to verify the CSMS certificate")
    sec.add_argument("--client-cert", help="client certificate (profile 3)")
    sec.add_argument("--client-key", help="client key (profile 3)")
    out = p.add_argument_group("reports")
    out.add_argument("--junit", metavar="FILE", help="JUnit XML report")
    out.add_argument("--json", metavar="FILE", help="JSON report (checks, wire log)")
    out.add_argument("--html", metavar="FILE", help="self-contained HTML report")
    out.add_argument("-v", "--verbose", action="store_true", help="print every case's details and wire log")
    p.set_defaults(subparser=p)
    return p


def options_from_args(args: argparse.Namespace, parser: argparse.ArgumentParser) -> RobustOptions:
    from scenarios.cli import _security

    if args.url and urlsplit(args.url).scheme not in ("ws", "wss"):
        parser.error(f"--url must start with ws:// or wss://, not {redact_url(args.url)!r}")
    included = tuple(g for chosen in args.include for g in chosen)
    groups = tuple(g for g in GROUPS if g in DEFAULT_GROUPS or g in included)
    return RobustOptions(
        url=args.url or "",
        cp_id=args.cp_id,
        security=_security(args, parser),
        connectors=args.connectors,
        id_tag=args.id_tag,
        fresh_cp_id=args.fresh_cp_id,
        pending_cp_id=args.pending_cp_id,
        unknown_transaction_id=args.unknown_transaction_id,
        groups=groups,
        only=split_patterns(args.only),
        exclude=split_patterns(args.exclude),
        answer_timeout=args.answer_timeout,
        quick=args.quick_wait,
        grace=args.silence_grace,
        connect_timeout=args.connect_timeout,
        probe_attempts=args.probe_attempts,
        fleet_size=args.fleet_size,
        fleet_interval=args.fleet_interval,
        fleet_warmup=args.fleet_warmup,
        fleet_cp_id_template=args.fleet_cp_id_template,
        bounds=Bounds(args.fleet_max_p95, args.fleet_max_failures),
        flood_count=args.flood_count,
        slow_seconds=args.slow_seconds,
        idle_sockets=args.idle_sockets,
        idle_seconds=args.idle_seconds,
        size_timeout=args.size_timeout,
    )


def list_cases(cases: Sequence[type[RobustCase]], groups: tuple[str, ...], out: TextIO) -> None:
    for case in cases:
        out.write(f"{case.case_id:<42} {case.clause}\n")
        out.write(f"    {case.title}\n")
        out.write(f"    sends:   {case.sends}\n")
        out.write(f"    accepts: {expected_text(case.passed, case.non_strict)}\n")
    left_out = [g for g in OPT_IN if g not in groups]
    hint = f"; not included: {', '.join(left_out)} (--include {','.join(left_out)})" if left_out else ""
    out.write(f"{len(cases)} cases (groups: {', '.join(groups)}{hint})\n")


def _loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from scenarios.cli import _files_writable

    options = options_from_args(args, parser)
    cases = select_cases(options)
    if not cases:
        hidden = sorted({c.group for c in all_cases() if selected(c.case_id, options.only, options.exclude)})
        if hidden:
            parser.error(f"the matching cases are in {', '.join(hidden)}: add --include {','.join(hidden)}")
        parser.error("no case matches --only/--exclude")
    if args.list:
        list_cases(cases, options.groups, sys.stdout)
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
        options = _against_testbed(options, testbed, password)
        sys.stdout.write(f"No --url: testing the bundled testbed CSMS at {testbed.ws_url}\n")
    elif not _loopback(options.url):
        sys.stdout.write(f"note: {redact_url(options.url)} is not on this machine; the cases are hostile on purpose\n")
    console = RobustConsole(sys.stdout, verbose=args.verbose)
    runner = RobustRunner(options, listener=console)
    try:
        try:
            result = runner.run()
        except ConnectionFailed as exc:
            sys.stderr.write(f"{PROG}: error: {exc}\n")
            return 2
    finally:
        if testbed is not None:
            testbed.stop()
    console.summary(result)
    try:
        write_reports(result, junit=args.junit, json=args.json, html=args.html)
    except OSError as exc:
        sys.stderr.write(f"{PROG}: error: cannot write a report: {exc}\n")
        return 2
    return result.exit_code


def _against_testbed(options: RobustOptions, testbed: TestbedProcess, password: str | None) -> RobustOptions:
    from dataclasses import replace

    from ocpp_users.ocppj.transport import SecurityConfig

    security = SecurityConfig(profile=1, password=password) if password else options.security
    return replace(options, url=testbed.ws_url.rstrip("/") + "/{cp_id}", security=security)
