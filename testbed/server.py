"""The OCPP-J WebSocket endpoint (websockets asyncio server)."""

from __future__ import annotations

import logging
import ssl
from collections.abc import Sequence
from http import HTTPStatus

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import NegotiationError
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from testbed import robust_faults
from testbed.faults import FaultSwitch
from testbed.handshake import basic_credentials, charge_point_id, credentials_ok
from testbed.registry import Registry
from testbed.session import Session
from testbed.state import Store

LOG = logging.getLogger("testbed.server")
OCPP16 = Subprotocol("ocpp1.6")


class OcppServer:
    def __init__(
        self,
        store: Store,
        faults: FaultSwitch,
        registry: Registry,
        *,
        basic_auth_password: str | None,
        ssl_context: ssl.SSLContext | None,
        log_frames: bool,
        ping_interval: float | None,
    ) -> None:
        self.store = store
        self.faults = faults
        self.registry = registry
        self.password = basic_auth_password
        self.ssl_context = ssl_context
        self.log_frames = log_frames
        self.ping_interval = ping_interval
        self.server: Server | None = None

    async def start(self, host: str, port: int) -> int:
        self.server = await serve(
            self._handler,
            host,
            port,
            ssl=self.ssl_context,
            subprotocols=[OCPP16],
            select_subprotocol=self._select_subprotocol,
            process_request=self._process_request,
            ping_interval=self.ping_interval,
            ping_timeout=self.ping_interval,
            logger=logging.getLogger("websockets.server"),
        )
        return int(self.server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    # --- handshake --------------------------------------------------------------

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        cp_id = charge_point_id(request.path)
        if cp_id is None:
            LOG.info("handshake refused: no charge point id in path %r", request.path)
            return connection.respond(HTTPStatus.BAD_REQUEST, "Missing charge point id in the URL path.\n")
        if self.password is not None and not self.faults.accept_any_credentials():
            credentials = basic_credentials(request.headers.get("Authorization"))
            if not credentials_ok(credentials, cp_id, self.password):
                user = credentials[0] if credentials else None
                LOG.info("%s: handshake refused: HTTP Basic auth failed (user %r)", cp_id, user)
                response = connection.respond(HTTPStatus.UNAUTHORIZED, "Unauthorized.\n")
                response.headers["WWW-Authenticate"] = 'Basic realm="testbed", charset="UTF-8"'
                return response
        return None

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
        if previous is not None:
            previous.close(1000, "replaced by a new connection")
        record = session.record
        record.connected = True
        record.connections += 1
        record.booted = False
        record.basic_auth_user = credentials[0] if credentials else None
        record.subprotocol = ws.subprotocol
        peer = ws.remote_address
        where = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) and len(peer) >= 2 else str(peer)
        LOG.info(
            "%s: connected from %s (subprotocol %s, connection #%d)", cp_id, where, ws.subprotocol, record.connections
        )
        self._watch_protocol_failures(session, ws)
        try:
            await session.run()
        finally:
            if self.registry.detach(session):
                record.connected = False
            LOG.info(
                "%s: disconnected (close code %s%s)",
                cp_id,
                ws.close_code,
                f" {ws.close_reason}" if ws.close_reason else "",
            )
