"""What a robustness case works with: its connections, message ids, sending and observing."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from ocpp_users.ocppj.errors import TransportError
from ocpp_users.ocppj.transport import SecurityConfig
from scenarios.results import CaseResult, HarnessError, WireEntry
from scenarios.robustness.connection import HostileConnection, SendFailed
from scenarios.robustness.options import RobustOptions
from scenarios.robustness.outcome import Outcome, SentinelIds, Waits, observe

BOOT = {"chargePointVendor": "VolatileOCPP", "chargePointModel": "Robustness"}
MAX_WIRE_ENTRIES = 400


def dumps(frame: Any) -> str:
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)


class SetupFailed(Exception):
    """The CSMS did not let the case start (its BootNotification unanswered): the case FAILS at set-up."""


class RobustContext:
    """Handed to :meth:`RobustCase.run`; the runner closes every connection opened through it."""

    def __init__(self, options: RobustOptions, result: CaseResult, sentinels: SentinelIds) -> None:
        self.options = options
        self.result = result
        self.sentinels = sentinels
        self.connections: list[HostileConnection] = []
        self._conn: HostileConnection | None = None
        self.target: HostileConnection | None = None
        """The connection the liveness probe tries first (the case's own; a case may point it elsewhere)."""
        self._count = 0
        self.token = secrets.token_hex(3)
        self.unlogged = 0
        self.waits = Waits(options.answer_timeout, options.quick, options.grace)

    # ------------------------------------------------------------------ wire log

    def tap(self, direction: str, text: str) -> None:
        if len(self.result.wire) < MAX_WIRE_ENTRIES:
            self.result.wire.append(WireEntry(time.time(), direction, text))
        else:
            self.unlogged += 1

    def finish_wire(self) -> None:
        """Say how many frames did not fit in the wire log (a flood sends hundreds)."""
        if self.unlogged:
            text = f"<{self.unlogged} more frames not logged (the wire log keeps {MAX_WIRE_ENTRIES} per case)>"
            self.result.wire.append(WireEntry(time.time(), "in", text))
            self.unlogged = 0

    def note(self, text: str) -> None:
        self.result.notes.append(text)

    # ------------------------------------------------------------------ connections

    @property
    def conn(self) -> HostileConnection:
        """The case's connection, opened (and booted) by the runner."""
        if self._conn is None:
            raise HarnessError("this case opens its own connections (connect = False)")
        return self._conn

    def open(
        self,
        cp_id: str | None = None,
        *,
        security: SecurityConfig | None = None,
        subprotocol: str = "ocpp1.6",
        label: str = "",
        extra_headers: list[str] | None = None,
    ) -> HostileConnection:
        """A new connection (raises the engine's TransportError when the handshake fails)."""
        conn = HostileConnection.open(
            self.options.url,
            cp_id or self.options.cp_id,
            security or self.options.security,
            self.tap,
            timeout=self.options.connect_timeout,
            subprotocol=subprotocol,
            label=label,
            extra_headers=extra_headers,
        )
        self.connections.append(conn)
        return conn

    def open_offering(
        self, protocols: list[str] | None, cp_id: str | None = None, label: str = ""
    ) -> tuple[HostileConnection | None, str, int | None]:
        """A handshake offering exactly ``protocols`` (see :meth:`HostileConnection.open_offering`)."""
        conn, what, status = HostileConnection.open_offering(
            self.options.url,
            cp_id or self.options.cp_id,
            self.options.security,
            self.tap,
            timeout=self.options.connect_timeout,
            protocols=protocols,
            label=label,
        )
        if conn is not None:
            self.connections.append(conn)
        return conn, what, status

    def refused(self, exc: TransportError) -> Outcome:
        """The outcome of a refused handshake."""
        status = getattr(exc, "status", None)
        return Outcome(refused=str(exc), http_status=status if isinstance(status, int) else None)

    def open_primary(self, boot: bool) -> None:
        """The runner's set-up: connect (and boot) the case's connection."""
        try:
            self._conn = self.target = self.open()
        except TransportError as exc:
            raise SetupFailed(f"cannot connect: {exc}") from None
        if boot:
            outcome = self.call(self._conn, "BootNotification", BOOT)
            if not outcome.answers:
                raise SetupFailed(f"BootNotification not answered: {outcome.describe()}")

    def close_all(self) -> None:
        for conn in self.connections:
            conn.close()

    # ------------------------------------------------------------------ frames

    def new_id(self) -> str:
        self._count += 1
        return f"rb-{self.token}-{self._count}"

    def send(self, conn: HostileConnection, frame: str | bytes, message_id: str | None = None) -> bool:
        """Send one text frame; False (and the failure kept on the connection) when the CSMS closed first."""
        if message_id is not None:
            conn.send_call_id(message_id)
        try:
            conn.send_text(frame)
        except SendFailed:
            return False
        return True

    def send_texts(self, conn: HostileConnection, frames: list[str], message_ids: tuple[str, ...] = ()) -> bool:
        """Several text frames in one write."""
        for message_id in message_ids:
            conn.send_call_id(message_id)
        try:
            conn.send_texts(frames)
        except SendFailed:
            return False
        return True

    def send_binary(self, conn: HostileConnection, data: bytes, message_id: str | None = None) -> bool:
        if message_id is not None:
            conn.send_call_id(message_id)
        try:
            conn.send_binary(data)
        except SendFailed:
            return False
        return True

    def send_fragments(self, conn: HostileConnection, parts: list[bytes], message_id: str | None = None) -> bool:
        if message_id is not None:
            conn.send_call_id(message_id)
        try:
            conn.send_fragments(parts)
        except SendFailed:
            return False
        return True

    def observe(self, conn: HostileConnection, ids: set[str], **kwargs: Any) -> Outcome:
        return observe(conn, ids, self.waits, self.sentinels, **kwargs)

    def call(self, conn: HostileConnection, action: str, payload: Any, message_id: str | None = None) -> Outcome:
        """A CALL (valid or not, as given) and what came back."""
        ident = message_id or self.new_id()
        self.send(conn, dumps([2, ident, action, payload]), ident)
        return self.observe(conn, {ident}, sentinel=False)
