"""Charge point ids for the fleet: unique across users, processes and workers.

Either a template such as ``VOCPP-{worker}-{n:05d}`` (``worker`` is Locust's worker index, 0 on
a local runner, never reused by a master; ``n`` a per-process number from 1; ``pid`` the process
id), or a file of ids registered at the CSMS. In a distributed run the master alone reads the file
and lends its ids out: a worker asks for as many ids as it has charge points waiting for one
(:class:`LeasedIdPool`), the master's :class:`IdLedger` hands out free ids, each to one worker
only, and takes them back when a charge point stops or its worker quits. No worker count is
assumed, so workers joining or leaving mid-run never get overlapping ids.

Ids are recycled: a stopped user gives its id back, so ramping down and up again reconnects the
same stations instead of inventing new ones.

An ids file may give each charge point its own Basic auth password (CSV lines ``id,password``): the
password travels with the id when the master lends it out (in the grant, never logged) and stays
out of every log line, error message and report.
"""

from __future__ import annotations

import csv
import heapq
import os
import string
import time
from collections.abc import Callable, Iterable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gevent.event

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


@dataclass(frozen=True)
class IdsFile:
    """The charge point ids of an ids file, and the passwords some (or all) of them carry."""

    ids: tuple[str, ...]
    passwords: dict[str, str] = field(default_factory=dict, repr=False)


def _check_id(path: str, number: int, item: str, seen: set[str]) -> None:
    if any(ch in item for ch in "/?# \t"):
        raise ValueError(f"{path}:{number}: charge point id {item!r} contains '/', '?' or blanks")
    if item in seen:
        raise ValueError(f"{path}:{number}: duplicate charge point id {item!r}")


def read_credentials(path: str) -> IdsFile:
    """Ids from a file, one per line, each optionally followed by its password (CSV: ``id,password``,
    quotes allowed; an ``id,password`` header line is skipped); blank lines and ``#`` comments are
    skipped (a ``#`` after an id without a password starts a comment; in a password it is kept).
    Errors name the file, the line and the id, never a password."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"cannot read charge point ids file {path!r}: {exc.strerror or exc}") from None
    ids: list[str] = []
    passwords: dict[str, str] = {}
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        head = stripped.split("#", 1)[0]
        if "," not in head:
            item = head.strip()
            if not item:
                continue
            _check_id(path, number, item, seen)
        else:
            row = next(csv.reader([stripped]))
            item, password = row[0].strip(), ",".join(row[1:])
            if not ids and item.casefold() == "id" and password.strip().casefold() == "password":
                continue  # a header line
            _check_id(path, number, item, seen)
            if not password:
                raise ValueError(f"{path}:{number}: charge point {item!r} has an empty password")
            if any(ord(ch) < 32 or ord(ch) == 127 for ch in password):
                raise ValueError(f"{path}:{number}: the password of charge point {item!r} holds control characters")
            passwords[item] = password
        seen.add(item)
        ids.append(item)
    if not ids:
        raise ValueError(f"charge point ids file {path!r} lists no ids")
    return IdsFile(tuple(ids), passwords)


def read_ids_file(path: str) -> tuple[str, ...]:
    """Ids from a file, one per line (with or without a password, see :func:`read_credentials`)."""
    return read_credentials(path).ids


class IdPool:
    """Hands out charge point ids; the lowest free number first, released ids are reused."""

    def __init__(
        self,
        *,
        template: str = DEFAULT_TEMPLATE,
        ids: tuple[str, ...] | None = None,
        worker_index: int = 0,
        pid: int | None = None,
    ) -> None:
        self.template = template
        self.ids = ids
        """The ids file of a local runner (a worker borrows them: :class:`LeasedIdPool`)."""
        self.worker_index = max(0, worker_index)
        self.pid = os.getpid() if pid is None else pid
        self._free: list[int] = []
        self._next = 0
        self._slots: dict[str, int] = {}

    def _format(self, slot: int) -> str:
        if self.ids is None:
            return self.template.format(worker=self.worker_index, n=slot + 1, pid=self.pid)
        if slot >= len(self.ids):
            raise IdsExhausted(
                f"the charge point ids file has {len(self.ids)} ids, too few for {slot + 1} charge points"
            )
        return self.ids[slot]

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


# ---------------------------------------------------------------- ids lent out by the master

MSG_IDS_REQUEST = "vocpp_ids_request"
"""worker -> master: ``{"seq": s, "n": k}``: k more ids, please."""
MSG_IDS_GRANT = "vocpp_ids_grant"
"""master -> worker: ``{"seq": s, "ids": [...], "short": reason or "", "passwords": {id: password}}``
(fewer ids than asked: why; the passwords of the granted ids that have one)."""
MSG_IDS_RETURN = "vocpp_ids_return"
"""worker -> master: ``{"ids": [...]}``: these ids are free again."""
GRANT_TIMEOUT = 15.0
"""How long a charge point waits for an id from the master before it counts as failed."""
RETRY_INTERVAL = 0.5


class IdLedger:
    """The master's record of which worker holds which ids of the file; lowest free position first."""

    def __init__(self, ids: tuple[str, ...], passwords: dict[str, str] | None = None) -> None:
        self.ids = ids
        self.passwords = passwords or {}
        """The passwords of the ids file; each travels with its id in the grant."""
        self._position = {cp_id: number for number, cp_id in enumerate(ids)}
        self._free: list[int] = list(range(len(ids)))
        self.leases: dict[str, set[int]] = {}
        """Positions held per worker (client id)."""

    def reset(self) -> None:
        self._free = list(range(len(self.ids)))
        self.leases.clear()

    def lease(self, worker: str, n: int) -> list[str]:
        """Up to ``n`` free ids for ``worker`` (fewer when the file runs out)."""
        held = self.leases.setdefault(worker, set())
        granted: list[str] = []
        while self._free and len(granted) < n:
            position = heapq.heappop(self._free)
            held.add(position)
            granted.append(self.ids[position])
        return granted

    def give_back(self, worker: str, ids: Iterable[Any]) -> None:
        held = self.leases.get(worker, set())
        for cp_id in ids:
            position = self._position.get(str(cp_id))
            if position is not None and position in held:
                held.discard(position)
                heapq.heappush(self._free, position)

    def reclaim(self, worker: str) -> int:
        """Everything ``worker`` holds is free again (it quit or was removed); how many ids."""
        held = self.leases.pop(worker, set())
        for position in held:
            heapq.heappush(self._free, position)
        return len(held)

    def prune(self, live: Iterable[str]) -> int:
        """Reclaim the ids of every worker not in ``live``; how many ids."""
        alive = set(live)
        return sum(self.reclaim(worker) for worker in [w for w in self.leases if w not in alive])

    @property
    def lent(self) -> int:
        return sum(len(held) for held in self.leases.values())

    def grant(self, worker: str, seq: Any, asked: int) -> dict[str, Any]:
        """The MSG_IDS_GRANT answer to ``worker``'s request ``seq`` for ``asked`` ids."""
        ids = self.lease(worker, asked)
        short = self.shortfall(asked, len(ids)) if len(ids) < asked else ""
        passwords = {cp_id: self.passwords[cp_id] for cp_id in ids if cp_id in self.passwords}
        return {"seq": seq, "ids": ids, "short": short, "passwords": passwords}

    def shortfall(self, asked: int, granted: int) -> str:
        return (
            f"the charge point ids file has {len(self.ids)} ids, all in use ({self.lent} lent to workers); "
            f"{asked - granted} more asked for"
        )


class LeasedIdPool(IdPool):
    """A worker's ids, borrowed from the master's :class:`IdLedger` as charge points start (an
    :class:`IdPool` whose ids come from the master instead of a template or the file).

    ``send(msg_type, data)`` sends a message to the master; the master's grants are passed to
    :meth:`on_grant`. Greenlets that need an id at the same time share one request. When the master
    has none free (all lent, e.g. while Locust moves users from one worker to another), the request
    is repeated every :data:`RETRY_INTERVAL` until ``timeout``.
    """

    def __init__(
        self,
        send: Callable[[str, dict[str, Any]], None],
        timeout: float = GRANT_TIMEOUT,
        passwords: MutableMapping[str, str] | None = None,
    ) -> None:
        super().__init__(ids=())
        self._send = send
        self.timeout = timeout
        self.passwords: MutableMapping[str, str] = passwords if passwords is not None else {}
        """Where the passwords that come with granted ids go (the worker's FleetConfig.passwords)."""
        self._lent: list[str] = []
        self._used: set[str] = set()
        self._waiters = 0
        self._seq = 0
        self._answer: gevent.event.AsyncResult | None = None
        """The request in flight; its value is the master's shortfall reason ("" when none)."""

    def acquire(self) -> str:
        self._waiters += 1
        try:
            deadline = time.monotonic() + self.timeout
            reason = ""
            while not self._lent:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise IdsExhausted(reason or f"the master handed out no charge point id within {self.timeout:g} s")
                if reason:  # none free at the master just now: another worker may give some back
                    gevent.sleep(min(RETRY_INTERVAL, left))
                    if self._lent:
                        break
                if self._answer is None:
                    self._seq += 1
                    self._answer = gevent.event.AsyncResult()
                    self._send(MSG_IDS_REQUEST, {"seq": self._seq, "n": self._waiters})
                answer = self._answer
                answer.wait(max(0.0, deadline - time.monotonic()))
                if answer.ready():
                    reason = str(answer.value or "")
                elif self._answer is answer:
                    self._answer = None  # a late grant is given back
            cp_id = self._lent.pop(0)
            self._used.add(cp_id)
            return cp_id
        finally:
            self._waiters -= 1

    def on_grant(self, data: dict[str, Any]) -> None:
        ids = [str(cp_id) for cp_id in data.get("ids") or []]
        answer = self._answer
        if answer is None or data.get("seq") != self._seq:
            if ids:  # a late answer to a request given up, or to an earlier run: not ours to keep
                self._send(MSG_IDS_RETURN, {"ids": ids})
            return
        self._lent.extend(ids)
        passwords = data.get("passwords")
        if isinstance(passwords, dict):
            self.passwords.update({str(k): str(v) for k, v in passwords.items() if str(k) in ids})
        self._answer = None
        answer.set(str(data.get("short") or ""))

    def release(self, cp_id: str) -> None:
        if cp_id in self._used:
            self._used.discard(cp_id)
            self._send(MSG_IDS_RETURN, {"ids": [cp_id]})

    @property
    def in_use(self) -> int:
        return len(self._used)
