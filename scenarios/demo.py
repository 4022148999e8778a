"""The demonstration set-up: the testbed CSMS as the system under test.

Without ``--url`` the runner starts ``python -m testbed`` (via :class:`TestbedProcess`), drives its
CSMS-initiated steps through the testbed's control API (:class:`TestbedDriver`) and uses its
configured idTags. :func:`start_demo` makes a PKI for the run (:func:`scenarios.pki.demo_pki`) and
starts the testbed over TLS with it: an RSA and an ECDSA server certificate for localhost (TC_086's
four cipher suites), Basic auth with a random password (security profile 2: TC_073, TC_085),
optional client certificates from the run's CA (profile 3: TC_074, TC_077, TC_087, for which the
Tool connects with its client certificate) and that CA signing the charge point's CSRs; the Tool
gets the CA as its trust, a manufacturer root, a firmware signing certificate and signature, and a
second root for the certificate cases. So every case runs.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
import urllib.request
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import gevent

from ocpp_users.embedded import TestbedProcess, TestbedStartError
from ocpp_users.ocppj.transport import SecurityConfig
from scenarios import pki
from scenarios.drivers import Trigger, UrlDriver
from scenarios.options import RunOptions, Tags
from scenarios.wire import WireTap

VALID_TAG = "VOCPP-VALID"
BLOCKED_TAG = "VOCPP-BLOCKED"
EXPIRED_TAG = "VOCPP-EXPIRED"
INVALID_TAG = "VOCPP-INVALID"
GROUP_TAG = "VOCPP-GROUP"
PARENT_TAG = "VOCPP-PARENT"


def start_testbed(password: str | None, extra: tuple[str, ...] = ()) -> TestbedProcess:
    """Start the testbed (with ``extra`` arguments); a :class:`TestbedStartError` (its text quotes
    the testbed's output) comes back with the password replaced by ``***``.

    The password reaches the testbed through ``TESTBED_BASIC_AUTH_PASSWORD``, not its command line,
    so it never shows in ``ps``."""
    args = ["--port", "0", "--api-port", "0", "-q", "--heartbeat-interval", "60", *extra]
    env = dict(os.environ)
    env.pop("TESTBED_BASIC_AUTH_PASSWORD", None)
    if password:
        env["TESTBED_BASIC_AUTH_PASSWORD"] = password
    try:
        return TestbedProcess(args, env=env).start()
    except TestbedStartError as exc:
        raise TestbedStartError(redact(str(exc), password)) from None


def redact(text: str, secret: str | None) -> str:
    return text.replace(secret, "***") if secret else text


def testbed_password() -> str:
    return secrets.token_hex(12)


def testbed_tags(tags: Tags) -> Tags:
    """The testbed's configured idTags, where the options name none."""
    return Tags(
        valid=tags.valid or VALID_TAG,
        invalid=tags.invalid or INVALID_TAG,
        expired=tags.expired or EXPIRED_TAG,
        blocked=tags.blocked or BLOCKED_TAG,
        group=tags.group or GROUP_TAG,
        parent=tags.parent or PARENT_TAG,
    )


def against_testbed(options: RunOptions, testbed: TestbedProcess, password: str | None) -> RunOptions:
    """``options`` aimed at a plain (ws://) testbed: its URL, its API as trigger driver, its tags."""
    security = options.security
    if password:
        security = SecurityConfig(profile=1, password=password)
    return replace(
        options,
        url=testbed.ws_url.rstrip("/") + "/{cp_id}",
        trigger_url=options.trigger_url or testbed.api_url + "/cps/{cp_id}/{action}",
        security=security,
        tags=testbed_tags(options.tags),
    )


class TestbedDriver(UrlDriver):
    """The testbed's control API as driver (``POST /cps/{id}/{Action}`` with the OCPP payload).

    A DeleteCertificate.req names a certificate by hash data the CSMS computes itself: for it the
    driver asks the testbed (``POST /certificates/hash-data``, its own calculation, independent of
    the Tool's) for the hash data of the certificate it last had the CSMS install, as an operator
    picking "delete this certificate" in a CSMS would. The Tool's own calculation only says which
    algorithm."""

    __test__ = False  # (not a pytest test class)
    name = "testbed"

    def __init__(self, api_url: str, timeout: float = 60.0) -> None:
        super().__init__(api_url.rstrip("/") + "/cps/{cp_id}/{action}", timeout=timeout)
        self.api_url = api_url.rstrip("/")
        self.installed: list[str] = []

    def request(self, cp_id: str, action: str, payload: dict[str, Any], tap: WireTap) -> Trigger:
        certificate = payload.get("certificate")
        if action == "InstallCertificate" and isinstance(certificate, str):
            self.installed.append(certificate)
        if action != "DeleteCertificate" or not self.installed:
            return super().request(cp_id, action, payload, tap)
        trigger = Trigger(action, payload)
        trigger.greenlet = gevent.spawn(self._delete, trigger, cp_id, payload, tap)
        return trigger

    def _delete(self, trigger: Trigger, cp_id: str, payload: dict[str, Any], tap: WireTap) -> None:
        wanted = payload.get("certificateHashData")
        algorithm = wanted.get("hashAlgorithm", "SHA256") if isinstance(wanted, dict) else "SHA256"
        body = json.dumps({"certificate": self.installed[-1], "hashAlgorithm": algorithm}).encode()
        request = urllib.request.Request(self.api_url + "/certificates/hash-data", data=body, method="POST")
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                computed = json.loads(response.read())
        except (OSError, ValueError) as exc:
            trigger.finish(
                f"the testbed could not compute the hash data: {getattr(exc, 'reason', None) or exc}", True, tap
            )
            return
        self._post(trigger, self.url(cp_id, "DeleteCertificate"), {"certificateHashData": computed}, tap)


@dataclass
class DemoRun:
    """A started demonstration: the testbed, the options aimed at it, the driver; :meth:`stop` ends
    it and removes the PKI's files."""

    testbed: TestbedProcess
    options: RunOptions
    driver: TestbedDriver | None
    folder: str
    password: str

    @property
    def description(self) -> str:
        return (
            f"the bundled testbed CSMS at {self.options.url.replace('{cp_id}', '')} over TLS (security profile 2; "
            "the profile 3 cases with a client certificate; a CA made for this run) (driver: its control API)"
        )

    def stop(self) -> None:
        try:
            self.testbed.stop()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def start_demo(options: RunOptions, password: str) -> DemoRun:
    """Make the run's PKI, start the testbed over TLS with it, aim ``options`` at it (see the
    module's docstring). Raises :class:`TestbedStartError` (password redacted) or OSError."""
    folder = tempfile.mkdtemp(prefix="vocpp-demo-")
    try:
        data = options.test_data
        made = pki.demo_pki(Path(folder), options.cp_id, data.firmware_url)
        extra = (
            *("--tls-cert", made.server_rsa[0], "--tls-key", made.server_rsa[1]),
            *("--tls-cert", made.server_ec[0], "--tls-key", made.server_ec[1]),
            *("--tls-client-ca", made.ca, "--tls-client-cert-optional"),
            *("--ca-cert", made.ca, "--ca-key", made.ca_key),
        )
        testbed = start_testbed(password, extra)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    own_signing = data.signing_certificate is not None
    test_data = replace(
        data,
        root_certificate=data.root_certificate or made.root_certificate,
        manufacturer_root=data.manufacturer_root if own_signing else made.manufacturer_root,
        signing_certificate=data.signing_certificate if own_signing else made.signing_certificate,
        firmware_signature=data.firmware_signature if own_signing else made.firmware_signature,
    )
    aimed = replace(
        options,
        url=f"wss://localhost:{testbed.port}/{{cp_id}}",
        security=SecurityConfig(
            profile=2, password=password, ca_file=made.ca, client_cert=made.client[0], client_key=made.client[1]
        ),
        tags=testbed_tags(options.tags),
        test_data=test_data,
        trigger_url=options.trigger_url or (None if options.trigger_cmd else testbed.api_url + "/cps/{cp_id}/{action}"),
    )
    driver = None if options.trigger_url or options.trigger_cmd else TestbedDriver(testbed.api_url)
    return DemoRun(testbed, aimed, driver, folder, password)
