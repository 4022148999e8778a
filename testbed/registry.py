"""Which Session currently serves which charge point id."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from testbed.session import Session


class Registry:
    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}
        self._open: dict[Session, dict[str, object]] = {}

    def opened(self, session: Session, info: dict[str, object]) -> None:
        """A connection is open (whether or not it is the current one for its id)."""
        self._open[session] = info

    def closed(self, session: Session) -> None:
        self._open.pop(session, None)

    def open_connections(self) -> list[dict[str, object]]:
        """Every open WebSocket connection, current or replaced, oldest first."""
        return [{**info, "current": self._sessions.get(s.id) is s} for s, info in self._open.items()]

    def attach(self, session: Session) -> Session | None:
        """Make ``session`` current for its id; returns the session it replaces, if any."""
        old = self._sessions.get(session.id)
        self._sessions[session.id] = session
        return old

    def detach(self, session: Session) -> bool:
        """Forget ``session``; False if a newer connection already took its place."""
        if self._sessions.get(session.id) is session:
            del self._sessions[session.id]
            return True
        return False

    def get(self, cp_id: str) -> Session | None:
        return self._sessions.get(cp_id)

    def __len__(self) -> int:
        return len(self._sessions)
