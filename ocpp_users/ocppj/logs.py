"""Log lines a CSMS can repeat at will, rate-limited: one line per kind, then a count.

A CSMS decides how often the engine meets a broken request (a handler that fails on a value the
schema allows, a garbled frame): at 16,000 a run, one line each drowns the log. A
:class:`RateLimitedLog` writes the first line of each kind at once; later ones of that kind are
counted and written again at most once per ``window`` seconds, with how many there were
("x1234 since the last line"). Kinds are keyed by text of our own (an action, an exception
class), never by what the CSMS chose; their number is bounded too.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass

WINDOW = 60.0
"""Seconds between two lines of the same kind."""
MAX_KINDS = 1000
"""Kinds remembered; beyond that, new kinds share one counter."""
_OVERFLOW = ("(more kinds)",)


@dataclass(slots=True)
class _Kind:
    logged_at: float
    suppressed: int = 0


class RateLimitedLog:
    """A logger wrapper: :meth:`log` writes once per kind per ``window``, counting the rest."""

    def __init__(
        self,
        logger: logging.Logger,
        window: float = WINDOW,
        *,
        max_kinds: int = MAX_KINDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.window = window
        self.max_kinds = max_kinds
        self.clock = clock
        self._kinds: dict[Hashable, _Kind] = {}
        self._lock = threading.Lock()

    def log(self, level: int, kind: Hashable, message: str, *args: object) -> bool:
        """Log ``message % args`` unless a line of ``kind`` went out less than ``window`` ago
        (then only count it). Returns whether a line was written."""
        now = self.clock()
        with self._lock:
            if kind not in self._kinds and len(self._kinds) >= self.max_kinds:
                kind = _OVERFLOW
            entry = self._kinds.get(kind)
            if entry is None:
                self._kinds[kind] = _Kind(now)
                suffix = " (further ones are counted and logged at most once a minute)"
            elif now - entry.logged_at < self.window:
                entry.suppressed += 1
                return False
            else:
                count, elapsed = entry.suppressed + 1, now - entry.logged_at
                entry.suppressed, entry.logged_at = 0, now
                suffix = f" (x{count} in the last {elapsed:.0f} s)"
        self.logger.log(level, message + suffix, *args)
        return True

    def warning(self, kind: Hashable, message: str, *args: object) -> bool:
        return self.log(logging.WARNING, kind, message, *args)

    def error(self, kind: Hashable, message: str, *args: object) -> bool:
        return self.log(logging.ERROR, kind, message, *args)

    def suppressed(self) -> dict[Hashable, int]:
        """Occurrences counted but not yet logged, by kind."""
        with self._lock:
            return {kind: entry.suppressed for kind, entry in self._kinds.items() if entry.suppressed}

    def flush(self, level: int = logging.WARNING) -> None:
        """One line per kind with occurrences not logged yet (at the end of a run)."""
        with self._lock:
            pending = [(kind, entry.suppressed) for kind, entry in self._kinds.items() if entry.suppressed]
            for entry in self._kinds.values():
                entry.suppressed = 0
        for kind, count in pending:
            self.logger.log(level, "%s: x%d more, not logged one by one", _show(kind), count)

    def reset(self) -> None:
        with self._lock:
            self._kinds.clear()


def _show(kind: Hashable) -> str:
    if isinstance(kind, tuple):
        return " ".join(str(part) for part in kind)
    return str(kind)
