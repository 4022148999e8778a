"""The fleet's command-line options, as tables: one row per option, in the groups a user thinks in.

Every option has a ``LOCUST_...`` environment variable and shows in the web UI. Locust prints its
``--help`` before it loads a locustfile, so :func:`help_text` (``volatileocpp fleet-options``)
lists them. Values are checked at parse time (a bad one ends Locust with one ``error:`` line and
exit code 2) and again, as a whole, by :func:`~ocpp_users.fleet.config.fleet_config`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

from ocpp_users.fleet.config import (
    DEFAULT_BATTERY,
    DEFAULT_DRIVER_RETURN,
    DEFAULT_FAULT_CODES,
    DEFAULT_FAULT_DURATION,
    DEFAULT_ID_TAG,
    DEFAULT_IDLE,
    DEFAULT_SESSION,
    DEFAULT_SIZE_TEXT,
    EMBEDDED_METER_INTERVAL,
    FIRMWARE_SIGNATURE_CHECKS,
    PACING_MODES,
    STOP_REASONS,
    OptionError,
    existing_dir,
    existing_file,
    parse_configuration,
    parse_error_codes,
    parse_id_tags,
    parse_int,
    parse_number,
    parse_optional_interval,
    parse_range,
    parse_size,
)
from ocpp_users.fleet.ids import DEFAULT_TEMPLATE, check_template, read_ids_file
from ocpp_users.fleet.optiontable import Option, OptionGroup, add_group, ordered_groups


def _checked(check: Callable[[str, str], object], option: str) -> Callable[[str], str]:
    """An argparse ``type`` that checks the text at parse time but keeps it a string, so that
    the web UI can still edit it; a bad value ends Locust with one ``locust: error:`` line."""

    def convert(text: str) -> str:
        try:
            check(text, option)
        except OptionError as exc:
            message = str(exc)
            prefix = f"{option}: "
            raise argparse.ArgumentTypeError(
                message[len(prefix) :] if message.startswith(prefix) else message
            ) from None
        return text

    convert.__name__ = option.lstrip("-").replace("-", " ")
    return convert


def _int_checked(option: str, lo: int, hi: int) -> Callable[[str], int]:
    def convert(text: str) -> int:
        try:
            return parse_int(text, option, lo, hi)
        except OptionError as exc:
            raise argparse.ArgumentTypeError(str(exc)[len(option) + 2 :]) from None

    return convert


def _float_checked(option: str) -> Callable[[str], float]:
    def convert(text: str) -> float:
        try:
            return parse_number(text, option)
        except OptionError as exc:
            raise argparse.ArgumentTypeError(str(exc)[len(option) + 2 :]) from None

    return convert


def _id_tags_check(text: str, option: str) -> None:
    if text.strip():
        parse_id_tags(text, option)


def _template_check(text: str, option: str) -> None:
    try:
        check_template(text)
    except ValueError as exc:
        raise OptionError(f"{option}: {exc}") from None


def _ids_file_check(text: str, option: str) -> None:
    if text:
        try:
            read_ids_file(text)
        except ValueError as exc:
            raise OptionError(f"{option}: {exc}") from None


CONNECTION = OptionGroup(
    "CSMS connection",
    "How the charge points reach and authenticate to the CSMS (--host is its URL).",
    (
        Option(
            "--security-profile",
            "OCPP security profile: 0 ws://, 1 ws:// + Basic auth, 2 wss:// + Basic auth, "
            "3 wss:// + client certificate (default 0)",
            default=0,
            type=int,
            choices=(0, 1, 2, 3),
        ),
        Option(
            "--basic-auth-password",
            "Basic auth password (user = charge point id) for security profiles 1 and 2; never logged",
            metavar="PASSWORD",
            secret=True,
        ),
        Option(
            "--ca-file",
            "CA bundle to verify the CSMS certificate (default: the system's CAs)",
            metavar="FILE",
            type=_checked(existing_file, "--ca-file"),
        ),
        Option(
            "--client-cert",
            "client certificate (PEM) for security profile 3",
            metavar="FILE",
            type=_checked(existing_file, "--client-cert"),
        ),
        Option(
            "--client-key",
            "private key (PEM) of --client-cert, unless it is in the same file",
            metavar="FILE",
            type=_checked(existing_file, "--client-key"),
        ),
        Option(
            "--client-cert-dir",
            "a client certificate per charge point for security profile 3: DIR/<id>.pem and its key DIR/<id>.key "
            "(or in the .pem); a charge point without one uses --client-cert",
            metavar="DIR",
            type=_checked(existing_dir, "--client-cert-dir"),
        ),
        Option(
            "--tls-url",
            "wss:// URL of the CSMS after the CSMS upgrades a charge point to security profile 2 or 3 "
            "(default: --host with wss:// for ws://)",
            metavar="URL",
        ),
        Option("--insecure", "do not verify the CSMS's TLS certificate (off by default)", default=False, switch=True),
        Option(
            "--connect-timeout",
            "seconds for the TCP/TLS/WebSocket handshake (default 10)",
            default=10.0,
            metavar="S",
            type=_float_checked("--connect-timeout"),
        ),
        Option(
            "--call-timeout",
            "seconds to wait for a CALLRESULT before the call counts as timed out (default 30)",
            default=30.0,
            metavar="S",
            type=_float_checked("--call-timeout"),
        ),
        Option(
            "--backoff-max",
            "upper bound of the reconnect backoff (exponential from 1 s, with jitter; default 30)",
            default=30.0,
            metavar="S",
            type=_float_checked("--backoff-max"),
        ),
        Option(
            "--max-frame-size",
            "largest WebSocket message a charge point accepts from the CSMS, e.g. 1MiB or 1048576; a larger "
            "one closes the connection with 1009 (a counted failure) and the charge point reconnects "
            f"(default {DEFAULT_SIZE_TEXT}: OCPP messages are small)",
            default=DEFAULT_SIZE_TEXT,
            metavar="BYTES",
            type=_checked(parse_size, "--max-frame-size"),
        ),
    ),
)

CHARGE_POINT = OptionGroup(
    "Charge points",
    "Who the charge points are and what they say about themselves.",
    (
        Option(
            "--cp-id-template",
            "charge point ids: {worker} = Locust worker index (0 locally), {n} = number within the process "
            "(from 1), {pid}; unique across users, processes and workers "
            f"(default {DEFAULT_TEMPLATE.replace('%', '%%')})",
            default=DEFAULT_TEMPLATE,
            metavar="TEMPLATE",
            type=_checked(_template_check, "--cp-id-template"),
        ),
        Option(
            "--cp-ids-file",
            "use the charge point ids in FILE (one per line; for a CSMS that needs registered stations) "
            "instead of --cp-id-template; a line 'id,password' (CSV) gives that charge point its own Basic auth "
            "password (never logged); the master lends the ids out to its workers, each id to one worker",
            metavar="FILE",
            type=_checked(_ids_file_check, "--cp-ids-file"),
        ),
        Option(
            "--connectors",
            "connectors per charge point (default 1)",
            default=1,
            metavar="N",
            type=_int_checked("--connectors", 1, 100),
        ),
        Option("--vendor", "chargePointVendor in BootNotification (default VolatileOCPP)", default="VolatileOCPP"),
        Option("--model", "chargePointModel in BootNotification (default VirtualCP)", default="VirtualCP"),
        Option("--firmware-version", "firmwareVersion in BootNotification", metavar="VERSION"),
        Option(
            "--no-validation",
            "do not check payloads against the OCPP 1.6 JSON schemas",
            default=False,
            switch=True,
        ),
    ),
)

SESSIONS = OptionGroup(
    "Sessions and timing",
    "What the charge points do once booted.",
    (
        Option(
            "--id-tag",
            "id tag(s) the charge points present, comma-separated, or @FILE (one per line). "
            f"Default {DEFAULT_ID_TAG}, which the embedded testbed accepts",
            metavar="TAGS",
            type=_checked(_id_tags_check, "--id-tag"),
        ),
        Option(
            "--session-duration",
            f"charging session length in seconds, drawn per session (default {DEFAULT_SESSION})",
            default=DEFAULT_SESSION,
            metavar="MIN-MAX",
            type=_checked(parse_range, "--session-duration"),
        ),
        Option(
            "--idle-duration",
            f"idle time between sessions in seconds, drawn per gap (default {DEFAULT_IDLE})",
            default=DEFAULT_IDLE,
            metavar="MIN-MAX",
            type=_checked(parse_range, "--idle-duration"),
        ),
        Option(
            "--stop-reason",
            "StopTransaction reason of sessions that end normally; mixed = Local or EVDisconnected at random "
            "(default Local)",
            default="Local",
            choices=STOP_REASONS,
        ),
        Option(
            "--heartbeat-interval",
            "send Heartbeat every S seconds instead of the interval the CSMS gives at BootNotification "
            "(until the CSMS changes HeartbeatInterval with ChangeConfiguration: then that station follows it)",
            metavar="S",
            type=_checked(parse_optional_interval, "--heartbeat-interval"),
        ),
        Option(
            "--meter-interval",
            "MeterValues every S seconds while charging (default: the MeterValueSampleInterval key, 60 s, or "
            f"{EMBEDDED_METER_INTERVAL} s against the embedded testbed); a station whose MeterValueSampleInterval "
            "the CSMS changes with ChangeConfiguration follows the key from then on",
            metavar="S",
            type=_checked(parse_optional_interval, "--meter-interval"),
        ),
        Option(
            "--pacing",
            "when a charge point's timed messages leave (heartbeats, meter values, a session's steps, offline "
            "replay, reconnects): exact = at their due time, on a kernel timer (one wake-up per message), "
            "those due together one event-loop turn apart so that a busy worker sends no bursts (a message "
            "waits for its turn only until it is 3 ms late; default); batch = at their due time, those due "
            "together back to back (less CPU at "
            "thousands a second; a busy worker's bursts make a fast CSMS look faster); tick = on the event "
            "loop's millisecond tick, messages due within the same millisecond together (least CPU, the "
            "burstiest load)",
            default="exact",
            choices=PACING_MODES,
        ),
        Option(
            "--time-factor",
            "time compression: session and idle durations are divided by F, meters advance F times "
            "faster (e.g. 96 plays a day in 15 minutes; default 1)",
            default=1.0,
            metavar="F",
            type=_float_checked("--time-factor"),
        ),
    ),
)

SECURITY = OptionGroup(
    "Security extension",
    "The OCPP 1.6 security whitepaper (edition 2): the charge points always answer its messages; "
    "these options set what they do on their own.",
    (
        Option(
            "--security-events",
            "send the critical security events of the charge points' own life (StartupOfTheDevice, ResetOrReboot, "
            "FirmwareUpdated) as SecurityEventNotification (off: a CSMS without the extension answers them with "
            "a CALLERROR); events caused by a security message are sent either way",
            default=False,
            switch=True,
        ),
        Option(
            "--cpo-name",
            "the CpoName configuration key: the organizationName of the CSR a charge point sends in SignCertificate "
            "(required before the CSMS can trigger SignChargePointCertificate)",
            metavar="NAME",
        ),
        Option(
            "--manufacturer-root",
            "PEM file of ManufacturerRootCertificates the charge points have from the factory (a "
            "SignedUpdateFirmware's signing certificate must be issued by one; default none until the CSMS "
            "installs one)",
            metavar="FILE",
            type=_checked(existing_file, "--manufacturer-root"),
        ),
        Option(
            "--firmware-signature",
            "how a SignedUpdateFirmware's signature is checked: location = over the bytes of firmware.location "
            "(the simulated image; default), certificate = only the signing certificate",
            default="location",
            choices=FIRMWARE_SIGNATURE_CHECKS,
        ),
    ),
)


def _non_negative(option: str) -> Callable[[str], float]:
    def convert(text: str) -> float:
        try:
            return parse_number(text, option, strict=False)
        except OptionError as exc:
            raise argparse.ArgumentTypeError(str(exc)[len(option) + 2 :]) from None

    return convert


BEHAVIOUR = OptionGroup(
    "Charger behaviour",
    "What the charge points do on their own, as chargers in the field do: the configuration keys they start "
    "with, offline operation and the replay after it, the EV and its driver, faults. Durations are simulated "
    "seconds (divided by --time-factor); configuration keys are real seconds.",
    (
        Option(
            "--configuration",
            "configuration keys every charge point starts with, KEY=VALUE,... (e.g. LocalPreAuthorize=true,"
            "AllowOfflineTxForUnknownId=true,ClockAlignedDataInterval=900,WebSocketPingInterval=60); the CSMS may "
            "change them with ChangeConfiguration",
            metavar="KEYS",
            type=_checked(parse_configuration, "--configuration"),
            label="Configuration keys at start (KEY=VALUE,...)",
        ),
        Option(
            "--offline-replay-rate",
            "after a reconnect, deliver the transaction messages queued offline (StartTransaction, MeterValues, "
            "StopTransaction, in order, with the time they happened) at most R per second per charge point: 0 = "
            "each as soon as the previous one is answered, a burst (default 0)",
            default=0.0,
            metavar="R",
            type=_non_negative("--offline-replay-rate"),
            label="Offline replay rate (messages/s, 0 = burst)",
        ),
        Option(
            "--offline-queue-max",
            "transaction messages each charge point keeps queued while offline; real chargers have limited "
            "storage: when full the oldest MeterValues is dropped, never a StartTransaction or StopTransaction; "
            "drops are counted and reported (0 = no bound; default 1000)",
            default=1000,
            metavar="N",
            type=_int_checked("--offline-queue-max", 0, 10_000_000),
            label="Offline queue size (messages per charge point, 0 = no bound)",
        ),
        Option(
            "--plug-in-delay",
            "seconds from the driver's identification (or a remote start) until the EV is plugged in, drawn per "
            "session; longer than the ConnectionTimeOut key and the session is cancelled, Preparing back to "
            "Available (default 0)",
            default="0",
            metavar="MIN-MAX",
            type=_checked(parse_range, "--plug-in-delay"),
            label="Plug-in delay (s, MIN-MAX)",
        ),
        Option(
            "--driver-return",
            "seconds until a driver who unplugged at the EV side comes back: ends a transaction kept going by "
            "StopTransactionOnEVSideDisconnect=false, frees a connector kept locked by "
            f"UnlockConnectorOnEVSideDisconnect=false (default {DEFAULT_DRIVER_RETURN})",
            default=DEFAULT_DRIVER_RETURN,
            metavar="MIN-MAX",
            type=_checked(parse_range, "--driver-return"),
            label="Driver returns after (s, MIN-MAX)",
        ),
        Option(
            "--ev-battery",
            "battery size of the EVs in kWh, drawn per session (they arrive 10 to 60 percent full); a full EV takes no "
            f"more energy and the connector reports SuspendedEV (default {DEFAULT_BATTERY})",
            default=DEFAULT_BATTERY,
            metavar="MIN-MAX",
            type=_checked(parse_range, "--ev-battery"),
            label="EV battery (kWh, MIN-MAX)",
        ),
        Option(
            "--fault-rate",
            "faults per charge point per hour: a connector goes Faulted with an error code from --fault-codes "
            "(a transaction there stops, reason Other), then recovers to Available (default 0: none)",
            default=0.0,
            metavar="F",
            type=_non_negative("--fault-rate"),
            label="Faults per charge point per hour",
        ),
        Option(
            "--fault-duration",
            f"seconds a fault lasts before the connector recovers (default {DEFAULT_FAULT_DURATION})",
            default=DEFAULT_FAULT_DURATION,
            metavar="MIN-MAX",
            type=_checked(parse_range, "--fault-duration"),
            label="Fault duration (s, MIN-MAX)",
        ),
        Option(
            "--fault-codes",
            f"ChargePointErrorCode values a fault draws from (default {DEFAULT_FAULT_CODES})",
            default=DEFAULT_FAULT_CODES,
            metavar="CODES",
            type=_checked(parse_error_codes, "--fault-codes"),
            label="Fault error codes",
        ),
    ),
)

GROUPS: tuple[OptionGroup, ...] = (CONNECTION, CHARGE_POINT, SESSIONS, SECURITY, BEHAVIOUR)
"""The fleet's own options, in the order a user thinks of them."""


def register(parser: argparse.ArgumentParser) -> None:
    """Add the fleet's options to Locust's parser (the ``init_command_line_parser`` event)."""
    for group in GROUPS:
        add_group(parser, group)


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Only the fleet's options, parsed (for tests and for running the fleet as a library)."""
    parser = _PlainParser(prog="fleet")
    register(parser)
    return parser.parse_args(argv)


class _PlainParser(argparse.ArgumentParser):
    """An argparse parser that accepts (and ignores) configargparse's ``env_var`` keyword, naming
    the variable in the help instead."""

    def add_argument_group(self, *args: Any, **kwargs: Any) -> Any:
        group = _PlainGroup(self, *args, **kwargs)
        self._action_groups.append(group)
        return group


class _PlainGroup(argparse._ArgumentGroup):
    def add_argument(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        env_var = kwargs.pop("env_var", None)
        if env_var and kwargs.get("help"):
            kwargs["help"] = f"{kwargs['help']} [env {env_var}]"
        return super().add_argument(*args, **kwargs)


def all_groups(extra: Sequence[OptionGroup] = ()) -> list[OptionGroup]:
    """Every group of options of ours that Locust parses, in the order the web UI shows them: the
    fleet's, the load shapes', the CI gates' and reports', and ``extra`` (the compliance user's)."""
    from ocpp_users.fleet import gates  # late: gates imports this module's siblings
    from ocpp_users.fleet.shape_options import SHAPE_OPTIONS

    return ordered_groups([*GROUPS, SHAPE_OPTIONS, gates.options_group(), *extra])


def help_text(extra: Sequence[OptionGroup] = ()) -> str:
    """Our options as ``--help`` would show them, grouped (Locust prints its own help before it
    loads a locustfile, so ``locust -f locustfiles/fleet.py --help`` cannot list them)."""
    parser = _PlainParser(
        prog="locust",
        usage="locust -f locustfiles/fleet.py [options]  (or -f locustfiles/compliance.py)",
        description="VolatileOCPP's options, in addition to Locust's own (locust --help), grouped as the web UI's "
        "form shows them. Each can also be set with its environment variable: LOCUST_ and the option's name "
        "(--idle-duration is LOCUST_IDLE_DURATION), in a config file (--config), or in the web UI.",
        add_help=False,
    )
    for group in all_groups(extra):
        add_group(parser, group)
    text = parser.format_help()
    old = [option for group in all_groups(extra) for option in group.options if option.old_env]
    if old:
        example = old[0]
        text += (
            f"\nOlder environment variables ({len(old)}, e.g. {example.old_env}) are still read, with a deprecation "
            f"note: use {example.env_var} and the like.\n"
        )
    return text
