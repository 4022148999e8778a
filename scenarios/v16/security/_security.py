"""What the security cases share: which set-up each needs (the security profile of the run, the
configured certificates), the Tool's own messages of the security extension, and the checks on
certificates the CSMS sends."""

from __future__ import annotations

import secrets
import string
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509

from ocpp_users.v16.answers.base import seconds_until
from ocpp_users.v16.security_events import SecurityEvent
from ocpp_users.v16.state.certificates import (
    CertificateProblem,
    check_signing_certificate,
    hash_data,
    parse_pem,
    same_certificate,
)
from scenarios import pki
from scenarios.context import Context, Exchange, response_step, timestamp
from scenarios.options import RunOptions
from scenarios.results import Check, HarnessError, lookup, show
from scenarios.wire import InboundCall

# ---------------------------------------------------------------- which set-up a case needs


def tls(options: RunOptions) -> bool:
    return urlsplit(options.url).scheme == "wss"


def needs_basic_auth(options: RunOptions) -> str | None:
    """Security profile 1 or 2: HTTP Basic authentication with a password."""
    if options.security.profile not in (1, 2) or not options.security.password:
        return "needs Basic authentication: --security-profile 1 or 2 with --basic-auth-password"
    return None


def needs_tls(options: RunOptions) -> str | None:
    """ "The Central System supports Security profile 2 and/or 3": a wss:// URL."""
    if not tls(options):
        return "needs a wss:// URL (security profile 2 or 3)"
    return None


def needs_security_profile(options: RunOptions) -> str | None:
    """ "The Central System supports a security profile": profile 1, 2 or 3."""
    if options.security.profile < 1:
        return "needs a security profile: --basic-auth-password (profile 1 or 2) or a wss:// URL with --client-cert"
    return None


def needs_client_certificate(options: RunOptions, signed_by_csms: bool = True) -> str | None:
    """Security profile 3: a wss:// URL and a client certificate, either as the run's profile or
    beside profile 2's password (the Tool then connects with the certificate for the case); and,
    when the CSMS signs a certificate for the Tool (``signed_by_csms``: TC_074/TC_077), the CA file
    whose roots the charger checks it against."""
    security = options.security
    if not tls(options) or not security.client_cert:
        return "needs security profile 3: a wss:// URL and --client-cert/--client-key"
    if signed_by_csms and not security.ca_file:
        return (
            "needs --ca-file with the root of the CSMS's certificate authority (the charge point checks the "
            "certificate the CSMS signs for it against its CentralSystemRootCertificates)"
        )
    return None


def read_pem(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise HarnessError(f"cannot read {path}: {exc.strerror or exc}") from None


def needs_signed_firmware(options: RunOptions, valid_signature: bool) -> str | None:
    """TC_080/TC_081: the firmware signing certificate and the root it chains to (the charge point
    answers InvalidCertificate otherwise); TC_080 also the valid signature."""
    data = options.test_data
    missing = [
        flag
        for flag, value in (
            ("--manufacturer-root", data.manufacturer_root),
            ("--signing-certificate", data.signing_certificate),
            ("--firmware-signature", data.firmware_signature if valid_signature else "-"),
        )
        if not value
    ]
    if missing:
        return f"needs the configured firmware signing data: {', '.join(missing)}"
    assert data.manufacturer_root and data.signing_certificate
    try:
        roots = parse_pem(Path(data.manufacturer_root).read_text(encoding="utf-8", errors="replace"))
        check_signing_certificate(Path(data.signing_certificate).read_text(encoding="utf-8", errors="replace"), roots)
    except OSError as exc:
        return f"cannot read the firmware signing data: {exc.strerror or exc}"
    except CertificateProblem as exc:
        return f"--signing-certificate does not chain to --manufacturer-root: {exc}"
    return None


# ---------------------------------------------------------------- configured data


def configured_root(ctx: Context) -> str:
    """<Configured root certificate>: --root-certificate, else a fresh root made for the case."""
    path = ctx.options.test_data.root_certificate
    return read_pem(path) if path else pki.throwaway_root_pem()


def new_authorization_key() -> str:
    """A random AuthorizationKey of 20 printable characters, in hexadecimal (40 digits): a
    password any CSMS can hold as text (whitepaper A00.FR.205: 16 to 20 bytes)."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(20)).encode("ascii").hex().upper()


def request_id() -> int:
    """A requestId the Tool proposes to the CSMS (it may choose its own)."""
    return int(time.time() * 1000) % 1_000_000 + 1


# ---------------------------------------------------------------- the Tool's messages


def security_event(ctx: Context, kind: SecurityEvent, tech_info: str, *, step: object) -> Exchange:
    """ "The Charge Point sends a SecurityEventNotification.req" of ``kind``: logged in the
    charger's security log (A04.FR.04) and sent by the Tool, so that the CSMS's answer is checked."""
    ctx.cp.security_events.raise_event(kind, tech_info)
    payload = {"type": str(kind), "timestamp": timestamp(), "techInfo": tech_info[:255]}
    ex = ctx.exchange("SecurityEventNotification", payload, step=step)
    ctx.expect_own("type", str(kind), ex.request, step=step, message="SecurityEventNotification.req")
    return ex


def signed_firmware_status(ctx: Context, status: str, request: int, *, step: object) -> None:
    """SignedFirmwareStatusNotification.req with ``status`` and the update's requestId (L01.FR.10)."""
    ex = ctx.exchange("SignedFirmwareStatusNotification", {"status": status, "requestId": request}, step=step)
    ctx.cp.state.signed_firmware_status = status
    ctx.cp.state.signed_firmware_request = request
    ctx.expect_own("status", status, ex.request, step=step, message="SignedFirmwareStatusNotification.req")


def log_status(ctx: Context, status: str, request: int, *, step: object) -> None:
    """LogStatusNotification.req with ``status`` and the GetLog's requestId (N01.FR.07)."""
    ex = ctx.exchange("LogStatusNotification", {"status": status, "requestId": request}, step=step)
    ctx.cp.state.log_status = status
    ctx.cp.state.log_request = request
    ctx.expect_own("status", status, ex.request, step=step, message="LogStatusNotification.req")


def sign_certificate(ctx: Context, *, step: int) -> float:
    """ "[The Charge Point generates a new public/private key pair and generates a Certificate
    Signing Request.] The Charge Point sends a SignCertificate.req" (CN the serial number or the
    charge point id, O the CpoName: A02.FR.02/13); the CSMS's SignCertificate.conf must be
    Accepted at the next step. Returns when it was sent (the CertificateSigned.req comes after)."""
    cp = ctx.cp
    own = cp.state.own_certificate
    csr = own.new_csr(cp.settings.serial_number or cp.cp_id, cp.configuration.get("CpoName") or "")
    since = time.time()
    ex = ctx.exchange("SignCertificate", {"csr": csr}, step=step)
    if ex.response.get("status") != "Accepted":
        own.pending_key = own.pending_subject = None  # no certificate will come for this key
    ctx.expect("status", "Accepted", ex.response, step=step + 1, message="SignCertificate.conf")
    return since


def trigger_sign(ctx: Context) -> None:
    """Steps 1-2 of TC_074/TC_077: ExtendedTriggerMessage.req for SignChargePointCertificate, no
    connectorId; the charge point (its CpoName set) answers Accepted."""
    call = ctx.csms_call("ExtendedTriggerMessage", {"requestedMessage": "SignChargePointCertificate"}, step=1)
    message = "ExtendedTriggerMessage.req"
    ctx.expect("requestedMessage", "SignChargePointCertificate", call.payload, step=1, message=message)
    ctx.expect_absent("connectorId", call.payload, step=1, message=message)
    ctx.charger_answer(
        call, "Accepted", step=1, field="requestedMessage", wanted="SignChargePointCertificate (CpoName is set)"
    )


# ---------------------------------------------------------------- checks on what the CSMS sends


def certificate_text(value: Any) -> str:
    """A short description of a PEM certificate for a report (never the whole PEM)."""
    if not isinstance(value, str):
        return show(value)
    try:
        certificates = x509.load_pem_x509_certificates(value.encode("utf-8", "replace"))
    except ValueError:
        return f"not a PEM certificate ({len(value)} characters)"
    leaf = certificates[0]
    more = f" (+{len(certificates) - 1} more)" if len(certificates) > 1 else ""
    return f"{leaf.subject.rfc4514_string()[:100]}, serial {leaf.serial_number:x}{more}"


def expect_certificate(ctx: Context, call: InboundCall, field: str, expected: str, *, step: object, what: str) -> None:
    """The certificate at ``field`` of the CSMS's request is the configured one (``what`` names it)."""
    value = lookup(call.payload, field)
    ok = isinstance(value, str) and pki.same_certificate_pem(value, expected)
    expected_text = f"{what}: {certificate_text(expected)}"
    ctx.record(Check(str(step), f"{call.action}.req", field, expected_text, certificate_text(value), ok))


def logged_reason(ctx: Context, kind: SecurityEvent, since: float) -> str:
    """Why the charger refused a certificate: the techInfo of the ``kind`` event it logged at or
    after ``since`` (epoch seconds), or ""."""
    after = timestamp(since - 0.001)
    for entry in reversed(ctx.cp.state.security_log.entries):
        if entry.timestamp < after:
            break
        if entry.type == str(kind):
            return entry.tech_info or ""
    return ""


def charger_refusal(
    ctx: Context,
    call: InboundCall,
    expected: str,
    *,
    step: object,
    wanted: str,
    field: str,
    event: SecurityEvent | None = None,
) -> None:
    """The charge point answered the request from its real state; anything but ``expected`` means
    the CSMS sent what a charger refuses: FAILED at ``step``, naming ``field`` (described, never
    dumped), the charger's answer and, when it logged ``event``, its reason."""
    answer = call.answer or {}
    got = answer.get("status")
    if call.error is None and got == expected:
        ctx.record(
            Check(str(response_step(step)), f"{call.action}.conf", "status", expected, str(got), True, side="tool")
        )
        return
    said = f"CALLERROR {call.error}" if call.error is not None else f"status {show(got)}"
    reason = logged_reason(ctx, event, call.at) if event is not None else ""
    value = lookup(call.payload, field)
    shown = certificate_text(value)
    ctx.fail(
        step,
        f"{call.action}.req",
        wanted,
        f"{shown} (the charge point answered {said}{': ' + reason if reason else ''})",
        field,
    )


# ---------------------------------------------------------------- installed certificates (TC_075_x, TC_076)


def install_root(ctx: Context, kind: str, root: str, *, step: object) -> InboundCall:
    """ "The Central System sends a InstallCertificate.req": certificateType ``kind``, certificate
    the configured root; the charge point installs it (a valid CA certificate: Accepted, M05)."""
    call = ctx.csms_call("InstallCertificate", {"certificateType": kind, "certificate": root}, step=step)
    ctx.expect("certificateType", kind, call.payload, step=step, message="InstallCertificate.req")
    expect_certificate(ctx, call, "certificate", root, step=step, what="<Configured root certificate>")
    charger_refusal(
        ctx,
        call,
        "Accepted",
        step=step,
        field="certificate",
        wanted="a root certificate the charge point can install (valid now, a CA, M05.FR.06)",
        event=SecurityEvent.invalid_central_system_certificate if kind == "CentralSystemRootCertificate" else None,
    )
    return call


def list_installed(ctx: Context, kind: str, root: str, *, step: int) -> dict[str, str]:
    """ "The Central System sends a GetInstalledCertificateIds.req" for ``kind``; the charge point's
    answer (step + 1) is Accepted and names the installed root. Returns its certificateHashData."""
    call = ctx.csms_call("GetInstalledCertificateIds", {"certificateType": kind}, step=step)
    ctx.expect("certificateType", kind, call.payload, step=step, message="GetInstalledCertificateIds.req")
    answer = call.answer or {}
    conf = "GetInstalledCertificateIds.conf"
    ctx.expect_own("status", "Accepted", answer, step=step + 1, message=conf)
    certificate = parse_pem(root)[0]
    mine = hash_data(certificate, certificate, "SHA256")
    listed = answer.get("certificateHashData") or []
    ok = any(isinstance(item, dict) and same_certificate(item, mine) for item in listed)
    ctx.record(
        Check(
            str(step + 1),
            conf,
            "certificateHashData",
            f"includes the certificate installed at step 1 (serialNumber {mine['serialNumber']})",
            show(listed),
            ok,
            side="tool",
        )
    )
    return mine


# ---------------------------------------------------------------- signed firmware (TC_080, TC_081)


def signed_update_firmware(ctx: Context, signature: str, what: str) -> int:
    """Steps 1-2 of TC_080/TC_081: the CSMS sends SignedUpdateFirmware.req with <Configured
    Firmware Download URL> (``--firmware-url``), <Configured signingCertificate> and ``signature``
    (``what`` names it); the charge point checks the signing certificate against its
    ManufacturerRootCertificates and answers (Accepted; InvalidCertificate FAILS step 1 with its
    reason). The Tool waits for retrieveDateTime (at most the step timeout). Returns the requestId."""
    data = ctx.options.test_data
    assert data.signing_certificate is not None
    certificate = read_pem(data.signing_certificate)
    location = data.firmware_url
    firmware = {
        "location": location,
        "retrieveDateTime": timestamp(),
        "signingCertificate": certificate,
        "signature": signature,
    }
    call = ctx.csms_call("SignedUpdateFirmware", {"requestId": request_id(), "firmware": firmware}, step=1)
    message = "SignedUpdateFirmware.req"
    ctx.expect("firmware.location", location, call.payload, step=1, message=message)
    sent = call.payload.get("firmware", {}).get("signature")
    ctx.record(Check("1", message, "firmware.signature", f"{what}: {signature}", show(sent), sent == signature))
    expect_certificate(
        ctx, call, "firmware.signingCertificate", certificate, step=1, what="<Configured signingCertificate>"
    )
    charger_refusal(
        ctx,
        call,
        "Accepted",
        step=1,
        field="firmware.signingCertificate",
        wanted="a signing certificate issued by a ManufacturerRootCertificate of the charge point (L01.FR.23)",
        event=SecurityEvent.invalid_firmware_signing_certificate,
    )
    wait = seconds_until(call.payload["firmware"].get("retrieveDateTime"))
    if wait > ctx.step_timeout:
        ctx.note(f"step 1: retrieveDateTime is {wait:.0f} s away; the Tool waited {ctx.step_timeout:g} s and went on")
    ctx.sleep(min(wait, ctx.step_timeout))
    request = call.payload["requestId"]
    assert isinstance(request, int)
    return request
