"""Process measurements from the OS's own accounting (no sampling profiler involved)."""

from __future__ import annotations

import os
import resource
from typing import Any


def raise_nofile() -> int:
    """Raise the soft open-files limit to the hard one; return the (new) soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def cpu_s() -> float:
    """User + system CPU seconds of this process (its threads included, children excluded)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def preemptions() -> int:
    """Involuntary context switches of this process so far: how often something else took the core."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_nivcsw


def rss_kib() -> int:
    """Resident set size now, KiB (``/proc/self/statm``)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            pages = int(fh.read().split()[1])
    except OSError:
        return 0
    return pages * resource.getpagesize() // 1024


def open_fds() -> int:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return -1


def percentiles(values: Any, points: tuple[float, ...] = (50, 90, 95, 99, 99.9)) -> dict[str, float]:
    """``{"n", "mean", "p50", ..., "max"}`` of a sequence of numbers (nearest-rank on a sorted copy)."""
    data = sorted(values)
    out: dict[str, float] = {"n": float(len(data))}
    if not data:
        return out
    out["mean"] = sum(data) / len(data)
    for p in points:
        index = min(len(data) - 1, max(0, round(p / 100.0 * len(data)) - 1))
        out[f"p{p:g}"] = data[index]
    out["max"] = data[-1]
    return out


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    import platform

    model = ""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_kib = 0
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            mem_kib = int(fh.readline().split()[1])
    except (OSError, ValueError, IndexError):
        pass
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "nofile_hard": hard,
        "load_avg_1m_at_start": round(os.getloadavg()[0], 2),
    }
