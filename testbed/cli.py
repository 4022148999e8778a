"""Command line interface: ``python -m testbed [options]``."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import NoReturn

from testbed import logsetup
from testbed.app import Settings, run
from testbed.ca import CertificateAuthority
from testbed.faults import SPECS, parse_fault
from testbed.passwords import read_passwords_file
from testbed.state import BOOT_STATUSES, Config, canonical_boot_status, check_interval
from testbed.tags import DEFAULT_TAGS, load_file, parse_assignment
from testbed.tls import server_context

DESCRIPTION = """\
Reference OCPP 1.6J Central System (CSMS) for testing charge point clients.
Charge points connect to ws[s]://HOST:PORT/<anything>/<chargePointId> with subprotocol
ocpp1.6. A JSON control API (always on 127.0.0.1) inspects and steers the CSMS:
GET /health, /cps, /cps/{id}/messages, /connections, /tags, /config, /transactions, /faults;
POST /cps/{id}/{Action}, /cps/{id}/disconnect, /cps/{id}/ca/sign, /certificates/hash-data, /reset;
PUT /tags/{idTag}, /faults, /cps/{id}/password; PATCH /config; DELETE /cps/{id}/messages, /faults,
/cps/{id}/password.
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """One line on stderr, exit status 2."""
        sys.stderr.write(f"{self.prog}: error: {message} (see --help)\n")
        sys.exit(2)


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise ValueError(text)
    return value


def _interval(text: str) -> int:
    return check_interval("interval", int(text))


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


def _nonnegative_float(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise ValueError(text)
    return value


_port.__name__ = "port"
_interval.__name__ = "interval"
_positive.__name__ = "positive integer"
_nonnegative_float.__name__ = "non-negative number"


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="testbed", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    net = p.add_argument_group("network")
    net.add_argument("--host", default="127.0.0.1", help="OCPP listen address (default 127.0.0.1)")
    net.add_argument("--port", type=_port, default=9000, help="OCPP listen port; 0 = any free port (default 9000)")
    net.add_argument(
        "--api-port", type=_port, default=0, help="control API port on 127.0.0.1; 0 = any free port (default 0)"
    )
    net.add_argument(
        "--ws-ping-interval",
        type=_nonnegative_float,
        default=0.0,
        metavar="S",
        help="send WebSocket pings every S seconds; 0 = never (default 0)",
    )
    ocpp = p.add_argument_group("OCPP behaviour")
    ocpp.add_argument(
        "--heartbeat-interval",
        type=_interval,
        default=60,
        metavar="S",
        help="interval in an Accepted BootNotification response (default 60)",
    )
    ocpp.add_argument(
        "--boot-status", default="Accepted", choices=BOOT_STATUSES, help="BootNotification status (default Accepted)"
    )
    ocpp.add_argument(
        "--boot-retry-interval",
        type=_interval,
        default=10,
        metavar="S",
        help="interval returned with Pending/Rejected (default 10)",
    )
    tags = p.add_argument_group("authorization")
    tags.add_argument(
        "--tag",
        action="append",
        default=[],
        metavar="TAG=STATUS",
        help="add/override an idTag (Accepted|Blocked|Expired|Invalid|ConcurrentTx); repeatable. "
        "Built in: " + ", ".join(f"{t.tag}={t.status}" for t in DEFAULT_TAGS),
    )
    tags.add_argument("--tags-file", metavar="FILE", help="file with lines 'TAG STATUS' (# comments)")
    tags.add_argument(
        "--accept-prefix",
        default="VOCPP-LOAD-",
        metavar="PREFIX",
        help="unlisted tags starting with PREFIX are Accepted; '' disables (default VOCPP-LOAD-). "
        "Other unknown tags are Invalid",
    )
    sec = p.add_argument_group("security")
    sec.add_argument(
        "--basic-auth-password",
        metavar="PW",
        default=os.environ.get("TESTBED_BASIC_AUTH_PASSWORD") or None,
        help="require HTTP Basic auth: user = charge point id, password PW (else 401). The environment "
        "variable TESTBED_BASIC_AUTH_PASSWORD sets it without showing it in the process list",
    )
    sec.add_argument(
        "--passwords-file",
        metavar="FILE",
        help="per charge point Basic auth passwords, CSV lines 'id,password' (a charge point's own password "
        "wins over --basic-auth-password); a ChangeConfiguration(AuthorizationKey) the charge point Accepts "
        "replaces it (security whitepaper A01.FR.03)",
    )
    sec.add_argument(
        "--tls-cert",
        action="append",
        default=[],
        metavar="FILE",
        help="serve wss with this certificate (PEM); give it twice, an RSA and an ECDSA one, for all the "
        "cipher suites of the OCPP security whitepaper (TLS >= 1.2)",
    )
    sec.add_argument(
        "--tls-key",
        action="append",
        default=[],
        metavar="FILE",
        help="private key for --tls-cert (PEM); the n-th --tls-key goes with the n-th --tls-cert",
    )
    sec.add_argument(
        "--tls-client-ca", metavar="FILE", help="require a client certificate signed by this CA (security profile 3)"
    )
    sec.add_argument(
        "--tls-client-cert-optional",
        action="store_true",
        help="with --tls-client-ca: ask for a client certificate but let Basic auth connections in too "
        "(profiles 2 and 3 on one port)",
    )
    sec.add_argument(
        "--tls-port",
        type=_port,
        metavar="PORT",
        help="with --tls-cert: serve wss on PORT (0 = any free port) and keep ws on --port, as a CSMS serving "
        "each security profile on its own port (whitepaper A00.FR.006)",
    )
    sec.add_argument(
        "--ca-cert",
        metavar="FILE",
        help="act as Certificate Authority with this CA certificate (PEM): sign the CSR of SignCertificate.req "
        "and send it back in CertificateSigned.req",
    )
    sec.add_argument("--ca-key", metavar="FILE", help="the private key (PEM) of --ca-cert")
    sec.add_argument(
        "--tls-security-level",
        type=int,
        choices=range(6),
        metavar="N",
        help="OpenSSL security level 0-5 (default: the library's); 0 serves a weak key, e.g. RSA 1024 bits, as a "
        "misconfigured CSMS does (for testing TC_086)",
    )
    flt = p.add_argument_group("faults")
    flt.add_argument(
        "--fault", choices=sorted(SPECS), metavar="NAME", help="start with this fault active: " + ", ".join(SPECS)
    )
    flt.add_argument("--fault-args", metavar="JSON", help="arguments for --fault, e.g. '{\"seconds\": 5}'")
    out = p.add_argument_group("logging")
    out.add_argument("-q", "--quiet", action="store_true", help="log warnings and errors only")
    out.add_argument("--log-frames", action="store_true", help="log every OCPP frame (secrets masked)")
    out.add_argument(
        "--max-messages",
        type=_positive,
        default=10000,
        metavar="N",
        help="keep the last N frames per charge point (default 10000)",
    )
    return p


def settings_from_args(argv: list[str] | None = None) -> Settings:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        entries = list(DEFAULT_TAGS)
        if args.tags_file:
            entries += load_file(args.tags_file)
        entries += [parse_assignment(text) for text in args.tag]
    except (OSError, ValueError) as exc:
        parser.error(str(exc))
    fault = None
    if args.fault_args is not None and args.fault is None:
        parser.error("--fault-args needs --fault")
    if args.fault:
        try:
            extra = json.loads(args.fault_args) if args.fault_args else {}
            if not isinstance(extra, dict):
                raise ValueError("--fault-args must be a JSON object")
            fault = parse_fault({**extra, "name": args.fault})
        except ValueError as exc:
            parser.error(str(exc))
    if len(args.tls_cert) != len(args.tls_key):
        parser.error("--tls-cert and --tls-key go together (one --tls-key per --tls-cert)")
    if args.tls_client_ca and not args.tls_cert:
        parser.error("--tls-client-ca needs --tls-cert/--tls-key")
    if args.tls_port is not None and not args.tls_cert:
        parser.error("--tls-port needs --tls-cert/--tls-key")
    if args.tls_client_cert_optional and not args.tls_client_ca:
        parser.error("--tls-client-cert-optional needs --tls-client-ca")
    if bool(args.ca_cert) != bool(args.ca_key):
        parser.error("--ca-cert and --ca-key go together")
    context = None
    if args.tls_cert:
        try:
            context = server_context(
                list(zip(args.tls_cert, args.tls_key, strict=True)),
                args.tls_client_ca,
                args.tls_security_level,
                args.tls_client_cert_optional,
            )
        except ValueError as exc:
            parser.error(str(exc))
    passwords: dict[str, bytes] = {}
    ca = None
    try:
        if args.passwords_file:
            passwords = read_passwords_file(args.passwords_file)
        if args.ca_cert:
            ca = CertificateAuthority(args.ca_cert, args.ca_key)
    except ValueError as exc:
        parser.error(str(exc))
    config = Config(args.heartbeat_interval, canonical_boot_status(args.boot_status), args.boot_retry_interval)
    return Settings(
        host=args.host,
        port=args.port,
        api_port=args.api_port,
        config=config,
        tags=entries,
        accept_prefix=args.accept_prefix,
        basic_auth_password=args.basic_auth_password,
        passwords=passwords,
        ssl_context=context,
        tls_port=args.tls_port,
        ca=ca,
        fault=fault,
        log_frames=args.log_frames,
        max_messages=args.max_messages,
        ping_interval=args.ws_ping_interval or None,
        quiet=args.quiet,
    )


def main(argv: list[str] | None = None) -> int:
    settings = settings_from_args(argv)
    logsetup.setup(settings.quiet)
    try:
        return asyncio.run(run(settings))
    except KeyboardInterrupt:
        return 0
