"""A minimal asyncio HTTP/1.1 server speaking JSON (for the control API)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, unquote

LOG = logging.getLogger("testbed.http")
MAX_BODY = 16 * 1024 * 1024
MAX_HEADERS = 100
IDLE_TIMEOUT = 120.0


@dataclass
class HttpRequest:
    method: str
    target: str
    segments: list[str]
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes = b""


@dataclass
class HttpResponse:
    status: int
    body: Any = field(default_factory=dict)


Handler = Callable[[HttpRequest], Awaitable[HttpResponse]]


class BadRequest(Exception):
    pass


def split_target(target: str) -> tuple[list[str], dict[str, str]]:
    path, _, query = target.partition("?")
    segments = [unquote(s, errors="replace") for s in path.split("/") if s]
    return segments, dict(parse_qsl(query, keep_blank_values=True))


async def _read_request(reader: asyncio.StreamReader) -> HttpRequest | None:
    line = await reader.readline()
    if not line:
        return None
    try:
        method, target, version = line.decode("latin-1").strip().split(" ")
    except ValueError:
        raise BadRequest("malformed request line") from None
    if not version.startswith("HTTP/1."):
        raise BadRequest("unsupported HTTP version")
    headers: dict[str, str] = {}
    while True:
        raw = await reader.readline()
        if raw in (b"\r\n", b"\n"):
            break
        if not raw:
            raise BadRequest("connection closed inside headers")
        name, sep, value = raw.decode("latin-1").partition(":")
        if not sep or len(headers) >= MAX_HEADERS:
            raise BadRequest("malformed or too many headers")
        headers[name.strip().lower()] = value.strip()
    if version == "HTTP/1.0" and "connection" not in headers:
        headers["connection"] = "close"
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raise BadRequest("chunked request bodies are not supported; send Content-Length")
    try:
        length = int(headers.get("content-length", "0"))
    except ValueError:
        raise BadRequest("bad Content-Length") from None
    if not 0 <= length <= MAX_BODY:
        raise BadRequest("bad Content-Length")
    body = await reader.readexactly(length) if length else b""
    segments, query = split_target(target)
    return HttpRequest(method.upper(), target, segments, query, headers, body)


def _encode(response: HttpResponse, keep_alive: bool) -> bytes:
    body = json.dumps(response.body, ensure_ascii=False).encode("utf-8")
    try:
        reason = HTTPStatus(response.status).phrase
    except ValueError:
        reason = "Unknown"
    head = (
        f"HTTP/1.1 {response.status} {reason}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n"
        "\r\n"
    )
    return head.encode("latin-1") + body


async def _serve_client(handler: Handler, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            try:
                request = await asyncio.wait_for(_read_request(reader), IDLE_TIMEOUT)
            except (BadRequest, ValueError) as exc:  # ValueError: line longer than the reader limit
                message = str(exc) if isinstance(exc, BadRequest) else "request line or header too long"
                writer.write(_encode(HttpResponse(400, {"error": message}), keep_alive=False))
                await writer.drain()
                return
            if request is None:
                return
            try:
                response = await handler(request)
            except Exception as exc:
                LOG.error("control API %s %s failed: %s: %s", request.method, request.target, type(exc).__name__, exc)
                response = HttpResponse(500, {"error": f"internal error: {type(exc).__name__}"})
            keep_alive = request.headers.get("connection", "").lower() != "close"
            writer.write(_encode(response, keep_alive))
            await writer.drain()
            if not keep_alive:
                return
    except (ConnectionError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
        return
    finally:
        writer.close()


async def start_http_server(handler: Handler, host: str, port: int) -> asyncio.Server:
    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await _serve_client(handler, reader, writer)
        except asyncio.CancelledError:
            # Shutting down.  Ending normally keeps asyncio (3.11) from logging the
            # cancelled client task as an error.
            writer.close()

    return await asyncio.start_server(on_client, host, port)
