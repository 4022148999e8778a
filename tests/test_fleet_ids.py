"""Charge point ids of an ids file in a distributed run: the master's ledger lends each id to one
worker only, whatever the number of workers (no ``--expect-workers`` assumed), takes ids back when
a charge point stops or its worker leaves, and workers that ask while none is free wait for one.

The messages travel through an in-process bus that delivers them asynchronously (a greenlet per
message), as Locust's ZeroMQ link does; the end-to-end run is in ``tests/test_distributed.py``.
"""

from __future__ import annotations

from typing import Any

import gevent
import pytest

from ocpp_users.fleet.ids import MSG_IDS_REQUEST, MSG_IDS_RETURN, IdLedger, IdsExhausted, LeasedIdPool

IDS = tuple(f"REG-{i}" for i in range(6))


class Bus:
    """A master (ledger) and workers (leased pools) exchanging the id messages."""

    def __init__(self, ids: tuple[str, ...], delay: float = 0.001) -> None:
        self.ledger = IdLedger(ids)
        self.delay = delay
        self.pools: dict[str, LeasedIdPool] = {}
        self.requests = 0

    def worker(self, name: str, timeout: float = 2.0) -> LeasedIdPool:
        pool = LeasedIdPool(lambda msg_type, data: self._to_master(name, msg_type, data), timeout=timeout)
        self.pools[name] = pool
        return pool

    def _to_master(self, worker: str, msg_type: str, data: dict[str, Any]) -> None:
        gevent.spawn_later(self.delay, self._master, worker, msg_type, data)

    def _master(self, worker: str, msg_type: str, data: dict[str, Any]) -> None:
        if msg_type == MSG_IDS_REQUEST:
            self.requests += 1
            ids = self.ledger.lease(worker, data["n"])
            short = self.ledger.shortfall(data["n"], len(ids)) if len(ids) < data["n"] else ""
            grant = {"seq": data["seq"], "ids": ids, "short": short}
            gevent.spawn_later(self.delay, self.pools[worker].on_grant, grant)
        elif msg_type == MSG_IDS_RETURN:
            self.ledger.give_back(worker, data["ids"])
        else:  # pragma: no cover - a worker sends nothing else
            raise AssertionError(msg_type)


def acquire_all(pool: LeasedIdPool, n: int) -> list[str]:
    greenlets = [gevent.spawn(pool.acquire) for _ in range(n)]
    gevent.joinall(greenlets, raise_error=True)
    return [g.value for g in greenlets]


def test_workers_starting_at_once_get_disjoint_ids() -> None:
    bus = Bus(IDS)
    w0, w1, w2 = bus.worker("w0"), bus.worker("w1"), bus.worker("w2")
    jobs = [gevent.spawn(acquire_all, pool, 2) for pool in (w0, w1, w2)]
    gevent.joinall(jobs, raise_error=True)
    got = [cp_id for job in jobs for cp_id in job.value]
    assert sorted(got) == sorted(IDS)  # every id once: no collision, none wasted
    assert bus.requests <= 6  # charge points starting together share a request
    assert w0.in_use == w1.in_use == w2.in_use == 2
    assert bus.ledger.lent == 6


def test_a_released_id_goes_back_to_the_master_and_moves_to_another_worker() -> None:
    bus = Bus(IDS[:2])
    w0, w1 = bus.worker("w0"), bus.worker("w1", timeout=3.0)
    first, second = acquire_all(w0, 2)
    waiting = gevent.spawn(w1.acquire)  # none free: w1 waits (e.g. Locust moving a user to it)
    gevent.sleep(0.2)
    assert not waiting.ready()
    w0.release(second)
    assert waiting.get(timeout=2.0) == second
    assert bus.ledger.leases == {"w0": {0}, "w1": {1}}
    assert w0.in_use == 1 and first != waiting.value


def test_a_short_file_fails_the_charge_point_with_the_reason() -> None:
    bus = Bus(IDS[:1])
    w0, w1 = bus.worker("w0"), bus.worker("w1", timeout=0.6)
    assert acquire_all(w0, 1) == ["REG-0"]
    with pytest.raises(IdsExhausted, match="1 ids, all in use"):
        w1.acquire()
    assert bus.ledger.leases["w0"] == {0} and not bus.ledger.leases["w1"]


def test_no_answer_from_the_master_times_out_and_a_late_grant_is_given_back() -> None:
    sent: list[tuple[str, dict[str, Any]]] = []
    pool = LeasedIdPool(lambda msg_type, data: sent.append((msg_type, data)), timeout=0.2)
    with pytest.raises(IdsExhausted, match="no charge point id within"):
        pool.acquire()
    assert sent[0][0] == MSG_IDS_REQUEST
    pool.on_grant({"seq": sent[0][1]["seq"], "ids": ["LATE"], "short": ""})
    assert sent[-1] == (MSG_IDS_RETURN, {"ids": ["LATE"]})
    assert pool.in_use == 0


def test_the_ids_of_a_departed_worker_are_reclaimed() -> None:
    ledger = IdLedger(IDS)
    assert ledger.lease("w0", 2) == ["REG-0", "REG-1"]
    assert ledger.lease("w1", 2) == ["REG-2", "REG-3"]
    assert ledger.prune(["w1"]) == 2  # w0 quit or was removed after going missing
    assert ledger.lease("w2", 3) == ["REG-0", "REG-1", "REG-4"]  # lowest free first
    ledger.give_back("w2", ["REG-1", "REG-3"])  # REG-3 is w1's: ignored
    assert ledger.leases == {"w1": {2, 3}, "w2": {0, 4}}
    assert ledger.lease("w1", 5) == ["REG-1", "REG-5"]
    ledger.reset()
    assert ledger.lent == 0 and ledger.lease("w9", 1) == ["REG-0"]
