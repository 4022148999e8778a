"""The OCPP-J WebSocket endpoint (websockets asyncio server)."""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Sequence
from http import HTTPStatus

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import NegotiationError
from websockets.frames import Frame, Opcode
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from testbed import robust_faults
from testbed.ca import peer_certificate_info
from testbed.faults import FaultSwitch
from testbed.handshake import basic_credentials, basic_credentials_raw, charge_point_id
from testbed.registry import Registry
from testbed.session import Session
from testbed.state import Store

LOG = logging.getLogger("testbed.server")
OCPP16 = Subprotocol("ocpp1.6")


def security_profile(connection: ServerConnection, request: Request) -> tuple[int, bytes | None]:
    """The security profile a connection was made with (whitepaper table 2), and the client
    certificate (DER) of a profile 3 connection."""
    ssl_object = connection.transport.get_extra_info("ssl_object") if connection.transport else None
    if ssl_object is None:
        return (1 if request.headers.get("Authorization") else 0), None
    peer = ssl_object.getpeercert(binary_form=True)
    return (3, peer) if peer else (2, None)


class OcppServer:
    def __init__(
        self,
        store: Store,
        faults: FaultSwitch,
        registry: Registry,
        *,
        ssl_context: ssl.SSLContext | None,
        log_frames: bool,
        ping_interval: float | None,
    ) -> None:
        self.store = store
        self.faults = faults
        self.registry = registry
        self.ssl_context = ssl_context
        self.log_frames = log_frames
        self.ping_interval = ping_interval
        self.servers: list[Server] = []

    async def start(self, host: str, port: int, tls: bool = True) -> int:
        """Listen on ``port`` (wss when there is a TLS context and ``tls``); return the port."""
        server = await serve(
            self._handler,
            host,
            port,
            ssl=self.ssl_context if tls else None,
            subprotocols=[OCPP16],
            select_subprotocol=self._select_subprotocol,
            process_request=self._process_request,
            ping_interval=self.ping_interval,
            ping_timeout=self.ping_interval,
            logger=logging.getLogger("websockets.server"),
        )
        self.servers.append(server)
        return int(server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        for server in self.servers:
            server.close()
            await server.wait_closed()

    # --- handshake --------------------------------------------------------------

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        cp_id = charge_point_id(request.path)
        if cp_id is None:
            LOG.info("handshake refused: no charge point id in path %r", request.path)
            return connection.respond(HTTPStatus.BAD_REQUEST, "Missing charge point id in the URL path.\n")
        profile, _ = security_profile(connection, request)
        if self.faults.refuse_profile(profile):
            LOG.info("%s: handshake refused: fault refuse_security_profile %d", cp_id, profile)
            return self._unauthorized(connection)
        record = self.store.cps.get(cp_id)
        upgraded = record.upgraded_profile if record is not None else None
        if record is not None and upgraded is not None and record.highest_profile >= upgraded > profile:
            # Whitepaper A05.FR.09 (precondition A05.FR.07: the charge point reconnected with the
            # profile a SecurityProfile change asked for, "AND was able to successfully connect"):
            # "The Central System SHALL NOT allow the Charge Point to connect with a lower security
            # profile anymore". A charge point this CSMS serves with several profiles (A00.FR.006)
            # but never upgraded may still use each of them.
            LOG.info("%s: handshake refused: security profile %d after the upgrade to %d", cp_id, profile, upgraded)
            return self._unauthorized(connection)
        passwords = self.store.passwords
        if profile != 3 and passwords.expected(cp_id) is not None and not self.faults.accept_any_credentials():
            credentials = basic_credentials_raw(request.headers.get("Authorization"))
            if credentials is None or not passwords.check(cp_id, credentials[0], credentials[1]):
                user = credentials[0] if credentials else None
                LOG.info("%s: handshake refused: HTTP Basic auth failed (user %r)", cp_id, user)
                return self._unauthorized(connection)
        return None

    @staticmethod
    def _unauthorized(connection: ServerConnection) -> Response:
        response = connection.respond(HTTPStatus.UNAUTHORIZED, "Unauthorized.\n")
        response.headers["WWW-Authenticate"] = 'Basic realm="testbed", charset="UTF-8"'
        return response

    def _select_subprotocol(self, connection: ServerConnection, offered: Sequence[Subprotocol]) -> Subprotocol | None:
        if self.faults.refuse_subprotocol():
            return None
        only = self.faults.only_subprotocol()
        if only is not None:
            if only in offered:
                return Subprotocol(only)
            listed = ", ".join(offered) or "none"
            raise NegotiationError(f"fault only_subprotocol: {only} is required (offered: {listed})")
        if OCPP16 in offered:
            return OCPP16
        cp_id = charge_point_id(connection.request.path) if connection.request else None
        listed = ", ".join(offered) or "none"
        LOG.info("%s: handshake refused: subprotocol ocpp1.6 not offered (offered: %s)", cp_id, listed)
        raise NegotiationError(f"subprotocol ocpp1.6 is required (offered: {listed})")

    # --- connection -------------------------------------------------------------

    def _watch_protocol_failures(self, session: Session, ws: ServerConnection) -> None:
        """Input the WebSocket layer refuses before any OCPP code sees it (it fails the connection with
        1007, not UTF-8, or 1009, message too big) still reaches an armed robustness fault, at that
        moment, as it would a CSMS whose framing layer crashes on it."""
        protocol = ws.protocol
        fail = protocol.fail
        faults = self.faults

        def failing(code: int, reason: str = "") -> None:
            fail(code, reason)
            kinds = {1007: {"invalid_frame"}, 1009: {"large"}}.get(int(code), set())
            if kinds and robust_faults.armed(faults.active) is not None:
                robust_faults.fire(faults.active, kinds, session)

        protocol.fail = failing  # type: ignore[method-assign]

    def _watch_pings(self, session: Session, ws: ServerConnection) -> None:
        """Record each WebSocket ping the charge point sends (GET /cps/{id}: ``pings``), and hold
        back the pong the WebSocket layer answers it with while fault no_pong is set."""
        protocol = ws.protocol
        receive, send = protocol.recv_frame, protocol.send_frame
        record, faults = session.record, self.faults

        def receiving(frame: Frame) -> None:
            if frame.opcode is Opcode.PING:
                record.pings.append(time.time())
            receive(frame)

        def sending(frame: Frame) -> None:
            if frame.opcode is Opcode.PONG and faults.no_pong():
                return
            send(frame)

        protocol.recv_frame = receiving  # type: ignore[method-assign]
        protocol.send_frame = sending  # type: ignore[method-assign]

    async def _handler(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        cp_id = charge_point_id(ws.request.path) or "?"
        credentials = basic_credentials(ws.request.headers.get("Authorization"))
        session = Session(cp_id, ws, self.store, self.faults, self.log_frames)
        previous = self.registry.attach(session)
        if robust_faults.armed(self.faults.active) is not None:
            kinds = {"session"} if previous is not None else set()
            if len(self.registry) > robust_faults.MANY_CONNECTIONS:
                kinds.add("abuse")
            if robust_faults.fire(self.faults.active, kinds, session) == "accept":
                previous = None  # a robustness fault: both connections of one charge point stay open
        if previous is not None and self.store.config.close_replaced:
            previous.close(1000, "replaced by a new connection")
        record = session.record
        record.connected = True
        record.connections += 1
        record.connected_at.append(time.time())
        record.booted = False
        record.basic_auth_user = credentials[0] if credentials else None
        record.subprotocol = ws.subprotocol
        profile, peer = security_profile(ws, ws.request)
        record.security_profile = profile
        record.highest_profile = max(record.highest_profile, profile)
        record.client_certificate = peer_certificate_info(peer)
        peer = ws.remote_address
        where = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) and len(peer) >= 2 else str(peer)
        LOG.info(
            "%s: connected from %s (subprotocol %s, connection #%d)", cp_id, where, ws.subprotocol, record.connections
        )
        self.registry.opened(session, {"cp_id": cp_id, "peer": where, "opened": time.time()})
        self._watch_protocol_failures(session, ws)
        self._watch_pings(session, ws)
        try:
            await session.run()
        finally:
            self.registry.closed(session)
            received = ws.protocol.close_rcvd
            record.closes.append(
                {
                    "code": received.code if received is not None else None,
                    "reason": received.reason if received is not None else None,
                    "by_csms": ws.protocol.close_sent is not None and ws.protocol.close_rcvd_then_sent is not True,
                }
            )
            if self.registry.detach(session):
                record.connected = False
            LOG.info(
                "%s: disconnected (close code %s%s)",
                cp_id,
                ws.close_code,
                f" {ws.close_reason}" if ws.close_reason else "",
            )
