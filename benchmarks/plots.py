"""PNG plots of the benchmark results (matplotlib, Agg backend)."""

from __future__ import annotations

import os
from collections import defaultdict
from typing import Any

from benchmarks.procutil import percentiles


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def storm(data: dict[str, Any], path: str) -> str:
    """Connected charge points, reconnect attempts and latency percentiles per second, across the storm."""
    plt = _pyplot()
    plot = data["_plot"]
    zero = plot["killed_at"]
    fig, (ax1, ax2, ax3) = plt.subplots(3, 1, figsize=(10, 9), sharex=True, height_ratios=[2, 1, 2])
    times = [t - zero for t, _ in plot["timeline"]]
    ax1.plot(times, [n for _, n in plot["timeline"]], color="tab:blue", linewidth=2)
    ax1.set_ylabel("connected charge points")
    ax1.set_ylim(bottom=0)
    ax1.set_title(
        f"Reconnect storm: {data['charge_points']} charge points, CSMS killed at 0 s, back after "
        f"{data['csms_down_s']:g} s"
        + (f", all reconnected {data['all_reconnected_s']} s later" if data["all_reconnected_s"] else "")
    )
    attempts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    rtt: dict[int, list[float]] = defaultdict(list)
    handshakes: dict[int, list[float]] = defaultdict(list)
    for at, request_type, name, response_time, ok in plot["events"]:
        second = int(at - zero + 1000) - 1000
        if name == "reconnect":
            attempts[second][0 if ok else 1] += 1
            if ok:
                handshakes[second].append(response_time)
        elif request_type.startswith("OCPP") and ok:
            rtt[second].append(response_time)
    seconds = sorted(attempts)
    ax2.bar(seconds, [attempts[s][0] for s in seconds], color="tab:green", label="reconnected", align="edge")
    ax2.bar(
        seconds,
        [attempts[s][1] for s in seconds],
        bottom=[attempts[s][0] for s in seconds],
        color="tab:red",
        label="refused / failed",
        align="edge",
    )
    ax2.set_ylabel("reconnect attempts / s")
    ax2.legend(loc="upper right")
    for label, series, style in (("round trip", rtt, "-"), ("reconnect handshake", handshakes, "--")):
        xs = sorted(series)
        stats = [percentiles(series[s]) for s in xs]
        for point, color in (("p50", "tab:blue"), ("p95", "tab:orange"), ("p99", "tab:red")):
            ax3.plot(
                [x + 0.5 for x in xs],
                [max(s.get(point, 0.0), 0.01) for s in stats],
                style,
                color=color,
                label=f"{label} {point}",
                marker="." if style == "-" else None,
            )
    ax3.set_yscale("log")
    ax3.set_ylabel("latency per second (ms, log)")
    ax3.set_xlabel("seconds since the CSMS was killed")
    ax3.legend(loc="upper right", fontsize=8, ncol=2)
    for ax in (ax1, ax2, ax3):
        ax.axvline(0, color="black", linestyle=":", linewidth=1)
        ax.axvline(plot["restarted_at"] - zero, color="gray", linestyle=":", linewidth=1)
        ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def roundtrips(data: dict[str, Any], path: str) -> str:
    """Round trips per CPU-second: the two floors versus the harness, every sample shown."""
    plt = _pyplot()
    labels = {
        "raw": "websocket-client floor\n(its send/recv_data + orjson)",
        "raw_frame": "engine-framing floor\n(send_text/FrameReader + orjson)",
        "harness_novalidation": "harness\n(stats on, validation off)",
        "harness": "harness\n(stats + validation on)",
    }
    keys = list(labels)
    medians = [
        data["raw_roundtrips_per_cpu_s"],
        data["raw_frame_roundtrips_per_cpu_s"],
        data["roundtrips_per_cpu_s_novalidation"],
        data["roundtrips_per_cpu_s"],
    ]
    fig, ax = plt.subplots(figsize=(9, 5))
    bars = ax.bar(range(len(keys)), medians, color=["tab:gray", "silver", "tab:cyan", "tab:blue"], width=0.6)
    for i, key in enumerate(keys):
        values = [s["per_cpu_s"] for s in data["samples"][key]]
        ax.scatter([i] * len(values), values, color="black", s=12, zorder=3)
    for bar, value in zip(bars, medians, strict=True):
        ax.annotate(f"{value:,}", (bar.get_x() + bar.get_width() / 2, value), ha="center", va="bottom")
    ax.set_xticks(range(len(keys)), [labels[k] for k in keys], fontsize=8)
    ax.set_ylabel("OCPP round trips per CPU-second (median; dots = rounds)")
    ax.set_title(
        f"Cost per round trip ({data['connections']} connections): harness / websocket-client floor = "
        f"{data['ratio_vs_raw']:.2f}, / engine-framing floor = {data['ratio_vs_raw_frame']:.2f}",
        fontsize=10,
    )
    ax.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def capacity(data: dict[str, Any], path: str) -> str:
    """Charge points booted and RSS of each fleet process over its run (``locust -f locustfiles/fleet.py``)."""
    plt = _pyplot()
    runs = [name for name in ("idle", "sessions", "two_workers") if "_timeline" in (data.get(name) or {})]
    fig, axes = plt.subplots(1, len(runs), figsize=(6 * len(runs), 4.5), squeeze=False)
    for ax, name in zip(axes[0], runs, strict=True):
        twin = ax.twinx()
        for index, (label, timeline) in enumerate(data[name]["_timeline"].items()):
            if not timeline:
                continue
            t = [row[0] for row in timeline]
            style = "-" if index == 0 else "--"
            ax.plot(t, [row[1] for row in timeline], style, color="tab:blue", label=f"{label}: booted")
            twin.plot(t, [row[2] / 1024 for row in timeline], style, color="tab:red", label=f"{label}: RSS")
        ax.set_xlabel("seconds since locust started")
        ax.set_ylabel("charge points booted (CSMS's count)", color="tab:blue")
        twin.set_ylabel("RSS of the locust process (MiB)", color="tab:red")
        ax.set_ylim(bottom=0)
        twin.set_ylim(bottom=0)
        ax.set_title(name.replace("_", " "))
        lines = ax.get_legend_handles_labels()
        more = twin.get_legend_handles_labels()
        ax.legend(lines[0] + more[0], lines[1] + more[1], loc="lower right", fontsize=8)
        ax.grid(True, alpha=0.3)
    fig.suptitle("locust -f locustfiles/fleet.py --headless: ramp and watch window", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def fidelity(data: dict[str, Any], path: str) -> str:
    """Offered vs achieved rate, reported vs reference latency, and the harness's CPU and preemptions."""
    plt = _pyplot()
    steps = data["steps"]
    offered = [s["offered_per_s"] for s in steps]
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(16, 5))
    ax1.plot(offered, offered, ":", color="gray", label="offered")
    ax1.plot(offered, [s["achieved_per_s"] for s in steps], "o-", color="tab:blue", label="achieved")
    ax1.set_xlabel("offered messages / s (1000 charge points)")
    ax1.set_ylabel("messages / s")
    ax1.set_title("Offered vs achieved")
    ax1.legend()
    for key, color, label in (
        ("harness_p50_ms", "tab:blue", "harness p50"),
        ("harness_p99_ms", "tab:red", "harness p99"),
        ("reference_p50_ms", "tab:cyan", "reference p50 (probe, same time)"),
        ("reference_p99_ms", "tab:orange", "reference p99 (probe, same time)"),
    ):
        marker = "o-" if key.startswith("harness") else "s--"
        ax2.plot(offered, [max(s[key], 0.01) for s in steps], marker, color=color, label=label)
    for s in steps:
        if not s["faithful"]:
            ax2.annotate(
                "x",
                (s["offered_per_s"], max(s["harness_p99_ms"], 0.01)),
                color="black",
                ha="center",
                va="bottom",
                fontsize=9,
                fontweight="bold",
            )
    ax2.set_yscale("log")
    ax2.set_xlabel("offered messages / s")
    ax2.set_ylabel("latency (ms, log); x = step not faithful")
    ax2.set_title("Reported vs reference latency")
    ax2.legend(fontsize=8)
    ax3.plot(offered, [s["harness_cpu_percent"] for s in steps], "o-", color="tab:purple", label="harness CPU %")
    ax3.set_ylim(0, 105)
    ax3.set_xlabel("offered messages / s")
    ax3.set_ylabel("harness CPU % (one core = 100)")
    ax3.set_title("Harness CPU and preemptions by other processes")
    twin = ax3.twinx()
    width = max(offered) / len(offered) / 3
    twin.bar(
        offered, [s["preempted_per_s"] for s in steps], width=width, color="tab:gray", alpha=0.4, label="preempted / s"
    )
    twin.set_ylabel("involuntary context switches / s")
    lines = ax3.get_legend_handles_labels()
    bars = twin.get_legend_handles_labels()
    ax3.legend(lines[0] + bars[0], lines[1] + bars[1], loc="upper left", fontsize=8)
    for ax in (ax1, ax2, ax3):
        ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def write_all(results: dict[str, Any], out_dir: str) -> dict[str, str]:
    os.makedirs(out_dir, exist_ok=True)
    written: dict[str, str] = {}
    try:
        _pyplot()
    except ImportError:
        return {"skipped": "matplotlib is not installed (pip install -e '.[bench]')"}
    if "storm" in results and "_plot" in results["storm"]:
        written["storm"] = storm(results["storm"], os.path.join(out_dir, "storm.png"))
    if "capacity" in results and any(
        "_timeline" in (v or {}) for v in results["capacity"].values() if isinstance(v, dict)
    ):
        written["capacity"] = capacity(results["capacity"], os.path.join(out_dir, "capacity.png"))
    if "roundtrip" in results and "samples" in results["roundtrip"]:
        written["roundtrips"] = roundtrips(results["roundtrip"], os.path.join(out_dir, "roundtrips.png"))
    if "latency" in results and "steps" in results["latency"]:
        written["fidelity"] = fidelity(results["latency"], os.path.join(out_dir, "fidelity.png"))
    return written
