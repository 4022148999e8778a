"""WebSocket transport: security profiles 0-3, one shared ``SSLContext``, subprotocol check.

From the OCPP 1.6 security whitepaper: profile 1 is "Unsecured Transport with Basic
Authentication", profile 2 "TLS with Basic Authentication", profile 3 "TLS with Client Side
Certificates". The Basic auth user name is the charge point id.
"""

from __future__ import annotations

import base64
import functools
import os
import socket
import ssl
import struct
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import websocket

from ocpp_users.ocppj import arrival
from ocpp_users.ocppj.errors import AuthenticationFailed, HandshakeRefused, SubprotocolMismatch, TransportError

DEFAULT_MAX_MESSAGE_SIZE = 1 << 20
"""The largest inbound message (frame, or fragments reassembled) a connection accepts: 1 MiB.

OCPP messages are small: most are under 1 KiB. The largest legitimate ones are lists the charge
point itself bounds: a GetConfiguration.conf (GetConfigurationMaxKeys keys, each CiString50 key
and CiString500 value: about 600 bytes a key, 30 KiB for our 50), a SendLocalList.req
(SendLocalListMaxLength entries of about 150 bytes: 15 KiB for our 100, 1.5 MiB only for 10,000)
and a StopTransaction's transactionData (ours to send, not to receive). 1 MiB leaves a wide margin
for a CSMS's real messages and stops one that announces more from making the charge point buffer
it (``--max-frame-size`` raises it)."""

#: A CSMS's subprotocol answer shown as sent only when it is one of these (else it is in ``detail``).
KNOWN_SUBPROTOCOLS = frozenset({"ocpp1.2", "ocpp1.5", "ocpp1.6", "ocpp2.0", "ocpp2.0.1", "ocpp2.1"})


@dataclass(frozen=True)
class ClientIdentity:
    """A client certificate chain and its private key held in memory (a key the charge point made
    itself), never in a repr. ``key_pem`` is encrypted with ``passphrase``: :func:`client_context`
    hands OpenSSL a private temporary file, deleted at once, that never holds the key in clear."""

    cert_chain_pem: bytes = field(repr=False)
    key_pem: bytes = field(repr=False)
    passphrase: bytes = field(repr=False)


@dataclass(frozen=True)
class SecurityConfig:
    """How a charge point authenticates and what it trusts."""

    profile: int = 0
    """0 plain ws; 1 ws + Basic; 2 wss + Basic; 3 wss + client certificate."""
    password: str | bytes | None = field(default=None, repr=False)
    """The Basic auth password; never logged, never in a repr. Bytes for a binary AuthorizationKey
    (the security whitepaper's key is up to 20 bytes, set over OCPP as hexadecimal)."""
    ca_file: str | None = None
    """A private CA bundle to trust in addition to nothing else (system CAs when unset)."""
    client_cert: str | None = None
    client_key: str | None = None
    verify: bool = True
    """TLS certificate and host name verification; on unless explicitly turned off."""
    ca_data: str | None = None
    """PEM root certificates to trust instead of ``ca_file`` (the charger's installed
    CentralSystemRootCertificates once the CSMS changed them)."""
    identity: ClientIdentity | None = field(default=None, repr=False)
    """A client certificate and key in memory, used instead of ``client_cert``/``client_key``."""

    def check(self, url: str) -> None:
        """Raise ValueError when the profile does not fit the URL or lacks what it needs."""
        scheme = urlsplit(url).scheme
        if self.profile not in (0, 1, 2, 3):
            raise ValueError(f"security profile must be 0, 1, 2 or 3, not {self.profile}")
        if scheme not in ("ws", "wss"):
            raise ValueError(f"URL scheme must be ws or wss, not {scheme or 'missing'!r}")
        if self.profile in (2, 3) and scheme != "wss":
            raise ValueError(f"security profile {self.profile} needs a wss:// URL")
        if self.profile == 1 and scheme != "ws":
            raise ValueError("security profile 1 is plain ws:// with Basic auth; use profile 2 for wss://")
        if self.profile in (1, 2) and not self.password:
            raise ValueError(f"security profile {self.profile} needs a Basic auth password")
        if self.profile == 3 and not (self.client_cert or self.identity):
            raise ValueError("security profile 3 needs a client certificate")


@functools.lru_cache(maxsize=1)
def _system_ca_directory() -> str | None:
    """The system's hashed CA directory, when OpenSSL can look CAs up there one by one (no
    SSL_CERT_FILE override): a context then holds no copy of the whole system bundle (measured:
    ~20 KiB instead of ~840 KiB per context), which matters once every charge point has a TLS
    context of its own (a client certificate per charge point)."""
    paths = ssl.get_default_verify_paths()
    env_file = os.environ.get(paths.openssl_cafile_env)
    if env_file and os.path.realpath(env_file) != os.path.realpath(paths.openssl_cafile):
        return None  # SSL_CERT_FILE names another bundle than the system's: keep to it
    directory = os.environ.get(paths.openssl_capath_env) or paths.openssl_capath
    try:
        names = os.listdir(directory)
    except OSError:
        return None
    hashed = any(len(n) >= 10 and n[8] == "." and n[9:].isdigit() for n in names)
    return directory if hashed else None


def _base_context(ca_file: str | None, ca_data: str | None, verify: bool, own: bool = False) -> ssl.SSLContext:
    """What the charge point trusts: ``ca_data`` (its installed root certificates, plus the
    system's CAs when no ``ca_file`` was given), else ``ca_file``, else the system's CAs (looked up
    in the system's CA directory for a context of one charge point's own, ``own``)."""
    system_dir = _system_ca_directory() if own and ca_file is None else None
    if ca_data is not None:
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cadata=ca_data, capath=system_dir)
        if ca_file is None and system_dir is None:
            ctx.load_default_certs(ssl.Purpose.SERVER_AUTH)
    elif ca_file is None and system_dir is not None:
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, capath=system_dir)
    else:
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca_file)
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


@functools.lru_cache(maxsize=8)
def ssl_context(
    ca_file: str | None,
    client_cert: str | None,
    client_key: str | None,
    verify: bool,
    ca_data: str | None = None,
) -> ssl.SSLContext:
    """One context per distinct configuration, shared by every connection of the process."""
    ctx = _base_context(ca_file, ca_data, verify, own=client_cert is not None)
    if client_cert:
        ctx.load_cert_chain(client_cert, client_key)
    return ctx


def client_context(security: SecurityConfig) -> ssl.SSLContext:
    """The TLS context of ``security``: shared when it names files, its own when the client
    certificate is held in memory (raises OSError, ssl.SSLError or ValueError)."""
    identity = security.identity
    if security.profile in (1, 2):
        # Basic auth profiles present no client certificate, even one kept for an upgrade to 3.
        return ssl_context(security.ca_file, None, None, security.verify, security.ca_data)
    if identity is None:
        return ssl_context(
            security.ca_file, security.client_cert, security.client_key, security.verify, security.ca_data
        )
    ctx = _base_context(security.ca_file, security.ca_data, security.verify, own=True)
    # OpenSSL reads a certificate and key from files only: a private file (0600, in memory where
    # the system offers /dev/shm), holding the key encrypted, removed as soon as it is loaded.
    folder = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix="vocpp-", dir=folder) as tmp:
        cert_path, key_path = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
        for path, data in ((cert_path, identity.cert_chain_pem), (key_path, identity.key_pem)):
            handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(handle, "wb") as out:
                out.write(data)
        ctx.load_cert_chain(cert_path, key_path, password=identity.passphrase)
    return ctx


def basic_auth_header(user: str, password: str | bytes) -> str:
    secret = password if isinstance(password, bytes) else password.encode()
    token = base64.b64encode(user.encode() + b":" + secret).decode("ascii")
    return f"Authorization: Basic {token}"


def charge_point_url(base: str, cp_id: str) -> str:
    """``base`` with the charge point id as the last path segment.

    ``{cp_id}`` (or ``{id}``) in ``base`` is replaced; otherwise the id is appended after a slash,
    SteVe's form: ``ws://host:8180/steve/websocket/CentralSystemService/{cp_id}``.
    """
    ident = quote(cp_id, safe="")
    for placeholder in ("{cp_id}", "{charge_point_id}", "{id}"):
        if placeholder in base:
            return base.replace(placeholder, ident)
    return base.rstrip("/") + "/" + ident


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


_CUT = (":", "'", '"', "{", "[", " -+-+-", "(")


def _fixed_part(exc: BaseException) -> str:
    """The part of a websocket-client message its authors wrote, without what the server sent:
    ``Invalid status line: b'HTTP/1.1 ...'`` -> ``Invalid status line`` (raw handshake bytes never
    go into a reason; they are in the error's ``detail``)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    cut = min((i for i in (text.find(mark) for mark in _CUT) if i >= 0), default=len(text))
    head = text[:cut].strip().rstrip(".,")
    return head[:80] if head else type(exc).__name__


def connect(
    url: str,
    cp_id: str,
    security: SecurityConfig,
    *,
    subprotocol: str,
    timeout: float = 10.0,
    extra_headers: list[str] | None = None,
    context: ssl.SSLContext | None = None,
) -> websocket.WebSocket:
    """Open the WebSocket asking for ``subprotocol`` (``ocpp1.6``) and check the handshake; raise a
    :class:`TransportError` subclass.

    The receive timeout is reset to none after the handshake: a charge point waits for the
    CSMS indefinitely and the engine's own per-call timeouts apply.
    """
    headers = [f"Sec-WebSocket-Protocol: {subprotocol}"]
    if security.profile in (1, 2) and security.password:
        headers.append(basic_auth_header(cp_id, security.password))
    if extra_headers:
        headers.extend(extra_headers)
    options: dict[str, Any] = {"header": headers, "skip_utf8_validation": True, "enable_multithread": True}
    if url.startswith("wss:"):
        try:
            ctx = context if context is not None else client_context(security)
        except (OSError, ssl.SSLError, ValueError) as exc:
            # A missing or unreadable CA file, client certificate or key: one clear reason.
            raise TransportError(f"TLS configuration error: {_describe(exc)}") from None
        options["sslopt"] = {"context": ctx}
    try:
        ws = websocket.create_connection(url, timeout=timeout, **options)
    except websocket.WebSocketBadStatusException as exc:
        status = int(getattr(exc, "status_code", 0) or 0)
        if status in (401, 403):
            raise AuthenticationFailed(f"handshake refused: HTTP {status} (credentials rejected)", status) from None
        raise HandshakeRefused(f"handshake refused: HTTP {status}", status) from None
    except ssl.SSLCertVerificationError as exc:
        raise TransportError(f"TLS certificate verification failed: {exc.verify_message}") from None
    except ssl.SSLError as exc:
        raise TransportError(f"TLS error: {exc.reason or _describe(exc)}") from None
    except ConnectionRefusedError:
        raise TransportError("connection refused") from None
    except socket.gaierror as exc:
        raise TransportError(f"host name lookup failed: {_describe(exc)}") from None
    except TimeoutError:
        raise TransportError(f"connect timed out after {timeout:g} s") from None
    except websocket.WebSocketException as exc:
        raise HandshakeRefused(f"WebSocket handshake failed: {_fixed_part(exc)}").with_detail(str(exc)) from None
    except OSError as exc:
        raise TransportError(f"connection failed: {exc.strerror or _describe(exc)}") from None
    answered = (ws.getheaders() or {}).get("sec-websocket-protocol")
    if not answered or answered.strip().lower() != subprotocol:
        _close_quietly(ws)
        known = answered is not None and answered.strip().lower() in KNOWN_SUBPROTOCOLS
        what = f"{answered.strip()!r}" if known and answered else "another value" if answered else "no subprotocol"
        error = SubprotocolMismatch(f"server did not agree to subprotocol {subprotocol}: it answered {what}")
        raise error.with_detail(f"Sec-WebSocket-Protocol: {answered}" if answered and not known else "")
    ws.settimeout(None)
    return ws


def _close_quietly(ws: websocket.WebSocket) -> None:
    try:
        ws.close(timeout=1)
    except Exception:
        pass


# ---------------------------------------------------------------- the frame hot path
#
# websocket-client does the handshake, close and ping/pong; the per-message path bypasses its
# generic frame objects: one masked write per text frame, and one buffered read that can yield
# several frames (its reader makes two or three small recv() calls per frame). Measured in
# docs/performance.md.

_OP_CONT, _OP_TEXT, _OP_BINARY, _OP_CLOSE, _OP_PING, _OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
_RECV_SIZE = 16384
_ANCILLARY_SIZE = arrival.ANCILLARY_SIZE
_stamp = arrival.stamp
_SO_TIMESTAMPNS = arrival.SO_TIMESTAMPNS
_SOL_SOCKET = socket.SOL_SOCKET
_unpack_timespec = arrival.TIMESPEC.unpack_from
_TIMESPEC_SIZE = arrival.TIMESPEC.size
_time_ns = time.time_ns
_RECV_MAX = 1 << 20

CLOSE_PROTOCOL_ERROR = 1002
"""RFC 6455 §7.4.1: "1002 indicates that an endpoint is terminating the connection due to a
protocol error"."""
CLOSE_MESSAGE_TOO_BIG = 1009
"""RFC 6455 §7.4.1: "1009 indicates that an endpoint is terminating the connection because it has
received a message that is too big for it to process"."""


class ProtocolViolation(websocket.WebSocketProtocolException):
    """A frame that breaks RFC 6455: the connection is failed with close code 1002.

    The message is ours and fixed (no byte of the frame in it): it names the rule broken."""


class MessageTooBig(websocket.WebSocketException):
    """A frame header announced a message larger than the limit; nothing of it was buffered."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"message of {size} bytes announced, limit {limit} bytes")
        self.size = size
        """The announced size: the frame's payload length (plus the fragments before it)."""
        self.limit = limit


_urandom = os.urandom
_from_bytes = int.from_bytes


class _MaskKeys:
    """Masking keys from the OS's strong random source (RFC 6455 §5.3: "MUST be derived from a
    strong source of entropy"), read 4 KiB at a time instead of one system call per frame."""

    __slots__ = ("_buffer", "_offset")

    def __init__(self) -> None:
        self._buffer = b""
        self._offset = 0

    def next(self) -> bytes:
        offset = self._offset
        if offset + 4 > len(self._buffer):
            self._buffer, offset = _urandom(4096), 0
        self._offset = offset + 4
        return self._buffer[offset : offset + 4]

    def forget(self) -> None:
        """A forked child must not reuse its parent's keys."""
        self._buffer, self._offset = b"", 0


_mask_keys = _MaskKeys()
os.register_at_fork(after_in_child=_mask_keys.forget)


def _mask(payload: bytes, key: bytes) -> bytes:
    n = len(payload)
    if n == 0:
        return payload
    return (_from_bytes(payload, "little") ^ _from_bytes((key * ((n >> 2) + 1))[:n], "little")).to_bytes(n, "little")


def encode_text_frame(payload: bytes) -> bytes:
    """One final, masked text frame (RFC 6455 §5.2; a client masks with a fresh random key)."""
    n = len(payload)
    if n < 126:
        header = bytes((0x81, 0x80 | n))
    elif n < 65536:
        header = struct.pack("!BBH", 0x81, 0xFE, n)
    else:
        header = struct.pack("!BBQ", 0x81, 0xFF, n)
    key = _mask_keys.next()
    return header + key + _mask(payload, key)


def send_text(ws: websocket.WebSocket, payload: bytes) -> int:
    """Send ``payload`` as one text frame on ``ws`` (under its send lock, as ``ws.send`` does);
    return the wall-clock time (ns) just before the frame was handed to the socket."""
    sock = ws.sock
    if sock is None or not ws.connected:
        # RFC 6455 §5.5.1: "After sending a Close frame, the endpoint MUST NOT send any further data
        # frames" (websocket-client clears ``connected`` when it sends one).
        raise websocket.WebSocketConnectionClosedException("socket is already closed.")
    data = encode_text_frame(payload)
    with ws.lock:
        # send(), not sendall(): gevent's sendall() asks the kernel for SO_SNDBUF on every call.
        handed_ns = _time_ns()
        sent = sock.send(data)
        while sent < len(data):
            data = data[sent:]
            sent = sock.send(data)
    return handed_ns


class FrameReader:
    """Reads whole data messages from a connected ``websocket.WebSocket``.

    :meth:`next` returns ``(opcode, payload)`` for text, binary and close frames, reassembling
    fragmented messages; pings are answered with a pong and pongs are skipped, as
    ``WebSocket.recv_data`` does. Raises ``WebSocketConnectionClosedException`` when the peer
    closes the TCP connection, :class:`ProtocolViolation` on a frame that breaks RFC 6455 (a
    masked one included), :class:`MessageTooBig` when a header announces more than ``max_size``
    bytes (checked before anything of the payload is read), ``OSError`` on a socket error.
    """

    __slots__ = (
        "_buf",
        "_fragment_size",
        "_fragments",
        "_opcode",
        "_recvmsg",
        "_sock",
        "_stamped",
        "_wait",
        "arrived_ns",
        "max_size",
        "pongs",
        "ws",
    )

    def __init__(self, ws: websocket.WebSocket, max_size: int = DEFAULT_MAX_MESSAGE_SIZE) -> None:
        self.ws = ws
        self.max_size = max_size
        """The largest message accepted, in bytes (a fragmented one counted as a whole)."""
        self._buf = b""
        self._fragments: list[bytes] | None = None
        self._fragment_size = 0
        self._opcode = 0
        self.pongs = 0
        """Pong frames received (a WebSocket ping sender checks its pings are answered)."""
        self._sock: Any = None
        self._wait: Callable[[Any], object] | None = None
        self._stamped = False
        self._recvmsg: Callable[[int, int], tuple[bytes, list[tuple[int, int, bytes]], int, Any]] | None = None
        self.arrived_ns = 0
        """When the bytes of the last message returned arrived (wall-clock ns): the kernel's receive
        timestamp on a plain socket, else when this reader read them (see :mod:`.arrival`)."""
        sock = getattr(ws, "sock", None)
        if sock is not None:
            self._waiter(sock)  # now: the kernel stamps only what arrives once it has been asked to

    def _waiter(self, sock: Any) -> Callable[[Any], object] | None:
        """How to wait until ``sock`` is readable before a read, or None (worked out once per socket).

        A plain gevent socket: wait until readable, then read (gevent's recv() would first try,
        fail with EAGAIN and raise/catch an exception on every message). Not for TLS: decrypted
        bytes may already wait in the SSL object, invisible to poll. The read watcher itself is
        read again before every wait: closing the socket (another greenlet's shutdown) closes it and
        sets it to None, and waiting on a closed libev watcher aborts the process. Such a socket
        also carries the kernel's receive timestamps when the platform has them."""
        self._sock = sock
        wait = getattr(sock, "_wait", None)
        usable = wait is not None and getattr(sock, "_read_event", None) is not None and not hasattr(sock, "_sslobj")
        self._wait = wait if usable else None
        # Read with the plain socket's own recvmsg once it is readable (gevent's wrapper would try,
        # then wait, in Python, for each read).
        plain = getattr(sock, "_sock", None)
        self._recvmsg = getattr(plain, "recvmsg", None)
        self._stamped = usable and self._recvmsg is not None and arrival.enable(sock)
        return self._wait

    def _fill(self, need: int) -> bytes:
        """The buffer, after reading until it holds at least ``need`` bytes."""
        sock = self.ws.sock
        if sock is None:
            raise websocket.WebSocketConnectionClosedException("socket is already closed.")
        wait = self._wait if sock is self._sock else self._waiter(sock)
        buf = self._buf
        parts = [buf] if buf else []
        have = len(buf)
        stamped = self._stamped
        while have < need:
            if wait is not None:
                watcher = getattr(sock, "_read_event", None)  # None once closed: recv() then says so
                if watcher is not None:
                    wait(watcher)
            if stamped:
                try:
                    chunk, ancillary, _flags, _address = self._recvmsg(  # type: ignore[misc]
                        min(max(_RECV_SIZE, need - have), _RECV_MAX), _ANCILLARY_SIZE
                    )
                except BlockingIOError:
                    continue  # woken with nothing to read: wait again
                if ancillary:
                    level, kind, data = ancillary[0]  # the one control message asked for, the common case
                    if kind == _SO_TIMESTAMPNS and level == _SOL_SOCKET and len(data) == _TIMESPEC_SIZE:
                        seconds, nanoseconds = _unpack_timespec(data)
                        self.arrived_ns = seconds * 1_000_000_000 + nanoseconds
                    else:
                        self.arrived_ns = _stamp(ancillary)
                else:
                    self.arrived_ns = _time_ns()
            else:
                chunk = sock.recv(min(max(_RECV_SIZE, need - have), _RECV_MAX))
                self.arrived_ns = _time_ns()
            if not chunk:
                raise websocket.WebSocketConnectionClosedException("Connection to remote host was lost.")
            parts.append(chunk)
            have += len(chunk)
        buf = self._buf = parts[0] if len(parts) == 1 else b"".join(parts)
        return buf

    def next(self) -> tuple[int, bytes]:
        while True:
            opcode, fin, payload = self._frame()
            if opcode == _OP_TEXT or opcode == _OP_BINARY:
                if self._fragments is not None:
                    raise ProtocolViolation("new message before the previous one ended")
                if fin:
                    return opcode, payload
                self._fragments = [payload]
                self._fragment_size = len(payload)
                self._opcode = opcode
            elif opcode == _OP_CONT:
                if self._fragments is None:
                    raise ProtocolViolation("continuation frame without a message")
                self._fragments.append(payload)
                self._fragment_size += len(payload)
                if fin:
                    data = b"".join(self._fragments)
                    self._fragments = None
                    self._fragment_size = 0
                    return self._opcode, data
            elif opcode == _OP_CLOSE:
                if self.ws.connected:
                    try:
                        self.ws.send_close()
                    except (OSError, websocket.WebSocketException):
                        pass
                return opcode, payload
            elif opcode == _OP_PING:
                self.ws.pong(payload)
            elif opcode == _OP_PONG:
                self.pongs += 1
            else:
                raise ProtocolViolation("reserved opcode")

    def _frame(self) -> tuple[int, int, bytes]:
        buf = self._buf
        if len(buf) < 2:
            buf = self._fill(2)
        b0, b1 = buf[0], buf[1]
        if b0 & 0x70:
            raise ProtocolViolation("reserved bits set")
        if b1 & 0x80:
            # RFC 6455 §5.1: "A client MUST close a connection if it detects a masked frame."
            raise ProtocolViolation("masked frame from the server")
        opcode = b0 & 0x0F
        length = b1 & 0x7F
        pos = 2
        if length >= 126:
            pos = 4 if length == 126 else 10
            if len(buf) < pos:
                buf = self._fill(pos)
            length = _from_bytes(buf[2:pos], "big")
            if length >> 63:
                # RFC 6455 §5.2: "the most significant bit MUST be 0".
                raise ProtocolViolation("payload length with the most significant bit set")
        if opcode >= 0x8:
            if length > 125 or not b0 & 0x80:
                raise ProtocolViolation("control frame longer than 125 bytes or fragmented")
        else:
            # The header announces the size: refuse it before buffering any of it.
            size = length + (self._fragment_size if opcode == _OP_CONT else 0)
            if size > self.max_size:
                raise MessageTooBig(size, self.max_size)
        end = pos + length
        if len(buf) < end:
            buf = self._fill(end)
        if pos == 2 and end == len(buf):
            payload = buf[2:]
        else:
            payload = buf[pos:end]
        if end < len(buf):
            self._buf = buf[end:]
            # More came with this frame in the same read: the kernel's stamp is the last packet's,
            # possibly merged with this one's, so it may be earlier than this frame's arrival (a
            # lost and resent frame overtaken by the next). The time now is never earlier.
            self.arrived_ns = _time_ns()
        else:
            self._buf = b""
        return opcode, b0 & 0x80, payload
