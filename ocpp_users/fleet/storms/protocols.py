"""What the storms need of a charge point (and of its connectors and settings)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import gevent


class ConnectorLike(Protocol):
    """The parts of a connector that the storms read."""

    @property
    def charging(self) -> bool: ...

    @property
    def session(self) -> gevent.Greenlet | None: ...


class BackoffSettings(Protocol):
    """The reconnect setting a rolling restart may override for its wave."""

    backoff_jitter: float


class ChargePointLike(Protocol):
    """The parts of a charge point that the storms use.

    An optional ``connector_free(connector_id) -> bool`` is looked up with ``getattr``.
    """

    @property
    def cp_id(self) -> str: ...

    @property
    def connected(self) -> bool: ...

    @property
    def stopping(self) -> bool: ...

    @property
    def registration(self) -> str | None: ...

    @property
    def connectors(self) -> Mapping[int, ConnectorLike]: ...

    @property
    def settings(self) -> BackoffSettings: ...

    def drop(self) -> None: ...

    def start_session(self, connector_id: int, id_tag: str, duration_s: float | None) -> gevent.Greenlet: ...
