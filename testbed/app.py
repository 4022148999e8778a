"""Wiring: build state, start the OCPP endpoint and the control API, run until signalled."""

from __future__ import annotations

import asyncio
import logging
import signal
import ssl
from dataclasses import dataclass, field
from typing import Any

from testbed.api import ControlApi
from testbed.ca import CertificateAuthority
from testbed.faults import FaultSwitch
from testbed.httpserver import start_http_server
from testbed.logsetup import loop_exception_handler
from testbed.passwords import Passwords
from testbed.registry import Registry
from testbed.server import OcppServer
from testbed.state import Config, Store
from testbed.tags import TagEntry, TagStore

LOG = logging.getLogger("testbed")
API_HOST = "127.0.0.1"


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 9000
    api_port: int = 0
    config: Config = field(default_factory=Config)
    tags: list[TagEntry] = field(default_factory=list)
    accept_prefix: str = "VOCPP-LOAD-"
    basic_auth_password: str | None = None
    passwords: dict[str, bytes] = field(default_factory=dict)
    """Per charge point Basic auth passwords (``--passwords-file``)."""
    ssl_context: ssl.SSLContext | None = None
    tls_port: int | None = None
    """With a TLS context: serve wss on this port and ws on ``port``."""
    ca: CertificateAuthority | None = None
    fault: dict[str, Any] | None = None
    log_frames: bool = False
    max_messages: int = 10000
    ping_interval: float | None = None
    quiet: bool = False


def url_host(host: str) -> str:
    """Host as it should appear in a URL printed for clients."""
    if host in ("", "0.0.0.0", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


async def run(settings: Settings) -> int:
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(loop_exception_handler)
    passwords = Passwords(settings.basic_auth_password, settings.passwords)
    tags = TagStore(settings.tags, settings.accept_prefix)
    store = Store(settings.config, tags, settings.max_messages, passwords, settings.ca)
    faults = FaultSwitch(settings.fault)
    registry = Registry()
    ocpp = OcppServer(
        store,
        faults,
        registry,
        ssl_context=settings.ssl_context,
        log_frames=settings.log_frames,
        ping_interval=settings.ping_interval,
    )
    api = ControlApi(store, faults, registry)
    split = settings.ssl_context is not None and settings.tls_port is not None
    try:
        port = await ocpp.start(settings.host, settings.port, tls=not split)
        tls_port = await ocpp.start(settings.host, settings.tls_port or 0) if split else None
        api_server = await start_http_server(api.handle, API_HOST, settings.api_port)
    except OSError as exc:
        LOG.error("cannot listen: %s", exc)
        await ocpp.stop()
        return 1
    api_port = int(api_server.sockets[0].getsockname()[1])
    scheme = "wss" if settings.ssl_context is not None and not split else "ws"
    print(f"testbed: OCPP 1.6J CSMS listening on {scheme}://{url_host(settings.host)}:{port}/", flush=True)
    if tls_port is not None:
        print(f"testbed: TLS listener on wss://{url_host(settings.host)}:{tls_port}/", flush=True)
    print(f"testbed: control API on http://{API_HOST}:{api_port}", flush=True)

    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - non-Unix
            pass
    await stop.wait()
    LOG.info("shutting down (%d charge point(s) connected)", len(registry))
    api_server.close()
    await ocpp.stop()
    return 0
