"""The hostile charge point's WebSocket: the engine's handshake, then raw frames written and read here.

The opening handshake (URL, subprotocol, Basic auth, TLS and client certificates: security
profiles 0-3) is :func:`ocpp_users.ocppj.transport.connect`. After it this module owns the
socket: it writes frames byte for byte (RFC 6455 §5.2, masked as a client must), so a case can
send what no well-behaved library would (invalid UTF-8 in a text frame, a binary frame, a
fragmented message, a frame of 64 MB streamed in chunks, one byte at a time), and it reads with a
deadline on every wait, answering pings and reassembling fragments, never buffering more than
:data:`MAX_INBOUND` bytes of one message.
"""

from __future__ import annotations

import os
import socket
import struct
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

import websocket

from ocpp_users.ocppj.transport import SecurityConfig, basic_auth_header, charge_point_url, connect, ssl_context

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
MAX_INBOUND = 16 * 1024 * 1024
"""The largest message we accept from the CSMS (a CSMS must not flood the tester either)."""
WIRE_TEXT_LIMIT = 1000
"""Characters of one frame kept in the wire log; the rest is counted."""
CHUNK = 1 << 20

WireHook = Callable[[str, str], None]
"""``hook(direction, text)``: ``out`` = charge point to CSMS, ``in`` = CSMS to charge point."""


class SendFailed(Exception):
    """The CSMS closed the connection (or stopped reading) while we were sending."""


@dataclass
class Received:
    """One thing the CSMS did on the connection."""

    kind: Literal["text", "binary", "close", "eof", "oversized"]
    data: bytes = b""
    close_code: int | None = None
    close_reason: str = ""
    at: float = 0.0

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", "replace")

    def describe(self) -> str:
        if self.kind == "close":
            code = f"close code {self.close_code}" if self.close_code is not None else "no close code"
            reason = f' "{self.close_reason[:100]}"' if self.close_reason else ""
            return f"the CSMS closed the connection ({code}{reason})"
        if self.kind == "eof":
            return "the connection dropped without a close frame"
        if self.kind == "oversized":
            return f"the CSMS sent a message over {MAX_INBOUND} bytes"
        return f"a {self.kind} frame of {len(self.data)} bytes"


def _mask(payload: bytes, key: bytes) -> bytes:
    n = len(payload)
    if not n:
        return payload
    stream = (key * ((n >> 2) + 1))[:n]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(stream, "little")).to_bytes(n, "little")


def frame_header(opcode: int, length: int, fin: bool = True) -> bytes:
    """The header of a masked client frame (RFC 6455 §5.2), without the masking key."""
    first = (0x80 if fin else 0) | opcode
    if length < 126:
        return struct.pack("!BB", first, 0x80 | length)
    if length < 65536:
        return struct.pack("!BBH", first, 0xFE, length)
    return struct.pack("!BBQ", first, 0xFF, length)


def encode_frame(opcode: int, payload: bytes, fin: bool = True, key: bytes | None = None) -> bytes:
    """One masked client frame: a client "MUST mask all frames that it sends" (RFC 6455 §5.3)."""
    key = key if key is not None else os.urandom(4)
    return frame_header(opcode, len(payload), fin) + key + _mask(payload, key)


def shown(data: bytes | str, binary: bool = False) -> str:
    """A frame as the wire log shows it: text up to :data:`WIRE_TEXT_LIMIT` characters, binary as hex."""
    if binary:
        raw = data.encode() if isinstance(data, str) else data
        more = f"... ({len(raw)} bytes)" if len(raw) > 64 else ""
        return f"<binary frame> {raw[:64].hex(' ')}{more}"
    if isinstance(data, bytes):
        text = data[: WIRE_TEXT_LIMIT * 4].decode("utf-8", "replace")
        size = len(data)
    else:
        text, size = data, len(data.encode("utf-8", "surrogatepass"))
    if len(text) > WIRE_TEXT_LIMIT:
        return f"{text[:WIRE_TEXT_LIMIT]}... ({size:,} bytes)"
    return text


class HostileConnection:
    """One WebSocket to the CSMS on which a case writes and reads raw frames."""

    def __init__(self, ws: websocket.WebSocket, hook: WireHook, label: str = "") -> None:
        self.ws = ws
        sock = ws.sock
        if sock is None:
            raise SendFailed("the WebSocket has no socket")
        self.sock: socket.socket = sock
        self.hook = hook
        self.label = label
        self.subprotocol = (ws.getheaders() or {}).get("sec-websocket-protocol")
        self.sent_ids: set[str] = set()
        """Message ids of CALLs sent on this connection (answers to others are strays)."""
        self.closed: Received | None = None
        """The close frame or drop, once the CSMS closed the connection."""
        self.send_error: str | None = None
        self.dirty = False
        """A frame was left half-written: the connection can carry no more frames."""
        self._buf = bytearray()
        self._fragments: list[bytes] | None = None
        self._fragment_op = OP_TEXT
        self._closed_by_us = False

    @classmethod
    def open(
        cls,
        url: str,
        cp_id: str,
        security: SecurityConfig,
        hook: WireHook,
        *,
        timeout: float,
        subprotocol: str = "ocpp1.6",
        label: str = "",
        extra_headers: list[str] | None = None,
    ) -> HostileConnection:
        """Open the WebSocket for ``cp_id`` through the engine's transport; raises its TransportError."""
        ws = connect(
            charge_point_url(url, cp_id),
            cp_id,
            security,
            subprotocol=subprotocol,
            timeout=timeout,
            extra_headers=extra_headers,
        )
        conn = cls(ws, hook, label)
        conn._log("out", f"<connected as {cp_id}, subprotocol {conn.subprotocol}>")
        return conn

    @classmethod
    def open_offering(
        cls,
        url: str,
        cp_id: str,
        security: SecurityConfig,
        hook: WireHook,
        *,
        timeout: float,
        protocols: list[str] | None,
        label: str = "",
    ) -> tuple[HostileConnection | None, str, int | None]:
        """A handshake offering exactly ``protocols`` (None: no Sec-WebSocket-Protocol header at all) and
        accepting whatever the CSMS answers, which the engine's transport would refuse: (the connection
        or None, what happened, the HTTP status of a refusal). Credentials and TLS as the engine's."""
        headers = [] if protocols is None else [f"Sec-WebSocket-Protocol: {', '.join(protocols)}"]
        if security.profile in (1, 2) and security.password:
            headers.append(basic_auth_header(cp_id, security.password))
        options: dict[str, Any] = {"header": headers, "skip_utf8_validation": True}
        if url.startswith("wss:"):
            context = ssl_context(security.ca_file, security.client_cert, security.client_key, security.verify)
            options["sslopt"] = {"context": context}
        offered = ", ".join(protocols) if protocols else "no subprotocol"
        hook(
            "out",
            f"[{label}] <handshake as {cp_id} offering {offered}>" if label else f"<handshake offering {offered}>",
        )
        try:
            ws = websocket.create_connection(charge_point_url(url, cp_id), timeout=timeout, **options)
        except websocket.WebSocketBadStatusException as exc:
            status = int(getattr(exc, "status_code", 0) or 0)
            hook("in", f"<handshake refused: HTTP {status}>")
            return None, f"HTTP {status}", status
        except (websocket.WebSocketException, OSError) as exc:
            hook("in", f"<handshake failed: {type(exc).__name__}: {exc}>")
            return None, f"{type(exc).__name__}: {exc}", None
        conn = cls(ws, hook, label)
        agreed = conn.subprotocol
        conn._log("in", f"<101 Switching Protocols, Sec-WebSocket-Protocol: {agreed or '(none)'}>")
        what = (
            f"the handshake completed with subprotocol {agreed!r}"
            if agreed
            else "the handshake completed without a Sec-WebSocket-Protocol header"
        )
        return conn, what, None

    # ------------------------------------------------------------------ state

    @property
    def usable(self) -> bool:
        """Still open both ways, at a frame boundary."""
        return self.closed is None and not self._closed_by_us and self.send_error is None and not self.dirty

    def _log(self, direction: str, text: str) -> None:
        self.hook(direction, f"[{self.label}] {text}" if self.label else text)

    # ------------------------------------------------------------------ sending

    def _write(self, data: bytes | Iterable[bytes], timeout: float) -> None:
        chunks = [data] if isinstance(data, bytes) else data
        try:
            self.sock.settimeout(timeout)
            for chunk in chunks:
                self.sock.sendall(chunk)
        except (OSError, ValueError) as exc:
            reason = "the CSMS stopped reading" if isinstance(exc, TimeoutError) else f"{type(exc).__name__}: {exc}"
            self.send_error = reason
            self.dirty = True
            raise SendFailed(reason) from None

    def send_text(self, text: str | bytes, timeout: float = 30.0) -> None:
        """One text frame; ``bytes`` go as they are (invalid UTF-8 included)."""
        payload = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
        self._log("out", shown(payload))
        self._write(encode_frame(OP_TEXT, payload), timeout)

    def send_texts(self, texts: list[str], timeout: float = 30.0) -> None:
        """Several text frames in one write (they reach the CSMS together)."""
        payloads = [t.encode("utf-8") for t in texts]
        for payload in payloads:
            self._log("out", shown(payload))
        self._write(b"".join(encode_frame(OP_TEXT, p) for p in payloads), timeout)

    def send_binary(self, payload: bytes, timeout: float = 30.0) -> None:
        self._log("out", shown(payload, binary=True))
        self._write(encode_frame(OP_BINARY, payload), timeout)

    def send_fragments(self, parts: list[bytes], timeout: float = 30.0) -> None:
        """One text message as a text frame and continuation frames (RFC 6455 §5.4)."""
        self._log("out", f"<{len(parts)} fragments> " + shown(b"".join(parts)))
        frames = [
            encode_frame(OP_TEXT if i == 0 else OP_CONT, part, fin=i == len(parts) - 1) for i, part in enumerate(parts)
        ]
        self._write(b"".join(frames), timeout)

    def send_large_text(self, prefix: bytes, fill: bytes, count: int, suffix: bytes, timeout: float) -> None:
        """A text frame ``prefix + fill * count + suffix`` streamed in 1 MiB chunks (``fill`` is one byte),
        so a 64 MB frame costs us a megabyte of memory, not two copies of 64."""
        if len(fill) != 1:
            raise ValueError("fill must be one byte")
        total = len(prefix) + count + len(suffix)
        key = os.urandom(4)
        self._log("out", f"{prefix.decode('utf-8', 'replace')}{fill.decode()}... ({total:,} bytes)")

        def chunks() -> Iterable[bytes]:
            yield frame_header(OP_TEXT, total) + key
            offset = 0
            for part in (prefix, None, suffix):
                if part is None:
                    block = _mask(fill * CHUNK, _rotate(key, offset)) if count >= CHUNK else b""
                    left = count
                    while left >= CHUNK:
                        yield block  # CHUNK is a multiple of 4: every full block masks the same way
                        left -= CHUNK
                    offset += count - left
                    if left:
                        yield _mask(fill * left, _rotate(key, offset))
                        offset += left
                else:
                    yield _mask(part, _rotate(key, offset))
                    offset += len(part)

        self._write(chunks(), timeout)

    def send_slowly(self, payload: bytes, pause: float, deadline: float) -> int:
        """One text frame written a byte at a time, ``pause`` seconds apart, until ``deadline``
        (monotonic); returns the bytes written. A frame not finished by then leaves the connection
        unusable (:attr:`dirty`)."""
        data = encode_frame(OP_TEXT, payload)
        self._log("out", f"<one byte every {pause:g} s> " + shown(payload))
        written = 0
        while written < len(data):
            if time.monotonic() >= deadline:
                self.dirty = True
                self._log("out", f"<stopped after {written} of {len(data)} bytes>")
                return written
            self._write(data[written : written + 1], max(0.1, deadline - time.monotonic()))
            written += 1
            if written < len(data):
                time.sleep(pause)
        return written

    def send_call_id(self, message_id: str) -> None:
        self.sent_ids.add(message_id)

    # ------------------------------------------------------------------ receiving

    def _fill(self, deadline: float) -> bool:
        """Read more bytes; False at the deadline. Raises EOFError when the peer closed TCP."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        try:
            self.sock.settimeout(remaining)
            chunk = self.sock.recv(65536)
        except TimeoutError:
            return False
        except OSError as exc:
            raise EOFError(str(exc)) from None
        if not chunk:
            raise EOFError("end of stream")
        self._buf += chunk
        return True

    def _frame(self) -> tuple[int, bool, bytes] | None:
        """The next complete frame in the buffer (unmasked), or None."""
        buf = self._buf
        if len(buf) < 2:
            return None
        fin, opcode, masked, length = buf[0] & 0x80, buf[0] & 0x0F, buf[1] & 0x80, buf[1] & 0x7F
        pos = 2
        if length >= 126:
            pos = 4 if length == 126 else 10
            if len(buf) < pos:
                return None
            length = int.from_bytes(buf[2:pos], "big")
        if length > MAX_INBOUND:
            raise OverflowError(length)
        end = pos + (4 if masked else 0) + length
        if len(buf) < end:
            return None
        payload = bytes(buf[pos + 4 : end]) if masked else bytes(buf[pos:end])
        if masked:
            payload = _mask(payload, bytes(buf[pos : pos + 4]))
        del buf[:end]
        return opcode, bool(fin), payload

    def receive(self, timeout: float) -> Received | None:
        """The next message, close or drop within ``timeout`` seconds; None when nothing came."""
        if self.closed is not None:
            return None
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            try:
                frame = self._frame()
            except OverflowError:
                return self._finish(Received("oversized", at=time.time()))
            if frame is None:
                try:
                    if not self._fill(deadline):
                        return None
                except EOFError:
                    return self._finish(Received("eof", at=time.time()))
                continue
            opcode, fin, payload = frame
            if opcode == OP_PING:
                self._pong(payload)
            elif opcode == OP_PONG:
                continue
            elif opcode == OP_CLOSE:
                code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
                reason = payload[2:].decode("utf-8", "replace")
                self._reply_close(payload[:2])
                return self._finish(Received("close", close_code=code, close_reason=reason, at=time.time()))
            elif opcode in (OP_TEXT, OP_BINARY) and fin and self._fragments is None:
                return self._message(opcode, payload)
            elif opcode in (OP_TEXT, OP_BINARY):
                self._fragments, self._fragment_op = [payload], opcode
            elif opcode == OP_CONT and self._fragments is not None:
                self._fragments.append(payload)
                if sum(len(p) for p in self._fragments) > MAX_INBOUND:
                    return self._finish(Received("oversized", at=time.time()))
                if fin:
                    data, self._fragments = b"".join(self._fragments), None
                    return self._message(self._fragment_op, data)
            else:
                self._log("in", f"<frame with opcode {opcode:#x}: not a valid WebSocket frame here>")

    def _message(self, opcode: int, data: bytes) -> Received:
        kind: Literal["text", "binary"] = "text" if opcode == OP_TEXT else "binary"
        self._log("in", shown(data, binary=kind == "binary"))
        return Received(kind, data, at=time.time())

    def _finish(self, received: Received) -> Received:
        self.closed = received
        self._log("in", f"<{received.describe()}>")
        self._close_socket()
        return received

    def _pong(self, payload: bytes) -> None:
        try:
            self.sock.sendall(encode_frame(OP_PONG, payload))
        except OSError:
            pass

    def _reply_close(self, code: bytes) -> None:
        if self.dirty:
            return
        try:
            self.sock.settimeout(1.0)
            self.sock.sendall(encode_frame(OP_CLOSE, code))
        except OSError:
            pass

    # ------------------------------------------------------------------ closing

    def close(self) -> None:
        """Close from our side (a close frame when the connection is at a frame boundary)."""
        if self._closed_by_us:
            return
        self._closed_by_us = True
        if self.closed is None and not self.dirty:
            try:
                self.sock.settimeout(1.0)
                self.sock.sendall(encode_frame(OP_CLOSE, struct.pack("!H", 1000)))
            except OSError:
                pass
        self._close_socket()

    def _close_socket(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def _rotate(key: bytes, offset: int) -> bytes:
    """The masking key as seen from byte ``offset`` of the payload."""
    shift = offset % 4
    return key[shift:] + key[:shift]
