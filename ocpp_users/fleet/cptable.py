"""The per-charge-point table: one row per charge point, sorted and filtered on request, and as CSV.

Rows come from each process's :class:`~ocpp_users.fleet.state.FleetState` (kept by events, at
most :data:`~ocpp_users.fleet.state.ROW_LIMIT` per process). Nothing walks them on a timer: a
query sorts and cuts them when someone asks (the web UI's table every few seconds while it is
open, ``--cp-csv`` once at the end).

On a master the rows live on the workers. :class:`RowBroker` asks every worker for the rows a
query wants (:data:`MSG_QUERY`; each answers with its top ``limit`` rows and its counts,
:data:`MSG_ROWS`) and merges them. When a test begins to stop, the master asks once for every row
(before the workers stop their charge points): that final table, the state of each charge point
at the end of the test, is what the web UI shows after the test and what ``--cp-csv`` writes.
"""

from __future__ import annotations

import csv
import itertools
import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import gevent
import gevent.event
from locust.env import Environment

from ocpp_users.fleet.runners import is_master, is_worker
from ocpp_users.fleet.state import ROW_LIMIT, STATES, STOPPED, Row, fleet_state

log = logging.getLogger("ocpp_users.fleet")

MSG_QUERY = "vocpp_cp_rows_query"
"""master -> workers: ``{"seq": n, "sort": ..., "desc": bool, "q": ..., "state": ..., "limit": n}``."""
MSG_ROWS = "vocpp_cp_rows"
"""worker -> master: ``{"seq": n, "total": rows, "matched": rows, "states": {...}, "rows": [...]}``."""
COLUMNS = ("id", "state", "connected_since", "last_message", "calls_ok", "calls_failed", "last_failure")
"""Column keys, in the order of a :data:`~ocpp_users.fleet.state.Row`."""
TITLES = ("Charge point", "State", "Connected since", "Last message", "Calls ok", "Calls failed", "Last failure")
QUERY_TIMEOUT = 2.0
"""Seconds the master waits for its workers' rows."""
MAX_LIMIT = ROW_LIMIT
STATE_ORDER = {name: index for index, name in enumerate((*STATES, STOPPED))}


@dataclass(frozen=True)
class Query:
    """What a table view asks for: sorted by a column, filtered by text and state, cut at ``limit``."""

    sort: str = "id"
    desc: bool = False
    q: str = ""
    """Kept when the id or the last failure contains it (case-insensitive)."""
    state: str = ""
    """Kept when the state is this one (empty: every state)."""
    limit: int = 200

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Query:
        sort = str(data.get("sort") or "id")
        try:
            limit = int(data.get("limit") or 200)
        except (TypeError, ValueError):
            limit = 200
        return cls(
            sort=sort if sort in COLUMNS else "id",
            desc=str(data.get("desc", "")).lower() in ("1", "true", "yes"),
            q=str(data.get("q") or "")[:200],
            state=str(data.get("state") or ""),
            limit=max(1, min(MAX_LIMIT, limit)),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"sort": self.sort, "desc": self.desc, "q": self.q, "state": self.state, "limit": self.limit}


@dataclass
class Table:
    """A query's answer: the rows (at most ``limit``), and how many there were."""

    rows: list[Row] = field(default_factory=list)
    total: int = 0
    """Rows before the filter."""
    matched: int = 0
    """Rows the filter kept (before the cut)."""
    states: dict[str, int] = field(default_factory=dict)
    """Rows per state, before the filter."""
    workers: int = 1
    answered: int = 1


def _key(column: str) -> Callable[[Row], Any]:
    index = COLUMNS.index(column)
    if column == "state":
        return lambda row: STATE_ORDER.get(row[1], 99)
    if column in ("connected_since", "last_message"):
        return lambda row: row[index] if row[index] is not None else -1.0
    return lambda row: row[index]


def select(rows: Iterable[Row], query: Query) -> Table:
    """Filter, sort and cut ``rows`` (ties: by id)."""
    rows = list(rows)
    states: dict[str, int] = {}
    for row in rows:
        states[row[1]] = states.get(row[1], 0) + 1
    kept = rows
    if query.state:
        kept = [row for row in kept if row[1] == query.state]
    if query.q:
        needle = query.q.lower()
        kept = [row for row in kept if needle in row[0].lower() or needle in row[6].lower()]
    kept.sort(key=lambda row: row[0])
    if query.sort != "id" or query.desc:
        kept.sort(key=_key(query.sort), reverse=query.desc)
    return Table(rows=kept[: query.limit], total=len(rows), matched=len(kept), states=states)


def merge(tables: Iterable[Table], query: Query) -> Table:
    """The tables of several workers as one (each holds its own top rows for ``query``)."""
    merged = Table(workers=0, answered=0)
    rows: list[Row] = []
    for table in tables:
        merged.total += table.total
        merged.matched += table.matched
        merged.answered += 1
        for state, count in table.states.items():
            merged.states[state] = merged.states.get(state, 0) + count
        rows.extend(table.rows)
    rows.sort(key=lambda row: row[0])
    if query.sort != "id" or query.desc:
        rows.sort(key=_key(query.sort), reverse=query.desc)
    merged.rows = rows[: query.limit]
    return merged


def _wire_row(row: Any) -> Row | None:
    """A row from a worker's message (msgpack makes tuples lists); None when malformed."""
    if not isinstance(row, list | tuple) or len(row) != len(COLUMNS):
        return None
    cp_id, state, since, last, ok, bad, reason = row
    number = int | float
    return (
        str(cp_id),
        str(state),
        float(since) if isinstance(since, number) else None,
        float(last) if isinstance(last, number) else None,
        int(ok) if isinstance(ok, int) else 0,
        int(bad) if isinstance(bad, int) else 0,
        str(reason or ""),
    )


def table_from_wire(data: dict[str, Any]) -> Table:
    rows = [row for item in data.get("rows") or [] if (row := _wire_row(item)) is not None]
    states = data.get("states") if isinstance(data.get("states"), dict) else {}
    return Table(
        rows=rows,
        total=int(data.get("total") or 0),
        matched=int(data.get("matched") or 0),
        states={str(k): int(v) for k, v in (states or {}).items() if isinstance(v, int)},
    )


def iso(timestamp: float | None) -> str:
    """``time.time()`` as ISO 8601 UTC to the second ("" for None)."""
    if timestamp is None:
        return ""
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def row_dict(row: Row) -> dict[str, Any]:
    """A row for the web UI's JSON."""
    return dict(zip(COLUMNS, row, strict=True))


def write_csv(path: str, rows: Iterable[Row]) -> int:
    """Write ``rows`` (sorted by id) as CSV to ``path`` (its folder is created); returns the count."""
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    ordered = sorted(rows, key=lambda row: row[0])
    partial = f"{path}.partial"
    with open(partial, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for cp_id, state, since, last, ok, bad, reason in ordered:
            writer.writerow((cp_id, state, iso(since), iso(last), ok, bad, reason))
    os.replace(partial, path)
    return len(ordered)


def csv_text(rows: Iterable[Row]) -> str:
    """The rows as CSV text (for the web UI's download)."""
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for cp_id, state, since, last, ok, bad, reason in sorted(rows, key=lambda row: row[0]):
        writer.writerow((cp_id, state, iso(since), iso(last), ok, bad, reason))
    return out.getvalue()


class RowBroker:
    """The per-charge-point table of a run, wherever its rows are (this process or the workers)."""

    def __init__(self, environment: Environment) -> None:
        self.environment = environment
        self.final: dict[str, Table] | None = None
        """Each process's table when the test began to stop (None while a test runs)."""
        self._seq = itertools.count(1)
        self._waiting: dict[int, tuple[dict[str, Table], gevent.event.Event, int]] = {}
        self._installed = False

    # ------------------------------------------------------------ wiring

    def install(self) -> None:
        """Register the messages (master: the answers; worker: the queries) and the listeners."""
        runner = self.environment.runner
        if self._installed or runner is None:
            return
        self._installed = True
        events = self.environment.events
        if is_worker(runner):
            runner.register_message(MSG_QUERY, lambda msg, **_: self._answer(msg.data))
            return
        if is_master(runner):
            runner.register_message(MSG_ROWS, lambda msg, **_: self._on_rows(msg.node_id, msg.data))
        events.test_start.add_listener(lambda **_: self._forget())
        events.test_stopping.add_listener(lambda **_: self.keep_final())

    def _forget(self) -> None:
        self.final = None

    # ------------------------------------------------------------ a worker answers

    def _answer(self, data: Any) -> None:
        query = Query.from_dict(data if isinstance(data, dict) else {})
        table = select(fleet_state(self.environment).rows(), query)
        answer = {
            "seq": data.get("seq") if isinstance(data, dict) else None,
            "total": table.total,
            "matched": table.matched,
            "states": table.states,
            "rows": [list(row) for row in table.rows],
        }
        try:
            runner = self.environment.runner
            if runner is not None:
                runner.send_message(MSG_ROWS, answer)
        except Exception as exc:  # the master is gone: nobody to answer
            log.debug("cannot send charge point rows: %r", exc)

    # ------------------------------------------------------------ the master asks

    def _on_rows(self, worker: str, data: Any) -> None:
        if not isinstance(data, dict):
            return
        waiting = self._waiting.get(data.get("seq"))  # type: ignore[arg-type]
        if waiting is None:
            return  # too late: the query was answered without this worker
        tables, done, expected = waiting
        tables[worker] = table_from_wire(data)
        if len(tables) >= expected:
            done.set()

    def _workers(self) -> list[str]:
        clients = getattr(self.environment.runner, "clients", None)
        if clients is None:
            return []
        return [c.id for c in clients.all if getattr(c, "state", "") not in ("missing",)]

    def _ask_workers(self, query: Query, timeout: float) -> dict[str, Table]:
        runner = self.environment.runner
        workers = self._workers()
        if runner is None or not workers:
            return {}
        seq = next(self._seq)
        tables: dict[str, Table] = {}
        done = gevent.event.Event()
        self._waiting[seq] = (tables, done, len(workers))
        try:
            for worker in workers:
                runner.send_message(MSG_QUERY, {"seq": seq, **query.to_dict()}, client_id=worker)
            done.wait(timeout)
        finally:
            del self._waiting[seq]
        return dict(tables)

    def keep_final(self, timeout: float = QUERY_TIMEOUT) -> None:
        """The table as the test ends, before the charge points stop (the ``test_stopping`` event)."""
        everything = Query(limit=MAX_LIMIT)
        if is_master(self.environment.runner):
            started = time.monotonic()
            asked = len(self._workers())
            self.final = self._ask_workers(everything, timeout)
            log.debug("charge point rows of %d worker(s) in %.2f s", len(self.final), time.monotonic() - started)
            if len(self.final) < asked:
                log.warning(
                    "charge points table: %d of %d workers sent their rows within %g s; the table "
                    "(--cp-csv, the report) lacks the others' charge points",
                    len(self.final),
                    asked,
                    timeout,
                )
        else:
            self.final = {"local": select(fleet_state(self.environment).rows(), everything)}

    def query(self, query: Query, timeout: float = QUERY_TIMEOUT) -> Table:
        """The table for ``query``: the final one once the test stopped, else live."""
        if self.final is not None:
            answer = select(itertools.chain.from_iterable(t.rows for t in self.final.values()), query)
            answer.workers = answer.answered = max(1, len(self.final))
            return answer
        if is_master(self.environment.runner):
            workers = len(self._workers())
            answer = merge(self._ask_workers(query, timeout).values(), query)
            answer.workers = workers
            return answer
        return select(fleet_state(self.environment).rows(), query)

    def all_rows(self, timeout: float = QUERY_TIMEOUT) -> list[Row]:
        """Every row (the final table when there is one), for ``--cp-csv`` and the CSV download."""
        if self.final is not None:
            return list(itertools.chain.from_iterable(t.rows for t in self.final.values()))
        if is_master(self.environment.runner):
            tables = self._ask_workers(Query(limit=MAX_LIMIT), timeout)
            return list(itertools.chain.from_iterable(t.rows for t in tables.values()))
        return fleet_state(self.environment).rows()
