"""Charge point ids for the fleet: unique across users, processes and workers.

Either a template such as ``VOCPP-{worker}-{n:05d}`` (``worker`` is Locust's worker index, 0 on
a local runner; ``n`` a per-process number from 1; ``pid`` the process id), or a file of ids
registered at the CSMS, shared out between workers by stride: worker ``w`` of ``W`` takes the
ids at positions ``w, w + W, w + 2W, ...``.

Ids are recycled: a stopped user gives its id back, so ramping down and up again reconnects the
same stations instead of inventing new ones.
"""

from __future__ import annotations

import heapq
import os
import string
from pathlib import Path

DEFAULT_TEMPLATE = "VOCPP-{worker}-{n:05d}"
PLACEHOLDERS = frozenset({"worker", "n", "pid"})


class IdsExhausted(LookupError):
    """No id left for another charge point (the ids file is too short for the user count)."""


def check_template(template: str) -> str:
    """Return ``template`` or raise ValueError naming what is wrong with it."""
    if not template.strip():
        raise ValueError("the charge point id template is empty")
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise ValueError(f"bad charge point id template {template!r}: {exc}") from None
    unknown = sorted(name for name in fields if name not in PLACEHOLDERS)
    if unknown:
        raise ValueError(
            f"unknown placeholder {{{unknown[0]}}} in charge point id template; use {{worker}}, {{n}} and {{pid}}"
        )
    if "n" not in fields:
        raise ValueError("the charge point id template needs {n} (else every charge point gets the same id)")
    try:
        sample = template.format(worker=0, n=1, pid=os.getpid())
    except (ValueError, IndexError, KeyError) as exc:
        raise ValueError(f"bad charge point id template {template!r}: {exc}") from None
    if any(ch in sample for ch in "/?# \t"):
        raise ValueError(f"charge point id template {template!r} makes ids with '/', '?', '#' or blanks")
    return template


def read_ids_file(path: str) -> tuple[str, ...]:
    """Ids from a file, one per line; blank lines and ``#`` comments are skipped."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"cannot read charge point ids file {path!r}: {exc.strerror or exc}") from None
    ids: list[str] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        item = line.split("#", 1)[0].strip()
        if not item:
            continue
        if any(ch in item for ch in "/?# \t"):
            raise ValueError(f"{path}:{number}: charge point id {item!r} contains '/', '?' or blanks")
        if item in seen:
            raise ValueError(f"{path}:{number}: duplicate charge point id {item!r}")
        seen.add(item)
        ids.append(item)
    if not ids:
        raise ValueError(f"charge point ids file {path!r} lists no ids")
    return tuple(ids)


class IdPool:
    """Hands out charge point ids; the lowest free number first, released ids are reused."""

    def __init__(
        self,
        *,
        template: str = DEFAULT_TEMPLATE,
        ids: tuple[str, ...] | None = None,
        worker_index: int = 0,
        workers: int = 1,
        pid: int | None = None,
    ) -> None:
        self.template = template
        self.ids = ids
        self.worker_index = max(0, worker_index)
        self.workers = max(1, workers)
        self.pid = os.getpid() if pid is None else pid
        self._free: list[int] = []
        self._next = 0
        self._slots: dict[str, int] = {}

    def _format(self, slot: int) -> str:
        if self.ids is None:
            return self.template.format(worker=self.worker_index, n=slot + 1, pid=self.pid)
        position = slot * self.workers + self.worker_index
        if position >= len(self.ids):
            raise IdsExhausted(
                f"the charge point ids file has {len(self.ids)} ids, too few for {slot + 1} charge points "
                f"per process on {self.workers} worker(s)"
            )
        return self.ids[position]

    def acquire(self) -> str:
        slot = heapq.heappop(self._free) if self._free else self._next
        try:
            cp_id = self._format(slot)
        except IdsExhausted:
            if slot != self._next:
                heapq.heappush(self._free, slot)
            raise
        if slot == self._next:
            self._next += 1
        self._slots[cp_id] = slot
        return cp_id

    def release(self, cp_id: str) -> None:
        slot = self._slots.pop(cp_id, None)
        if slot is not None:
            heapq.heappush(self._free, slot)

    @property
    def in_use(self) -> int:
        return len(self._slots)
