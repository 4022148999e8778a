"""Capacity, memory, idle CPU and loop lag of the fleet on the path users run.

Every figure comes from real ``locust -f locustfiles/fleet.py --headless`` processes (a local
runner each: Locust spawns ``ChargePointUser``s, each connects, boots, reports its statuses and
runs its heartbeat and session loops) against the benchmark CSMS (``benchmarks/fastcsms.py``),
which is not the bottleneck (its CPU is reported with every figure). Nothing is injected into the
fleet process: its own console line (``charge points: ...``), its ``--json-summary`` and the OS's
accounting of the process (psutil: RSS, CPU seconds, open files) are the sources.

Runs (see :func:`run_capacity`):

* ``baseline``: one user, idle; its RSS and open files are the fixed cost of a fleet process;
* ``idle``: as many users as the open-files limit leaves room for (full run), sessions pushed out
  of the run, heartbeat every 60 s; after the ramp one heartbeat interval is watched: the CSMS
  counts the distinct charge points that sent a Heartbeat in it, and the process's CPU over it
  is the idle CPU;
* ``sessions``: :data:`SESSIONS_USERS` users (full run) with the fleet's default sessions (idle 2-8 s,
  charging 10-20 s), watched once the sessions run;
* ``two_workers``: two such processes at once, each against its own CSMS process on its own
  loopback address (a CSMS process has the same open-files limit; two destinations keep the
  ~28,000 ephemeral ports of one source address from being the limit).

RSS per charge point = (RSS of the run - RSS of the baseline) ÷ charge points booted.
"""

from __future__ import annotations

import os
import resource
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from benchmarks.child import Child
from benchmarks.common import Options, csms_loop, csms_urls, log, start_csms
from benchmarks.fleetrun import NO_SESSIONS_IDLE, FleetLine, FleetProcess, fleet_command, summary_fidelity

FD_RESERVE = 16
"""Open files left free in a fleet process beyond its own at start (the open-files wall minus this)."""
SPAWN_RATE = 500
"""Users Locust starts per second (``-r``) in every run."""
QUICK_USERS = 2000
SESSIONS_USERS = 10000
"""Users of the full run with sessions: a charge point with the default sessions costs ~3.6 % of a
core per 1,000 (about 7 messages every 20 s each; measured 2026-11-30), so a worker at the open-files
wall would run near a core and its memory would grow with its backlog, not with its charge points."""
LINE_WAIT_S = 12.0
"""The fleet prints its line every 10 s."""


@dataclass
class Target:
    """One fleet process and the CSMS it talks to."""

    label: str
    host: str
    users: int
    csms: Child | None = None
    fleet: FleetProcess | None = None
    timeline: list[tuple[float, int, int, float]] = field(default_factory=list)
    """(seconds since start, charge points booted per the CSMS, RSS KiB, CPU s) during the run."""


def _csms_stats(target: Target) -> dict[str, Any] | None:
    return target.csms.command("stats") if target.csms is not None else None


def _booted(target: Target) -> int:
    """Charge points booted: the CSMS's count of distinct BootNotification senders, or the fleet's line."""
    stats = _csms_stats(target)
    if stats is not None:
        return min(int(stats["booted_total"]), int(stats["open"]))
    line = target.fleet.last_line() if target.fleet else None
    return (line.state("booted") + line.state("charging")) if line else 0


def _stop_all(targets: list[Target], timeout: float) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}

    def stop(target: Target) -> None:
        if target.fleet is not None:
            results[target.label] = target.fleet.stop(timeout)

    threads = [threading.Thread(target=stop, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout + 60)
    return results


def _rlimit_nofile(pid: int) -> int | None:
    try:
        import psutil

        return int(psutil.Process(pid).rlimit(psutil.RLIMIT_NOFILE)[0])
    except Exception:
        return None


def fleet_run(
    targets: list[Target],
    *,
    heartbeat: int,
    sessions: bool,
    settle_s: float,
    window_s: float,
    baseline_rss_kib: int | None,
    stop_timeout: float,
    workdir: str,
    name: str,
) -> dict[str, Any]:
    """Start one fleet process per target, wait until all booted, watch ``window_s``, stop them."""
    ramp_limit = max(60.0, 3.0 * max(t.users for t in targets) / SPAWN_RATE + 60.0)
    run_time = int(ramp_limit + settle_s + window_s + LINE_WAIT_S + 120)
    for target in targets:
        summary_path = os.path.join(workdir, f"{name}-{target.label}.json")
        args = fleet_command(
            target.host,
            target.users,
            SPAWN_RATE,
            run_time_s=run_time,
            heartbeat_interval=heartbeat,
            sessions=sessions,
            json_summary=summary_path,
        )
        target.fleet = FleetProcess(args, target.label, summary_path)
    log(f"capacity/{name}: {' + '.join(str(t.users) for t in targets)} users; {args and ' '.join(args)}")
    csms_ramp0 = [_csms_stats(t) for t in targets]
    for target in targets:
        assert target.fleet is not None
        target.fleet.start()
    started = time.monotonic()
    fd_limits = {t.label: _rlimit_nofile(t.fleet.pid) if t.fleet else None for t in targets}
    try:
        # ---- ramp: until every target's charge points are booted (or the ramp limit)
        ramp_s: dict[str, float | None] = {t.label: None for t in targets}
        while time.monotonic() - started < ramp_limit:
            time.sleep(1.0)
            for target in targets:
                assert target.fleet is not None
                sample = target.fleet.sample()
                booted = _booted(target)
                target.timeline.append((round(sample.t - started, 2), booted, sample.rss_kib, round(sample.cpu_s, 2)))
                if ramp_s[target.label] is None and booted >= target.users:
                    ramp_s[target.label] = round(time.monotonic() - started, 1)
            if all(v is not None for v in ramp_s.values()) or not all(t.fleet and t.fleet.alive() for t in targets):
                break
        ramp_cpu = {t.label: t.timeline[-1][3] if t.timeline else 0.0 for t in targets}
        csms_ramp1 = [_csms_stats(t) for t in targets]
        ramp_wall = time.monotonic() - started
        for target in targets:
            log(f"capacity/{name}: {target.label}: {_booted(target)} of {target.users} booted after {ramp_wall:.0f} s")
        # ---- settle, then the window
        _watch(targets, started, settle_s)
        for target in targets:
            if target.csms is not None:
                target.csms.command("reset")
        csms_before = [_csms_stats(t) for t in targets]
        before = [t.fleet.sample() for t in targets if t.fleet]
        rss_max = [s.rss_kib for s in before]
        log(f"capacity/{name}: watching {window_s:g} s")
        for index, peak in enumerate(_watch(targets, started, window_s)):
            rss_max[index] = max(rss_max[index], peak)
        after = [t.fleet.sample() for t in targets if t.fleet]
        csms_after = [_csms_stats(t) for t in targets]
        window_done = time.monotonic()
        lines: list[FleetLine | None] = [
            t.fleet.wait_line(window_done, LINE_WAIT_S) if t.fleet else None for t in targets
        ]
    finally:
        log(f"capacity/{name}: stopping (SIGTERM; SIGKILL after {stop_timeout:g} s)")
        stops = _stop_all(targets, stop_timeout)
    per_worker = []
    for index, target in enumerate(targets):
        fleet = target.fleet
        assert fleet is not None
        b, a, line = before[index], after[index], lines[index]
        elapsed = a.t - b.t
        summary = fleet.summary()
        booted_line = (line.state("booted") + line.state("charging")) if line else None
        booted = booted_line if booted_line is not None else _booted_from_timeline(target)
        item: dict[str, Any] = {
            "label": target.label,
            "command": fleet.command,
            "users": target.users,
            "spawn_rate": SPAWN_RATE,
            "heartbeat_interval_s": heartbeat,
            "sessions": "default (idle 2-8 s, charging 10-20 s)"
            if sessions
            else f"none in the run (--idle-duration {NO_SESSIONS_IDLE})",
            "ramp_s": ramp_s[target.label],
            "ramp_cpu_s": ramp_cpu[target.label],
            "booted": booted,
            "fleet_counts": line.states if line else None,
            "fleet_line": line.text if line else None,
            "rss_mib": round(a.rss_kib / 1024, 1),
            "rss_max_mib": round(rss_max[index] / 1024, 1),
            "window_s": round(elapsed, 1),
            "cpu_percent": round(100.0 * (a.cpu_s - b.cpu_s) / elapsed, 2) if elapsed > 0 else None,
            "open_fds": a.fds,
            "fd_limit": fd_limits[target.label],
            "loop_lag_p99_ms": line.loop_lag_p99_ms if line else None,
            "loop_lag_source": "the fleet's console line after the window (its last 30 s; whole ms)",
            "on_time": {k: {"ratio": r, "due": d} for k, (r, d) in line.on_time.items()} if line else None,
            "fleet_cpu_percent": line.cpu_percent if line else None,
            "falling_behind": line.falling_behind if line else None,
            "stop": stops.get(target.label),
        }
        if booted and baseline_rss_kib is not None:
            item["rss_kib_per_cp"] = round((a.rss_kib - baseline_rss_kib) / booted, 1)
            item["rss_max_kib_per_cp"] = round((rss_max[index] - baseline_rss_kib) / booted, 1)
        if booted and item["cpu_percent"] is not None:
            item["cpu_percent_per_1000_cps"] = round(item["cpu_percent"] / (booted / 1000.0), 3)
        if summary is not None:
            totals = summary.get("totals") or {}
            item["requests"] = totals.get("requests")
            item["failures"] = totals.get("failures")
            item["errors"] = [
                f"{e.get('type')} {e.get('name')}: {e.get('error')} x{e.get('occurrences')}"
                for e in (summary.get("errors") or [])[:5]
            ]
            item["summary_fidelity"] = summary_fidelity(summary)
        else:
            item["summary"] = "not written"
            item["output_tail"] = fleet.tail()
        if fleet.warnings:
            warnings = list(fleet.warnings)
            item["warnings"] = (
                warnings[:3] + (["..."] if len(warnings) > 8 else []) + warnings[max(3, len(warnings) - 5) :]
            )
        if target.csms is not None:
            cb, ca = csms_before[index], csms_after[index]
            r0, r1 = csms_ramp0[index], csms_ramp1[index]
            assert cb is not None and ca is not None and r0 is not None and r1 is not None
            item["connected"] = ca["open"]
            item["heartbeating"] = min(ca["heartbeat_cps"], booted or 0)
            item["csms_calls_in_window"] = ca["calls"]
            item["csms_cpu_percent"] = round(100.0 * (ca["cpu_s"] - cb["cpu_s"]) / elapsed, 2) if elapsed else None
            item["csms_cpu_percent_ramp"] = round(100.0 * (r1["cpu_s"] - r0["cpu_s"]) / max(ramp_wall, 0.1), 1)
        per_worker.append(item)
        hb = item.get("heartbeating")
        log(
            f"capacity/{name}: {target.label}: booted {booted}, heartbeating {hb}, RSS {item['rss_mib']} MiB"
            f" ({item.get('rss_kib_per_cp')} KiB/CP), CPU {item['cpu_percent']}%,"
            f" loop lag p99 {item['loop_lag_p99_ms']} ms, stop {item['stop']}"
        )
    return {
        "heartbeat_interval_s": heartbeat,
        "sessions": sessions,
        "per_worker": per_worker,
        "total_heartbeating": sum(int(w.get("heartbeating") or 0) for w in per_worker),
        "total_booted": sum(int(w.get("booted") or 0) for w in per_worker),
        "_timeline": {t.label: t.timeline for t in targets},
    }


def _watch(targets: list[Target], started: float, seconds: float) -> list[int]:
    """Sample every target's process once a second for ``seconds``; the peak RSS (KiB) of each."""
    end = time.monotonic() + seconds
    peaks = [0] * len(targets)
    while time.monotonic() < end:
        time.sleep(min(1.0, max(0.0, end - time.monotonic())))
        for index, target in enumerate(targets):
            assert target.fleet is not None
            sample = target.fleet.sample()
            peaks[index] = max(peaks[index], sample.rss_kib)
            target.timeline.append(
                (round(sample.t - started, 2), _booted(target), sample.rss_kib, round(sample.cpu_s, 2))
            )
    return peaks


def _booted_from_timeline(target: Target) -> int:
    return target.timeline[-1][1] if target.timeline else 0


def _baseline(options: Options, workdir: str) -> dict[str, Any]:
    """One user, idle: the fixed RSS and open files of a fleet process."""
    csms = None if options.host else start_csms(options, "127.0.0.1:0", heartbeat_interval=60)
    try:
        host = options.host or csms_urls(csms)[0]  # type: ignore[arg-type]
        summary = os.path.join(workdir, "baseline.json")
        args = fleet_command(host, 1, 1, run_time_s=120, heartbeat_interval=60, sessions=False, json_summary=summary)
        fleet = FleetProcess(args, "baseline", summary)
        fleet.start()
        try:
            deadline = time.monotonic() + 60
            target = Target("baseline", host, 1, csms=csms, fleet=fleet)
            while time.monotonic() < deadline and fleet.alive() and _booted(target) < 1:
                time.sleep(0.5)
            time.sleep(3.0)  # statuses sent, spawning complete, gc.freeze done
            sample = fleet.sample()
        finally:
            stop = fleet.stop(60)
        return {"command": fleet.command, "rss_kib": sample.rss_kib, "open_fds": sample.fds, "stop": stop}
    finally:
        if csms is not None:
            csms.stop()


def _targets(options: Options, count: int, users: int, heartbeat: int) -> list[Target]:
    targets = []
    for i in range(count):
        if options.host:
            targets.append(Target(f"worker{i + 1}", options.host, users))
        else:
            csms = start_csms(options, f"127.0.0.{i + 1}:0", heartbeat_interval=heartbeat)
            targets.append(Target(f"worker{i + 1}", csms_urls(csms)[0], users, csms=csms))
    return targets


def _stop_csms(targets: list[Target]) -> None:
    for target in targets:
        if target.csms is not None:
            target.csms.stop()


def run_capacity(options: Options) -> dict[str, Any]:
    """Quick: 2,000 users idle (two workers at once, 30 s heartbeat) and with sessions. Full: the
    open-files wall, idle (60 s heartbeat), with sessions, and two workers at once."""
    quick = options.quick
    heartbeat = 30 if quick else 60
    stop_timeout = 60.0 if quick else 180.0
    results: dict[str, Any] = {"csms": options.host or f"benchmarks.fastcsms ({csms_loop(options)})"}
    with tempfile.TemporaryDirectory(prefix="vocpp-bench-") as workdir:
        baseline = _baseline(options, workdir)
        results["baseline"] = baseline
        fd_limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        wall = fd_limit - (baseline["open_fds"] - 1) - FD_RESERVE
        users = QUICK_USERS if quick else wall
        results["users_per_worker"] = users
        results["open_files_limit"] = fd_limit
        results["fleet_process_own_fds"] = baseline["open_fds"] - 1
        log(
            f"capacity: baseline RSS {baseline['rss_kib'] / 1024:.1f} MiB, {baseline['open_fds']} open files"
            f" with one charge point; {users} users per worker (open-files wall {wall})"
        )
        runs: list[tuple[str, int, bool, float, float]] = []  # name, workers, sessions, settle, window
        if quick:
            runs = [("two_workers", 2, False, 3.0, heartbeat + 2.0), ("sessions", 1, True, 15.0, 20.0)]
        else:
            runs = [
                ("idle", 1, False, 5.0, heartbeat + 2.0),
                ("sessions", 1, True, 30.0, 60.0),
                ("two_workers", 2, False, 5.0, heartbeat + 2.0),
            ]
        for name, workers, sessions, settle, window in runs:
            count = min(users, SESSIONS_USERS) if sessions else users
            targets = _targets(options, workers, count, heartbeat)
            t0 = time.monotonic()
            try:
                results[name] = fleet_run(
                    targets,
                    heartbeat=heartbeat,
                    sessions=sessions,
                    settle_s=settle,
                    window_s=window,
                    baseline_rss_kib=baseline["rss_kib"],
                    stop_timeout=stop_timeout,
                    workdir=workdir,
                    name=name,
                )
            except Exception as exc:  # one broken run must not lose the others' figures
                log(f"capacity/{name}: failed: {type(exc).__name__}: {exc}")
                results[name] = {"error": f"{type(exc).__name__}: {exc}"}
            finally:
                _stop_csms(targets)
            results[name]["elapsed_s"] = round(time.monotonic() - t0, 1)
    return results


def _min(values: list[Any]) -> Any:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def _max(values: list[Any]) -> Any:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def capacity_figures(cap: dict[str, Any]) -> dict[str, Any]:
    """The headline keys from :func:`run_capacity`'s result (per worker: the worst worker)."""
    flat: dict[str, Any] = {}
    quick = "idle" not in cap
    idle = cap.get("idle") if not quick else cap.get("two_workers")
    if idle and idle.get("per_worker"):
        workers = idle["per_worker"]
        held = [
            min(int(w.get("booted") or 0), int(w["heartbeating"] if w.get("heartbeating") is not None else 1 << 30))
            for w in workers
        ]
        flat["fleet_cps_per_worker_quick" if quick else "fleet_max_cps_per_worker"] = min(held)
        flat["fleet_users_asked_per_worker"] = cap.get("users_per_worker")
        flat["fleet_rss_kib_per_cp_idle"] = _max([w.get("rss_kib_per_cp") for w in workers])
        flat["fleet_idle_cpu_percent"] = _max([w.get("cpu_percent") for w in workers])
        flat["fleet_idle_cpu_percent_per_1000_cps"] = _max([w.get("cpu_percent_per_1000_cps") for w in workers])
        flat["fleet_idle_heartbeat_interval_s"] = idle.get("heartbeat_interval_s")
        flat["fleet_loop_lag_p99_ms"] = _max([w.get("loop_lag_p99_ms") for w in workers])
        flat["fleet_heartbeats_on_time_ratio"] = _min(
            [((w.get("on_time") or {}).get("Heartbeat") or {}).get("ratio") for w in workers]
        )
        flat["fleet_idle_measured_with"] = "one worker alone" if not quick else "two workers at once (the worse)"
    sessions = cap.get("sessions")
    if sessions and sessions.get("per_worker"):
        worker = sessions["per_worker"][0]
        flat["fleet_sessions_users"] = worker.get("users")
        flat["fleet_rss_kib_per_cp_sessions"] = worker.get("rss_max_kib_per_cp")
        flat["fleet_sessions_cpu_percent"] = worker.get("cpu_percent")
        flat["fleet_sessions_charging"] = (worker.get("fleet_counts") or {}).get("charging")
    two = cap.get("two_workers")
    if two and two.get("per_worker"):
        held_two = sum(
            min(int(w.get("booted") or 0), int(w["heartbeating"] if w.get("heartbeating") is not None else 1 << 30))
            for w in two["per_worker"]
        )
        flat["fleet_two_workers_cps_quick" if quick else "fleet_two_workers_cps"] = held_two
    csms = []
    for run in ("idle", "sessions", "two_workers"):
        for w in (cap.get(run) or {}).get("per_worker") or []:
            csms += [w.get("csms_cpu_percent"), w.get("csms_cpu_percent_ramp")]
    flat["fleet_csms_cpu_percent_max"] = _max(csms)
    return flat
