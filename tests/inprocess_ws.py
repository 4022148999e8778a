"""A ``websockets`` sync server run inside the test process (under gevent), safely.

``websockets.sync.server.Server.serve_forever`` registers its listening socket and its shutdown
pipe with a ``selectors.DefaultSelector`` that it never closes, and ``shutdown()`` closes both
files while they are still registered. Under gevent's monkey-patching that selector is gevent's
``GeventSelector``, which keeps an event-loop (libev) watcher started per registered file until
the selector is closed ("it is documented and required that files not be closed while they are
registered"). The watcher of the closed file stays in the loop; once its descriptor number is
reused and closed again, libev asks epoll to watch a closed descriptor and aborts the whole test
process ("libev: I/O watcher with invalid fd found in epoll_ctl", seen in CI as "Fatal Python
error: Aborted" in a later, unrelated test). :func:`serve_in_process` gives the server a selector
whose watchers live only while it waits.
"""

from __future__ import annotations

import selectors
import threading
import types
from collections.abc import Callable
from typing import Any

import gevent.select
import websockets.sync.server as sync_server
from websockets.sync.server import Server, ServerConnection, serve


class _WaitOnlySelector:
    """Just what ``serve_forever`` uses of a selector, with no watcher left once ``select`` returns
    (``gevent.select.select`` makes its watchers for the call and closes them after it)."""

    def __init__(self) -> None:
        self._files: list[Any] = []

    def register(self, fileobj: Any, events: int, data: object = None) -> None:
        self._files.append(fileobj)

    def select(self, timeout: float | None = None) -> list[Any]:
        try:
            gevent.select.select(self._files, [], [], timeout)
        except (OSError, ValueError):
            pass  # a file closed meanwhile (shutdown): serve_forever's accept() then ends the loop
        return []

    def close(self) -> None:
        self._files = []


sync_server.selectors = types.SimpleNamespace(  # type: ignore[assignment]
    DefaultSelector=_WaitOnlySelector, EVENT_READ=selectors.EVENT_READ
)


def serve_in_process(handler: Callable[[ServerConnection], None], **options: Any) -> Server:
    """``websockets.sync.server.serve`` on an ephemeral loopback port, serving in a greenlet."""
    server = serve(handler, "127.0.0.1", 0, **options)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
