"""The master's Charge points counts forget workers that quit or went missing and start empty
with each test; the CSMS URL's password never reaches the JSON summary or the fleet's log lines."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import pytest
from locust.env import Environment
from locust.event import Events

from ocpp_users.fleet import summary
from ocpp_users.fleet.config import OptionError, check_host
from ocpp_users.fleet.runtime import Fleet
from ocpp_users.fleet.ui import REPORT_KEY, FleetMonitor
from ocpp_users.ocppj.redact import redact_url
from ocpp_users.ocppj.sink import WEBSOCKET

SECRET = "s3cr3t-pw"


@dataclass
class Node:
    id: str
    state: str = "running"


@dataclass
class Clients:
    nodes: list[Node] = field(default_factory=list)

    @property
    def all(self) -> list[Node]:
        return list(self.nodes)


class MasterRunner:
    """What the monitor reads of Locust's MasterRunner: its worker list."""

    def __init__(self, *ids: str) -> None:
        self.clients = Clients([Node(i) for i in ids])


class FakeEnvironment:
    def __init__(self, runner: Any) -> None:
        self.events = Events()
        self.runner = runner


def report(monitor: FleetMonitor, worker: str, total: int) -> None:
    data = {REPORT_KEY: {"total": total, "booted": total}}
    monitor.environment.events.worker_report.fire(client_id=worker, data=data)


def test_counts_of_workers_that_quit_or_went_missing_are_dropped() -> None:
    runner = MasterRunner("w1", "w2", "w3")
    monitor = FleetMonitor(FakeEnvironment(runner))
    monitor.install()
    for worker, total in (("w1", 5), ("w2", 7), ("w3", 11)):
        report(monitor, worker, total)
    assert monitor.counts()["total"] == 23
    runner.clients.nodes = [n for n in runner.clients.nodes if n.id != "w1"]  # quit: Locust deletes it
    runner.clients.nodes[0].state = "missing"  # w2 stopped sending heartbeats
    assert monitor.counts()["total"] == 11 and monitor.counts()["booted"] == 11
    assert set(monitor.worker_counts) == {"w3"}
    runner.clients.nodes[0].state = "running"  # w2 healed: its next report counts again
    report(monitor, "w2", 7)
    assert monitor.counts()["total"] == 18


def test_a_new_test_starts_without_the_last_runs_worker_counts() -> None:
    monitor = FleetMonitor(FakeEnvironment(MasterRunner("w1")))
    monitor.install()
    report(monitor, "w1", 4)
    assert monitor.counts()["total"] == 4
    monitor.reset_run()
    assert monitor.counts()["total"] == 0 and monitor.worker_counts == {}


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"ws://cp:{SECRET}@csms.example:8080/ocpp/?a=1", "ws://cp:***@csms.example:8080/ocpp/?a=1"),
        (f"wss://cp:{SECRET}@with@at@csms.example/", "wss://cp:***@csms.example/"),
        (f"ws://:{SECRET}@10.0.0.1/", "ws://:***@10.0.0.1/"),
        (f"ws://u:{SECRET}@[::1/x", "ws://u:***@[::1/x"),
        ("wss://user@csms.example/", "wss://user@csms.example/"),
        ("ws://csms.example/ocpp", "ws://csms.example/ocpp"),
        ("", ""),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_the_password_in_the_host_stays_out_of_summary_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    host = f"ws://cp:{SECRET}@127.0.0.1:9/ocpp/"
    env = Environment(events=Events(), host=host)
    env.create_local_runner()
    fleet = Fleet.of(env)
    fleet.monitor.install()
    fleet.configure()
    assert fleet.url == host  # the charge points still connect with the credentials
    document = summary.build(env, [], gates=False)
    assert document["host"] == "ws://cp:***@127.0.0.1:9/ocpp/"
    with caplog.at_level(logging.WARNING, logger="ocpp_users.fleet"):
        env.events.request.fire(
            request_type=WEBSOCKET, name="connect", response_time=1, response_length=0, exception=OSError("refused")
        )
    assert "cannot connect to ws://cp:***@127.0.0.1:9/ocpp/" in caplog.text
    with pytest.raises(OptionError) as info:
        check_host(f"http://cp:{SECRET}@csms.example/")
    assert SECRET not in str(info.value) and "cp:***@" in str(info.value)
    assert SECRET not in caplog.text
