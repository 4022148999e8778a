"""Which kind of Locust process this is: Locust's own runner classes, never their names."""

from __future__ import annotations

from locust.env import Environment
from locust.runners import MasterRunner, Runner, WorkerRunner

__all__ = ["MasterRunner", "Runner", "WorkerRunner", "is_master", "is_worker", "runner_of", "runs_users"]


def is_master(runner: Runner | None) -> bool:
    """A master: it runs no charge points, it merges what its workers report."""
    return isinstance(runner, MasterRunner)


def is_worker(runner: Runner | None) -> bool:
    """A worker: it runs charge points and reports to a master."""
    return isinstance(runner, WorkerRunner)


def runs_users(runner: Runner | None) -> bool:
    """A process that runs charge points itself (a local runner or a worker)."""
    return runner is not None and not isinstance(runner, MasterRunner)


def runner_of(environment: Environment) -> Runner:
    """The environment's runner; the fleet's listeners run only once Locust has made one."""
    runner = environment.runner
    if runner is None:
        raise RuntimeError("the Locust environment has no runner yet")
    return runner
