"""Mergeable latency histograms: response times bucketed as Locust does, summed over workers."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


def bucket(ms: float) -> int:
    """Locust's rounding of response times: exact below 100 ms, 2 significant digits above."""
    if ms < 100:
        return round(ms)
    digits = int(math.log10(ms)) - 1
    return int(round(ms, -digits))


@dataclass
class Histogram:
    """Response times in ms, bucketed as Locust does, so that workers' histograms can be summed."""

    counts: Counter[int] = field(default_factory=Counter)
    low: float | None = None
    high: float | None = None
    total: float = 0.0

    def add(self, ms: float) -> None:
        self.counts[bucket(ms)] += 1
        self.low = ms if self.low is None else min(self.low, ms)
        self.high = ms if self.high is None else max(self.high, ms)
        self.total += ms

    @property
    def count(self) -> int:
        return sum(self.counts.values())

    def percentile(self, fraction: float) -> float | None:
        """The smallest bucket that at least ``fraction`` of the samples do not exceed."""
        n = self.count
        if n == 0:
            return None
        rank = max(1, math.ceil(fraction * n))
        seen = 0
        for value in sorted(self.counts):
            seen += self.counts[value]
            if seen >= rank:
                return float(value)
        return float(max(self.counts))

    def merge(self, other: Histogram) -> None:
        self.counts.update(other.counts)
        if other.low is not None:
            self.low = other.low if self.low is None else min(self.low, other.low)
        if other.high is not None:
            self.high = other.high if self.high is None else max(self.high, other.high)
        self.total += other.total

    def to_wire(self) -> dict[str, Any]:
        """A msgpack-friendly form (no int map keys)."""
        return {
            "counts": [[k, v] for k, v in sorted(self.counts.items())],
            "low": self.low,
            "high": self.high,
            "total": self.total,
        }

    @classmethod
    def from_wire(cls, data: Any) -> Histogram:
        hist = cls()
        if isinstance(data, dict):
            for pair in data.get("counts") or []:
                hist.counts[int(pair[0])] += int(pair[1])
            hist.low, hist.high = data.get("low"), data.get("high")
            hist.total = float(data.get("total") or 0.0)
        return hist

    def figures(self) -> dict[str, Any]:
        """count, min, avg, p50, p90, p95, p99, max (ms), for reports and the JSON summary."""
        n = self.count
        return {
            "count": n,
            "min_ms": rounded(self.low),
            "avg_ms": rounded(self.total / n) if n else None,
            "p50_ms": self.percentile(0.50),
            "p90_ms": self.percentile(0.90),
            "p95_ms": self.percentile(0.95),
            "p99_ms": self.percentile(0.99),
            "max_ms": rounded(self.high),
        }


def rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def describe_latency(name: str, figures: dict[str, Any]) -> str:
    if not figures.get("count"):
        return f"{name}: no calls"
    return (
        f"{name}: n={figures['count']} min {figures['min_ms']:g} p50 {figures['p50_ms']:g} "
        f"p90 {figures['p90_ms']:g} p95 {figures['p95_ms']:g} p99 {figures['p99_ms']:g} max {figures['max_ms']:g} ms"
    )
