"""The compliance Locust user's options (``--octt-*``): a table of rows, without side effects.

:mod:`scenarios.locust_user` registers them on Locust's parser; ``volatileocpp fleet-options``
lists them with the fleet's. Each has the environment variable ``LOCUST_`` + its name, as every
Locust option; the older ``VOCPP_OCTT_...`` names are still read, with a deprecation note.
"""

from __future__ import annotations

from typing import Any

from ocpp_users.fleet.optiontable import Option, OptionGroup


def _octt(flag: str, help_text: str, default: object = "", **kwargs: Any) -> Option:
    old = "VOCPP_" + flag.removeprefix("--").upper().replace("-", "_")
    return Option(flag, help_text, default=default, old_env=old, **kwargs)


OPTIONS = OptionGroup(
    "Compliance mode (locustfiles/compliance.py)",
    "The OCTT 1.6 Central System cases, run by one charge point; --host is the CSMS URL (none: the testbed).",
    (
        _octt("--octt-cp-id", "charge point id (default VOCPP-OCTT-CP)", "VOCPP-OCTT-CP"),
        _octt("--octt-only", "run only these cases (comma-separated globs)"),
        _octt("--octt-exclude", "skip these cases (comma-separated globs)"),
        _octt("--octt-id-tag", "an idTag the CSMS accepts"),
        _octt("--octt-expired-tag", "an idTag with status Expired"),
        _octt("--octt-blocked-tag", "an idTag with status Blocked"),
        _octt("--octt-invalid-tag", "an idTag unknown to the CSMS (default random)"),
        _octt("--octt-trigger-url", "POST CSMS-initiated payloads here ({cp_id}, {action})"),
        _octt("--octt-trigger-cmd", "or run this shell command ({cp_id}, {action}, {payload})"),
        _octt("--octt-step-timeout", "seconds per CSMS answer/request (default 5)", 5.0, type=float, metavar="S"),
        _octt(
            "--octt-connection-timeout", "the Tool's ConnectionTimeOut in s (default 1)", 1.0, type=float, metavar="S"
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
