"""Memory profile of a fleet process: a Locust add-on loaded next to the fleet's locustfile.

    PYTHONTRACEMALLOC=1 VOCPP_MEMPROBE_OUT=FILE VOCPP_MEMPROBE_DELAY=5 \\
        locust -f locustfiles/fleet.py,benchmarks/memprobe.py --headless --host ... -u N ...

It defines no User class; it only listens: on ``test_start`` (before any user exists) it takes a
tracemalloc snapshot and counts the live objects by type; ``VOCPP_MEMPROBE_DELAY`` seconds after
``spawning_complete`` it does both again and writes the difference (bytes allocated per source
line, objects per type) to ``VOCPP_MEMPROBE_OUT`` as JSON. Driven by :mod:`benchmarks.memprofile`;
not part of the figures (tracing memory costs memory and CPU).
"""

from __future__ import annotations

import gc
import os
import resource
import sys
import tracemalloc
from collections import Counter
from typing import Any

import gevent
import orjson
from locust import events

TOP = 40
_state: dict[str, Any] = {}


def _types() -> tuple[Counter[str], Counter[str]]:
    """Live objects the collector tracks (containers, instances), counted and sized by type."""
    frozen = gc.get_freeze_count() if hasattr(gc, "get_freeze_count") else 0
    if frozen:
        gc.unfreeze()  # frozen objects are invisible to gc.get_objects()
    counts: Counter[str] = Counter()
    sizes: Counter[str] = Counter()
    for obj in gc.get_objects():
        kind = type(obj)
        name = f"{kind.__module__}.{kind.__qualname__}"
        counts[name] += 1
        sizes[name] += sys.getsizeof(obj)
    if frozen:
        gc.freeze()
    return counts, sizes


def _rss_kib() -> int:
    with open("/proc/self/statm", encoding="ascii") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() // 1024


def _take() -> dict[str, Any]:
    gc.collect()
    counts, sizes = _types()
    return {
        "snapshot": tracemalloc.take_snapshot() if tracemalloc.is_tracing() else None,
        "counts": counts,
        "sizes": sizes,
        "rss_kib": _rss_kib(),
    }


def _malloc_trim_rss() -> int | None:
    """RSS after glibc's ``malloc_trim(0)``: how much of the RSS was free heap kept by the allocator."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        return None
    return _rss_kib()


def _users(environment: Any) -> int:
    runner = environment.runner
    return int(getattr(runner, "user_count", 0) or 0)


def _write(environment: Any) -> None:
    before = _state.get("before")
    after = _take()
    users = _users(environment)
    lines: list[dict[str, Any]] = []
    traced_kib = None
    if before is not None and before["snapshot"] is not None and after["snapshot"] is not None:
        diff = after["snapshot"].compare_to(before["snapshot"], "lineno")
        traced_kib = sum(d.size_diff for d in diff) / 1024
        for stat in diff[:TOP]:
            frame = stat.traceback[0]
            lines.append(
                {
                    "where": f"{frame.filename.split('site-packages/')[-1]}:{frame.lineno}",
                    "kib": round(stat.size_diff / 1024, 1),
                    "blocks": stat.count_diff,
                }
            )
    types = []
    if before is not None:
        grown = after["sizes"] - before["sizes"]
        for name, size in grown.most_common(TOP):
            types.append(
                {
                    "type": name,
                    "objects": after["counts"][name] - before["counts"][name],
                    "shallow_kib": round(size / 1024, 1),
                }
            )
    document = {
        "users": users,
        "rss_kib_before": before["rss_kib"] if before else None,
        "rss_kib_after": after["rss_kib"],
        "traced_kib": round(traced_kib, 1) if traced_kib is not None else None,
        "tracemalloc_frames": tracemalloc.get_traceback_limit() if tracemalloc.is_tracing() else 0,
        "lines": lines,
        "types": types,
    }
    document["rss_kib_after_malloc_trim"] = _malloc_trim_rss()
    out = os.environ.get("VOCPP_MEMPROBE_OUT", "memprobe.json")
    with open(out, "wb") as fh:
        fh.write(orjson.dumps(document, option=orjson.OPT_INDENT_2))


@events.test_start.add_listener
def _on_test_start(environment: Any, **_: Any) -> None:
    _state["before"] = _take()


@events.spawning_complete.add_listener
def _on_spawning_complete(user_count: int, **_: Any) -> None:
    environment = _state.get("environment")
    delay = float(os.environ.get("VOCPP_MEMPROBE_DELAY", "5"))
    gevent.spawn_later(delay, _write, environment)


@events.init.add_listener
def _on_init(environment: Any, **_: Any) -> None:
    _state["environment"] = environment
