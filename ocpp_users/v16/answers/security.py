"""The OCPP 1.6 security extension ("Improved security for OCPP 1.6-J", edition 2), charge point side.

CertificateSigned, DeleteCertificate, ExtendedTriggerMessage, GetInstalledCertificateIds, GetLog,
InstallCertificate and SignedUpdateFirmware, and the two configuration keys whose change is more
than a stored value: AuthorizationKey (A01: reconnect with the new password) and SecurityProfile
(A05: reconnect with the higher profile, fall back when that fails, never go down). The charger's
certificates live in :mod:`..state.certificates`, its security events in :mod:`..security_events`.

Where the whitepaper leaves a detail open, the OCTT 1.6 test case document's ``_CS`` cases decide
(each place says which). As everywhere in :mod:`ocpp_users.v16.answers`, work that follows an
answer runs once the answer is on the wire, and not at all when follow-ups are off (the compliance
runner then scripts it: :meth:`~ocpp_users.v16.station.Station.renew_connection`,
``station.security_events.flush()``, :meth:`SecurityAnswers.request_certificate`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import gevent
from cryptography import x509

from ocpp_users.ocppj.errors import OcppCallError, RejectedError, VolatileOcppError
from ocpp_users.ocppj.handlers import on
from ocpp_users.ocppj.rpc import Payload, Reply
from ocpp_users.ocppj.transport import SecurityConfig
from ocpp_users.v16.actions import Action
from ocpp_users.v16.answers.base import ProfileAnswers, seconds_until
from ocpp_users.v16.answers.remote_trigger import send_triggered
from ocpp_users.v16.security_events import SecurityEvent, SecurityEvents
from ocpp_users.v16.state.certificates import (
    CertificateProblem,
    CertificateUse,
    OwnCertificate,
    check_signing_certificate,
    hash_data,
    issued_by,
    parse_pem,
    same_certificate,
    verify_signature,
)
from ocpp_users.v16.state.config import FollowUp
from ocpp_users.v16.state.status import OCCUPIED, ChargePointStatus

if TYPE_CHECKING:
    from ocpp_users.v16.station import Station

S = ChargePointStatus
E = SecurityEvent
CS_ROOT = CertificateUse.central_system_root
MANUFACTURER_ROOT = CertificateUse.manufacturer_root

ACCEPTED, REJECTED = "Accepted", "Rejected"
LOG_FAILURES = frozenset({"UploadFailure", "BadMessage", "PermissionDenied", "NotSupportedOperation"})
"""N01.FR.10: the statuses of a failed log upload."""


def authorization_key_password(value: str) -> bytes | None:
    """The Basic auth password an AuthorizationKey value stands for, or None when it does not meet
    the requirements. Whitepaper §7.2 and A00.FR.205: "minimal length: 16 bytes ... Hexadecimal
    represented (20 bytes maximum, represented as a string of up to 40 hexadecimal digits)"; the
    password on the wire is the key itself, not its hexadecimal form (OCTT TC_073_CS sends
    ``4F43415F4F4354545F61646D696E5F74657374``, "OCA_OCTT_admin_test" hex encoded, and TC_085_CS
    checks the header carries a key of at least 16 characters)."""
    text = value.strip()
    if not 32 <= len(text) <= 40 or len(text) % 2:
        return None
    try:
        return bytes.fromhex(text)
    except ValueError:
        return None


def _password_ok(password: str | bytes | None) -> bool:
    """A05.FR.02: an AuthorizationKey "that meets the requirements" (at least 16 bytes)."""
    if password is None:
        return False
    raw = password if isinstance(password, bytes) else password.encode("utf-8")
    return 16 <= len(raw) <= 40


def _sign_check(result: Payload) -> str | None:
    return None if result.get("status") == ACCEPTED else f"SignCertificate {result.get('status')}"


class SecurityAnswers(ProfileAnswers):
    """Answers of the security extension (profile name ``Security``: the whitepaper names no
    feature profile for SupportedFeatureProfiles, which therefore keeps the six of OCPP 1.6)."""

    profile = "Security"

    def __init__(self, station: Station) -> None:
        super().__init__(station)
        station.state.configuration.intercept(self._change_configuration)
        self._upload: gevent.Greenlet | None = None
        self._update: gevent.Greenlet | None = None
        self._switch: gevent.Greenlet | None = None
        self._fallback: tuple[SecurityConfig, str, Callable[[], object]] | None = None
        """What to go back to when the new credentials do not connect (security, URL, undo)."""

    # ------------------------------------------------------------ helpers

    @property
    def _events(self) -> SecurityEvents:
        return self.station.security_events

    def _flush_events(self) -> Callable[[], object] | None:
        """Send the notifications just raised once the answer is on the wire (TC_077/TC_078: the
        answer first, then the SecurityEventNotification)."""
        events = self._events
        return self.later(events.flush)

    def _peer(self) -> x509.Certificate | None:
        der = self.station.link.peer_certificate
        if der is None:
            return None
        try:
            return x509.load_der_x509_certificate(der)
        except ValueError:
            return None

    def _refresh_trust(self) -> None:
        """The next TLS connection trusts the CentralSystemRootCertificates installed now."""
        store = self.state.certificates
        if store.changed:
            link = self.station.link
            link.use(replace(link.security, ca_data=store.trusted_pem()))

    @staticmethod
    def _step(station: Station) -> float:
        return 1.0 / max(station.settings.time_factor, 1.0)

    def reconnect(self, reason: str) -> bool:
        """Reconnect with the credentials the CSMS just changed, falling back to the previous ones
        when a new profile or certificate does not connect (A05.FR.08, A02.FR.10). The follow-up
        of AuthorizationKey, SecurityProfile and CertificateSigned; with follow-ups off (the
        compliance runner) the caller runs it. True when connected with the new credentials."""
        fallback, self._fallback = self._fallback, None
        if fallback is None:
            return self.station.renew_connection(reason)
        old, old_url, undo = fallback
        return self.station.renew_connection(reason, fallback=old, fallback_url=old_url, on_fallback=undo)

    def _change_configuration(self, key: str, value: str) -> tuple[str, FollowUp | None] | None:
        if key == "AuthorizationKey":
            return self._change_authorization_key(value)
        if key == "SecurityProfile":
            return self._change_security_profile(value)
        return None

    # ------------------------------------------------------------ A01: AuthorizationKey

    def _change_authorization_key(self, value: str) -> tuple[str, FollowUp | None]:
        password = authorization_key_password(value)
        if password is None:
            return REJECTED, None
        station = self.station
        link = station.link
        link.use(replace(link.security, password=password))
        # A01.FR.11/12: logged, without the key.
        self._events.raise_event(E.reconfiguration_of_security_parameters, "AuthorizationKey changed")
        if link.security.profile not in (1, 2):
            return ACCEPTED, None  # kept for an upgrade to profile 1 or 2 (A05)

        # A01 steps 3-4 and OCTT TC_073_CS step 3: disconnect, connect with the new password (the
        # CSMS no longer accepts the old one, A01.FR.03: nothing to fall back to).
        self._fallback = None
        return ACCEPTED, lambda: self.reconnect("new AuthorizationKey")

    # ------------------------------------------------------------ A05: SecurityProfile

    def _change_security_profile(self, value: str) -> tuple[str, FollowUp | None]:
        text = value.strip()
        if not (text.isascii() and text.isdigit()) or len(text) > 2:
            return REJECTED, None
        station, state = self.station, self.state
        link = station.link
        old = link.security
        new = int(text)
        if new <= old.profile or new > 3:
            return REJECTED, None  # A05.FR.01 (and whitepaper §7.6): never lower, never the same
        if new in (1, 2) and not _password_ok(old.password):
            return REJECTED, None  # A05.FR.02
        if new in (2, 3) and not state.certificates.valid_roots(CS_ROOT):
            return REJECTED, None  # A05.FR.03
        identity = old.identity
        current = state.own_certificate.current
        if new == 3:
            if current is not None:
                identity = current.identity()
            elif not old.client_cert:
                return REJECTED, None  # A05.FR.04: no ChargePointCertificate
        trusted = state.certificates.trusted_pem()
        security = replace(old, profile=new, identity=identity, ca_data=trusted if trusted is not None else old.ca_data)
        old_url = link.base_url
        new_url = link.tls_url() if new >= 2 and old.profile < 2 else None
        state.configuration.set_internal("SecurityProfile", str(new))
        self._events.raise_event(E.reconfiguration_of_security_parameters, f"SecurityProfile {old.profile} -> {new}")
        # A05.FR.06/07: disconnect, reconnect with the new profile; A05.FR.08: fall back to the
        # previous settings when the new profile does not connect.
        link.use(security, new_url)
        self._fallback = (old, old_url, lambda: self._fell_back(old))
        return ACCEPTED, lambda: self.reconnect(f"security profile {new}")

    def _fell_back(self, old: SecurityConfig) -> None:
        self.state.configuration.set_internal("SecurityProfile", str(old.profile))
        self._events.raise_event(
            E.reconfiguration_of_security_parameters,
            f"back to security profile {old.profile}: the new one did not connect",
        )

    # ------------------------------------------------------------ A02/A03: the charger's certificate

    def request_certificate(self) -> None:
        """A02 steps 3-5: a new key pair, its CSR, SignCertificate.req (raises when the CSMS does
        not accept it; the key is then forgotten)."""
        station, state = self.station, self.state
        own = state.own_certificate
        organization = state.configuration.get("CpoName") or ""
        common_name = station.settings.serial_number or station.cp_id
        csr = own.new_csr(common_name, organization)
        try:
            answer = station.call("SignCertificate", {"csr": csr}, check=_sign_check)
        except (RejectedError, OcppCallError):
            own.pending_key = own.pending_subject = None  # no certificate will come for this key
            raise
        if answer.get("status") != ACCEPTED:
            own.pending_key = own.pending_subject = None

    @on(Action.certificate_signed)
    def certificate_signed(self, payload: Payload) -> Payload | Reply:
        station, state = self.station, self.state
        own = state.own_certificate
        configured = state.configuration.get_int("CertificateSignedMaxChainSize", 10000)
        max_size = min(configured or 10000, 10000)
        try:
            received = own.accept(payload["certificateChain"], max_size, state.certificates.valid_roots(CS_ROOT))
        except CertificateProblem as exc:
            # A02.FR.07: discard it and raise InvalidChargePointCertificate (OCTT TC_077_CS: the
            # CertificateSigned.conf is Rejected, then the SecurityEventNotification follows).
            self._events.raise_event(E.invalid_charge_point_certificate, str(exc), notify=True, defer=True)
            return Reply({"status": REJECTED}, self._flush_events())
        self._events.raise_event(E.reconfiguration_of_security_parameters, "new ChargePointCertificate")
        now = datetime.now(UTC)
        if received.not_before > now:
            # A02.FR.08: "switch to the new certificate as soon as the current date and time is
            # after the 'Not valid before' field".
            wait = (received.not_before - now).total_seconds()
            self._switch = station.spawn(station.quietly, lambda: self._switch_later(received, wait))
            return {"status": ACCEPTED}
        return Reply({"status": ACCEPTED}, self._use_certificate(received))

    def _switch_later(self, received: OwnCertificate, wait: float) -> None:
        gevent.sleep(wait)
        own = self.state.own_certificate
        if own.waiting is not received:
            return
        own.switch_to(received)
        follow_up = self._use_certificate(received)
        if follow_up is not None:
            follow_up()

    def _use_certificate(self, received: OwnCertificate) -> Callable[[], object] | None:
        """Under profile 3 the next connection presents the new certificate; the charger reconnects
        at once (OCTT TC_074_CS step 7) and falls back to the previous one if it is refused
        (A02.FR.10)."""
        station = self.station
        link = station.link
        old = link.security
        if old.profile != 3:
            return None  # kept for an upgrade to profile 3 (A05.FR.04)
        link.use(replace(old, identity=received.identity()))
        own = self.state.own_certificate

        def undo() -> None:
            own.fall_back()

        self._fallback = (old, link.base_url, undo)
        return self.later(lambda: self.reconnect("new ChargePointCertificate"))

    # ------------------------------------------------------------ M03-M05: installed certificates

    @on(Action.install_certificate)
    def install_certificate(self, payload: Payload) -> Payload | Reply:
        use = CertificateUse(payload["certificateType"])
        store = self.state.certificates
        try:
            status = store.install(use, payload["certificate"])
        except CertificateProblem as exc:
            # M05.FR.06: Rejected. OCTT TC_078_CS: an invalid/expired CentralSystemRootCertificate
            # is answered Rejected, then an InvalidCentralSystemCertificate event is sent.
            if use is CS_ROOT:
                self._events.raise_event(E.invalid_central_system_certificate, str(exc), notify=True, defer=True)
                return Reply({"status": REJECTED}, self._flush_events())
            return {"status": REJECTED}
        if status == ACCEPTED:
            self._refresh_trust()
            self._events.raise_event(E.reconfiguration_of_security_parameters, f"{use} installed")
        return {"status": status}

    @on(Action.get_installed_certificate_ids)
    def get_installed_certificate_ids(self, payload: Payload) -> Payload:
        installed = self.state.certificates.installed(payload["certificateType"])
        if not installed:
            return {"status": "NotFound"}  # M03.FR.02
        return {"status": ACCEPTED, "certificateHashData": [entry.hash_data() for entry in installed]}  # M03.FR.03/04

    @on(Action.delete_certificate)
    def delete_certificate(self, payload: Payload) -> Payload:
        wanted = payload["certificateHashData"]
        if self._names_own_certificate(wanted):
            return {"status": "Failed"}  # M04.FR.05: the ChargePointCertificate cannot be deleted
        store = self.state.certificates
        entry = store.find(wanted)
        if entry is None:
            return {"status": "NotFound"}  # M04.FR.04
        if entry.use is CS_ROOT and store.root_in_use(self._peer()) is entry:
            return {"status": "Failed"}  # M04.FR.06: it verified the current connection
        store.delete(entry)
        self._refresh_trust()
        self._events.raise_event(E.reconfiguration_of_security_parameters, f"{entry.use} deleted")
        return {"status": ACCEPTED}  # M04.FR.02 (the schema's value for success)

    def _names_own_certificate(self, wanted: dict[str, object]) -> bool:
        algorithm = str(wanted.get("hashAlgorithm", ""))
        chains: list[list[x509.Certificate]] = []
        own = self.state.own_certificate if self.state._own_certificate is not None else None
        for item in (own.current, own.previous, own.waiting) if own is not None else ():
            if item is not None:
                chains.append(item.chain)
        path = self.station.settings.security.client_cert
        if path:
            try:
                with open(path, encoding="utf-8", errors="replace") as handle:
                    chains.append(parse_pem(handle.read()))
            except (OSError, CertificateProblem):
                pass
        roots = self.state.certificates.roots(CS_ROOT)
        for chain in chains:
            leaf = chain[0]
            issuers = [*chain[1:], *roots, leaf]
            issuer = next((c for c in issuers if issued_by(leaf, c)), None)
            if issuer is None:
                continue
            try:
                if same_certificate(wanted, hash_data(leaf, issuer, algorithm)):
                    return True
            except KeyError:
                return False
        return False

    # ------------------------------------------------------------ ExtendedTriggerMessage

    @on(Action.extended_trigger_message)
    def extended_trigger_message(self, payload: Payload) -> Payload | Reply:
        station, state = self.station, self.state
        requested = payload["requestedMessage"]
        connector_id = payload.get("connectorId")
        # Whitepaper §5.5: "connectorId > 0", "only filled in when request applies to a specific connector".
        if connector_id is not None and not state.valid_connector(connector_id, allow_zero=False):
            return {"status": REJECTED}
        if requested == "SignChargePointCertificate":
            if not state.configuration.get("CpoName"):
                return {"status": REJECTED}  # A02 prerequisite: "The configuration variable CpoName MUST be set"
            return Reply({"status": ACCEPTED}, self.later(self.request_certificate))
        if requested == "FirmwareStatusNotification":
            return Reply({"status": ACCEPTED}, self.later(self._send_firmware_status))
        if requested == "LogStatusNotification":
            return Reply({"status": ACCEPTED}, self.later(self._send_log_status))
        if requested in ("BootNotification", "Heartbeat", "MeterValues", "StatusNotification"):
            return Reply({"status": ACCEPTED}, self.later(lambda: send_triggered(station, requested, connector_id)))
        return {"status": "NotImplemented"}

    def _send_firmware_status(self) -> None:
        """L01.FR.28/29: Idle when the last SignedFirmwareStatusNotification said Installed (or none
        was sent), else the last status; requestId unless Idle (L01.FR.21)."""
        state = self.state
        last = state.signed_firmware_status
        payload: Payload = {"status": "Idle" if last in (None, "Installed", "Idle") else last}
        if payload["status"] != "Idle" and state.signed_firmware_request is not None:
            payload["requestId"] = state.signed_firmware_request
        self.station.call("SignedFirmwareStatusNotification", payload)

    def _send_log_status(self) -> None:
        """N01.FR.12: the status of the upload in progress with its requestId, else Idle (no requestId)."""
        state = self.state
        uploading = self._upload is not None and not self._upload.dead and state.log_status is not None
        payload: Payload = {"status": state.log_status if uploading else "Idle"}
        if uploading and state.log_request is not None:
            payload["requestId"] = state.log_request
        self.station.call("LogStatusNotification", payload)

    # ------------------------------------------------------------ N01: GetLog

    @on(Action.get_log)
    def get_log(self, payload: Payload) -> Payload | Reply:
        station, state = self.station, self.state
        log_type = payload["logType"]
        request_id = payload["requestId"]
        parameters = payload["log"]
        status = ACCEPTED
        if self._upload is not None and not self._upload.dead:
            self._upload.kill(block=False)
            status = "AcceptedCanceled"  # N01.FR.11
        if log_type == "SecurityLog":
            entries = state.security_log.between(parameters.get("oldestTimestamp"), parameters.get("latestTimestamp"))
            content = f"# security log of {station.cp_id}\n" + state.security_log.render(entries)
        else:
            content = f"# diagnostics log of {station.cp_id}\n"
        file_name = f"{log_type}-{station.cp_id}-{request_id}.log"[:255]

        def upload() -> None:
            # N01.FR.02-09: one file, to log.remoteLocation. The simulated charger transfers nothing
            # (as for GetDiagnostics): it takes the time and reports what the settings say.
            state.log_request = request_id
            self._log_status(request_id, "Uploading")
            gevent.sleep(self._step(station) * (1 + len(content) // 100_000))
            outcome = station.settings.behaviour.log_outcome
            self._log_status(request_id, outcome if outcome in LOG_FAILURES else "Uploaded")

        def start() -> None:
            self._upload = station.spawn(station.quietly, upload)

        return Reply({"status": status, "filename": file_name}, start if self.follow_up else None)

    def _log_status(self, request_id: int, status: str) -> None:
        self.state.log_status = status
        try:
            self.station.call("LogStatusNotification", {"status": status, "requestId": request_id})  # N01.FR.07
        except VolatileOcppError:
            pass  # counted as a failure of the CSMS; the upload goes on

    # ------------------------------------------------------------ L01: SignedUpdateFirmware

    @on(Action.signed_update_firmware)
    def signed_update_firmware(self, payload: Payload) -> Payload | Reply:
        station, state = self.station, self.state
        request_id = payload["requestId"]
        firmware = payload["firmware"]
        try:
            signer = check_signing_certificate(
                firmware["signingCertificate"], state.certificates.valid_roots(MANUFACTURER_ROOT)
            )
        except CertificateProblem as exc:
            # L01.FR.24 and L01 scenario step 3: InvalidCertificate, and the security event
            # InvalidFirmwareSigningCertificate (L01.FR.02).
            self._events.raise_event(E.invalid_firmware_signing_certificate, str(exc), notify=True, defer=True)
            return Reply({"status": "InvalidCertificate"}, self._flush_events())
        status = ACCEPTED
        if self._update is not None and not self._update.dead:
            self._update.kill(block=False)
            status = "AcceptedCanceled"  # L01.FR.26

        def start() -> None:
            self._update = station.spawn(station.quietly, lambda: self._signed_update(request_id, firmware, signer))

        return Reply({"status": status}, start if self.follow_up else None)

    def _firmware_status(self, request_id: int, status: str) -> None:
        """L01.FR.01/10: every new state is told, with the request's requestId."""
        self.state.signed_firmware_status = status
        self.state.signed_firmware_request = request_id
        try:
            self.station.call("SignedFirmwareStatusNotification", {"status": status, "requestId": request_id})
        except VolatileOcppError:
            pass  # counted as a failure of the CSMS; the update goes on

    def _signed_update(self, request_id: int, firmware: Payload, signer: x509.Certificate) -> None:
        """The L01 state machine (whitepaper figure 14), in the order OCTT TC_080_CSMS expects of
        the charge point: [DownloadScheduled], Downloading, Downloaded, SignatureVerified (or
        InvalidSignature), [InstallScheduled], connectors not in use Unavailable, Installing,
        InstallRebooting, the reboot (BootNotification, StatusNotification Available), then
        SecurityEventNotification FirmwareUpdated and Installed."""
        station = self.station
        behaviour = station.settings.behaviour
        status = self._firmware_status
        wait = seconds_until(firmware.get("retrieveDateTime"))
        if wait > 0:
            status(request_id, "DownloadScheduled")  # L01.FR.13
            gevent.sleep(wait)
        status(request_id, "Downloading")
        gevent.sleep(self._step(station))
        if behaviour.firmware_outcome == "DownloadFailed":
            status(request_id, "DownloadFailed")
            return
        status(request_id, "Downloaded")
        # L01.FR.04: the signature over the firmware file. Nothing is downloaded: the image is, by
        # convention, the bytes of ``location`` (see Behaviour.signed_firmware_check).
        problem = None
        if behaviour.signed_firmware_check != "certificate":
            problem = verify_signature(signer, str(firmware.get("signature", "")), str(firmware["location"]).encode())
        if problem is not None:
            status(request_id, "InvalidSignature")
            self._events.raise_event(E.invalid_firmware_signature, problem, notify=True)  # L01.FR.03
            return
        status(request_id, "SignatureVerified")
        install_wait = seconds_until(firmware.get("installDateTime"))
        if install_wait > 0:
            status(request_id, "InstallScheduled")  # L01.FR.16
            gevent.sleep(install_wait)
        held = self._hold_connectors()
        status(request_id, "Installing")
        gevent.sleep(self._step(station))
        if behaviour.firmware_outcome == "InstallationFailed":
            status(request_id, "InstallationFailed")
            self._release_connectors(held)
            return
        status(request_id, "InstallRebooting")  # L01.FR.15

        def installed() -> None:
            self._events.raise_event(E.firmware_updated, f"requestId {request_id}", notify=True)
            status(request_id, "Installed")

        self._events.after_boot(installed)
        station.reboot("HardReset")

    def _hold_connectors(self) -> list[int]:
        """L01.FR.06/07: connectors not in use become Unavailable; the charger waits for the
        transactions to end, then makes those connectors Unavailable too."""
        station, state = self.station, self.state
        held: list[int] = []

        def hold(cid: int) -> None:
            connector = state.connectors[cid]
            if connector.status not in (S.unavailable, S.preparing) and station.connected:
                try:
                    station.status_notification(cid, S.unavailable)
                except VolatileOcppError:
                    pass  # counted; the connector is Unavailable all the same
                held.append(cid)

        busy = []
        for cid, connector in state.connectors.items():
            if cid == 0:
                continue
            if connector.charging or connector.session_running or connector.status in OCCUPIED:
                busy.append(cid)
            else:
                hold(cid)
        while busy and not station.stopping:
            gevent.sleep(0.5)
            for cid in list(busy):
                connector = state.connectors[cid]
                if not (connector.charging or connector.session_running or connector.status in OCCUPIED):
                    busy.remove(cid)
                    hold(cid)
        return held

    def _release_connectors(self, held: list[int]) -> None:
        station = self.station
        for cid in held:
            connector = station.state.connectors[cid]
            if connector.status == S.unavailable and connector.operative:
                try:
                    station.status_notification(cid, S.available)
                except VolatileOcppError:
                    pass  # counted


__all__ = ["SecurityAnswers", "authorization_key_password"]
