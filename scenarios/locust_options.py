"""The compliance Locust user's options (``--octt-*``): a table of rows, without side effects.

:mod:`scenarios.locust_user` registers them on Locust's parser; ``volatileocpp fleet-options``
lists them with the fleet's. Each has the environment variable ``LOCUST_`` + its name, as every
Locust option; the older ``VOCPP_OCTT_...`` names are still read, with a deprecation note.
"""

from __future__ import annotations

from typing import Any

from ocpp_users.fleet.optiontable import Option, OptionGroup, checked_text
from scenarios.options import (
    FEATURE_PROFILES,
    TestData,
    check_authorization_key,
    check_signature,
    file_problem,
    parse_profiles,
)
from scenarios.pki import certificate_problem


def _octt(flag: str, help_text: str, default: object = "", **kwargs: Any) -> Option:
    old = "VOCPP_" + flag.removeprefix("--").upper().replace("-", "_")
    return Option(flag, help_text, default=default, old_env=old, **kwargs)


def _profile_list(text: str) -> None:
    parse_profiles(text)


def _certificate(text: str) -> None:
    problem = file_problem(text) or certificate_problem(text)
    if problem is not None:
        raise ValueError(f"{text}: {problem}")


def _cpo(text: str) -> None:
    if len(text) > 64:
        raise ValueError("at most 64 characters (the CSR's organizationName)")


DATA = TestData()

OPTIONS = OptionGroup(
    "Compliance mode (locustfiles/compliance.py)",
    "The OCTT 1.6 Central System cases, run by one charge point; --host is the CSMS URL (none: the testbed).",
    (
        _octt("--octt-cp-id", "charge point id (default VOCPP-OCTT-CP)", "VOCPP-OCTT-CP"),
        _octt("--octt-only", "run only these cases (comma-separated globs)"),
        _octt("--octt-exclude", "skip these cases (comma-separated globs)"),
        _octt(
            "--octt-profiles",
            "feature profiles the CSMS declares, comma-separated: " + ",".join(FEATURE_PROFILES) + " (default: all "
            "but those the probe rules out); a case of another one is NOT APPLICABLE",
            type=checked_text(_profile_list, "feature profile list"),
        ),
        _octt(
            "--octt-require-all",
            "fail the run (exit code 3) when a selected case is NOT APPLICABLE",
            False,
            switch=True,
        ),
        _octt("--octt-id-tag", "an idTag the CSMS accepts"),
        _octt("--octt-expired-tag", "an idTag with status Expired"),
        _octt("--octt-blocked-tag", "an idTag with status Blocked"),
        _octt("--octt-invalid-tag", "an idTag unknown to the CSMS (default random)"),
        _octt("--octt-group-tag", "another Accepted idTag with the same parentIdTag as --octt-id-tag (TC_053)"),
        _octt("--octt-parent-id-tag", "the parentIdTag of --octt-id-tag and --octt-group-tag (TC_053)"),
        _octt("--octt-trigger-url", "POST CSMS-initiated payloads here ({cp_id}, {action})"),
        _octt("--octt-trigger-cmd", "or run this shell command ({cp_id}, {action}, {payload})"),
        _octt("--octt-step-timeout", "seconds per CSMS answer/request (default 5)", 5.0, type=float, metavar="S"),
        _octt(
            "--octt-connection-timeout", "the Tool's ConnectionTimeOut in s (default 1)", 1.0, type=float, metavar="S"
        ),
        # The document's <Configured ...> test data, as `volatileocpp scenarios` has them.
        _octt("--octt-firmware-url", "<Firmware Download URL> (TC_044_1, TC_080, TC_081)", DATA.firmware_url),
        _octt("--octt-diagnostics-url", "diagnostics location (TC_045_x)", DATA.diagnostics_url),
        _octt(
            "--octt-expiry-offset",
            f"<Configured Expiry Date Offset> in s (TC_047; default {DATA.expiry_offset:g})",
            DATA.expiry_offset,
            type=float,
        ),
        _octt(
            "--octt-expiry-tolerance",
            f"how far that expiryDate may be off, s (default {DATA.expiry_tolerance:g})",
            DATA.expiry_tolerance,
            type=float,
        ),
        _octt("--octt-stack-level", "<Configured stackLevel> 0-97 (default 0)", DATA.stack_level, type=int),
        _octt(
            "--octt-charging-rate-unit",
            "<Configured chargingRateUnit>: A or W (default A)",
            DATA.charging_rate_unit,
            choices=("A", "W"),
        ),
        _octt(
            "--octt-schedule-duration",
            f"<Configured duration> of a charging schedule, s (default {DATA.duration})",
            DATA.duration,
            type=int,
        ),
        _octt("--octt-start-period", "<Configured startPeriod>, s (default 0)", DATA.start_period, type=int),
        _octt("--octt-number-phases", "<Configured numberPhases>: 1, 2 or 3 (default 3)", DATA.number_phases, type=int),
        _octt(
            "--octt-cpo-name",
            f"the Tool's CpoName (TC_074, TC_077; default {DATA.cpo_name})",
            DATA.cpo_name,
            type=checked_text(_cpo, "CpoName"),
        ),
        _octt(
            "--octt-authorization-key",
            "the new AuthorizationKey of TC_073, 16-20 bytes in hexadecimal (default random; never printed)",
            type=checked_text(check_authorization_key, "AuthorizationKey"),
            secret=True,
        ),
        _octt(
            "--octt-root-certificate",
            "<Configured root certificate> PEM file (TC_075_x, TC_076, TC_078; default a fresh one)",
            type=checked_text(_certificate, "certificate file"),
        ),
        _octt("--octt-log-location", "<Configured log location> (TC_079)", DATA.log_location),
        _octt(
            "--octt-manufacturer-root",
            "the Tool's factory ManufacturerRootCertificate(s), PEM (TC_080, TC_081)",
            type=checked_text(_certificate, "certificate file"),
        ),
        _octt(
            "--octt-signing-certificate",
            "<Configured signingCertificate>, PEM (TC_080, TC_081)",
            type=checked_text(_certificate, "certificate file"),
        ),
        _octt(
            "--octt-firmware-signature",
            "<Configured signature>, base64 (TC_080)",
            type=checked_text(check_signature, "firmware signature"),
        ),
        _octt(
            "--octt-invalid-firmware-signature",
            "<An invalid signature.>, base64 (TC_081; default: a text that signs nothing)",
            DATA.invalid_firmware_signature,
            type=checked_text(check_signature, "firmware signature"),
        ),
        _octt(
            "--octt-security-profile",
            "0-3 (default -1: 1 or 2 with a password, else 0)",
            -1,
            type=int,
            label="OCTT security profile",
        ),
        _octt("--octt-basic-auth-password", "Basic auth password (never printed)", secret=True),
        _octt("--octt-ca-file", "CA bundle for wss"),
        _octt("--octt-client-cert", "client certificate (PEM) for security profile 3"),
        _octt("--octt-client-key", "client key (PEM) for --octt-client-cert"),
        _octt("--octt-junit", "write a JUnit XML report here"),
        _octt("--octt-json", "write a JSON report here"),
        _octt("--octt-html", "write an HTML report here"),
    ),
)
