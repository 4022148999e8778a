"""``python -m benchmarks [--quick] [--json FILE] [--out DIR] [--only SECTIONS] [--host URL]``

Prints a table of the figures and writes them as JSON (plots as PNG in ``--out``). Benchmarks
print figures; they never fail on a figure. Loopback targets only; every part is bounded in time.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import orjson

from benchmarks import plots
from benchmarks.capacity import capacity_figures, run_capacity
from benchmarks.common import Options, Parser, csms_loop, is_loopback_url, log
from benchmarks.compliance import run_compliance
from benchmarks.latency import run_latency
from benchmarks.procutil import machine, raise_nofile
from benchmarks.roundtrip import run_roundtrip
from benchmarks.storm import run_storm
from benchmarks.testbed_check import run_testbed_check

SECTIONS = ("capacity", "roundtrip", "latency", "storm", "testbed", "compliance")

TARGETS: dict[str, tuple[str, float]] = {
    "fleet_max_cps_per_worker": (">=", 19500),
    "fleet_rss_kib_per_cp_idle": ("<=", 40),
    "fleet_rss_kib_per_cp_sessions": ("<=", 48),
    "fleet_two_workers_cps": (">=", 39000),
    "fleet_idle_cpu_percent_per_1000_cps": ("<=", 1.0),
    "fleet_loop_lag_p99_ms": ("<=", 5.0),
    "ratio_vs_raw": (">=", 0.9),
    "ratio_vs_raw_frame": (">=", 0.5),
    "latency_p50_ratio_max_up_to_70pct_cpu": ("<=", 1.1),
    "latency_p50_ratio_min_up_to_70pct_cpu": (">=", 0.9),
    "latency_p50_ratio_max_up_to_70pct_cpu_csms_5ms": ("<=", 1.1),
    "latency_p50_ratio_min_up_to_70pct_cpu_csms_5ms": (">=", 0.9),
    "compliance_suite_s": ("<", 30),
    "probe_s": ("<", 2),
}


def _options(argv: list[str] | None) -> tuple[argparse.Namespace, Options]:
    parser = Parser(prog="python -m benchmarks", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="shorter runs (under ~5 minutes on 2 cores)")
    parser.add_argument("--json", metavar="FILE", help="write the figures as JSON to FILE")
    parser.add_argument("--out", metavar="DIR", default="benchmark-results", help="PNG plots go here")
    parser.add_argument("--only", metavar="SECTIONS", help=f"comma-separated subset of {','.join(SECTIONS)}")
    parser.add_argument(
        "--host", metavar="URL", help="an external CSMS (ws://, loopback only) instead of the benchmark CSMS"
    )
    parser.add_argument(
        "--csms-loop", choices=("auto", "asyncio", "uvloop"), default="auto", help="benchmark CSMS event loop"
    )
    parser.add_argument(
        "--latency-shared-cores",
        action="store_true",
        help="latency: let the CSMS share cores with the clients (default: the CSMS on a core of its own)",
    )
    args = parser.parse_args(argv)
    only = SECTIONS if not args.only else tuple(s.strip() for s in args.only.split(",") if s.strip())
    unknown = [s for s in only if s not in SECTIONS]
    if unknown:
        parser.error(f"--only: unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    if args.host and not is_loopback_url(args.host):
        parser.error(f"--host {args.host!r}: benchmarks target loopback addresses only (ws://127.0.0.x/...)")
    if args.csms_loop == "uvloop":
        try:
            import uvloop  # noqa: F401
        except ImportError:
            parser.error("--csms-loop uvloop: uvloop is not installed")
    args.only = only
    return args, Options(
        quick=args.quick,
        host=args.host,
        out_dir=args.out,
        loop=args.csms_loop,
        latency_own_core=not args.latency_shared_cores,
    )


def _flatten(results: dict[str, Any], options: Options) -> dict[str, Any]:
    """The headline keys, flat, from the sections that ran."""
    flat: dict[str, Any] = {}
    cap = results.get("capacity")
    if cap:
        flat.update(capacity_figures(cap))
    rt = results.get("roundtrip")
    if rt and "ratio_vs_raw" in rt:
        for key in (
            "roundtrips_per_cpu_s",
            "roundtrips_per_cpu_s_novalidation",
            "raw_roundtrips_per_cpu_s",
            "raw_frame_roundtrips_per_cpu_s",
            "ratio_vs_raw",
            "ratio_vs_raw_frame",
        ):
            flat[key] = rt[key]
    lat = results.get("latency")
    if lat and "steps" in lat:
        flat["latency_p50_ratio_max_up_to_70pct_cpu"] = lat["p50_ratio_max_up_to_70pct_cpu"]
        flat["latency_p50_added_ms_max_up_to_70pct_cpu"] = lat["p50"].get("inflation_p50_ms_max")
        slow = lat.get("slow_csms") or {}
        if slow.get("p50"):
            flat["latency_p50_ratio_max_up_to_70pct_cpu_csms_5ms"] = slow["p50"]["p50_ratio_max"]
            flat["latency_p50_ratio_min_up_to_70pct_cpu_csms_5ms"] = slow["p50"].get("p50_ratio_min")
            flat["latency_caller_p50_ratio_max_up_to_70pct_cpu_csms_5ms"] = slow["p50"].get("caller_p50_ratio_max")
            flat["latency_reference_spread_p50_max_csms_5ms"] = slow["p50"].get("reference_spread_p50_max")
            flat["latency_p50_ratio_max_up_to_70pct_cpu_csms_5ms_one_connection"] = slow["p50"].get(
                "p50_ratio_one_connection_max"
            )
            flat["latency_p50_ratio_min_up_to_70pct_cpu_csms_5ms_one_connection"] = slow["p50"].get(
                "p50_ratio_one_connection_min"
            )
        flat["latency_p50_ratio_min_up_to_70pct_cpu"] = lat["p50"].get("p50_ratio_min")
        flat["latency_p50_ratio_max_up_to_70pct_cpu_one_connection"] = lat["p50"].get("p50_ratio_one_connection_max")
        flat["latency_p50_ratio_min_up_to_70pct_cpu_one_connection"] = lat["p50"].get("p50_ratio_one_connection_min")
        flat["latency_reference_spread_p50_max_up_to_70pct_cpu"] = lat["p50"].get("reference_spread_p50_max")
        flat["latency_caller_p50_ratio_max_up_to_70pct_cpu"] = lat["p50"].get("caller_p50_ratio_max")
        flat["latency_reference_without_harness_p50_ms"] = lat["reference_without_harness_ms"].get("p50")
        flat["latency_reference_without_harness_one_connection_p50_ms"] = lat[
            "reference_without_harness_one_connection_ms"
        ].get("p50")
        flat["latency_low_load"] = lat["low_load"]
        flat["latency_high_load"] = lat["high_load"]
        flat["max_faithful_rate_per_s"] = lat["max_faithful_rate_per_s"]
        flat["max_faithful_cpu_percent"] = lat["max_faithful_cpu_percent"]
        flat["saturation_cpu_percent"] = lat["saturation_cpu_percent"]
        flat["falling_behind_at_per_s"] = lat["falling_behind_at_per_s"]
        flat["unfaithful_steps_below_saturation"] = len(lat["unfaithful_below_saturation"])
    storm = results.get("storm")
    if storm and "charge_points" in storm:
        flat["storm_charge_points"] = storm["charge_points"]
        flat["storm_all_reconnected_s"] = storm["all_reconnected_s"]
    tb = results.get("testbed")
    if tb:
        flat["testbed_is_bottleneck"] = tb["testbed_is_bottleneck"]
    comp = results.get("compliance")
    if comp:
        flat["compliance_suite_s"] = comp.get("compliance_suite_s")
        flat["probe_s"] = comp.get("probe_s")
        if comp.get("reason"):
            flat["compliance_null_reason"] = comp["reason"]
    return flat


def _fmt(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dict):
        if "harness_p50_ms" in value:
            return (
                f"{value['offered_per_s']}/s: p50 {value['harness_p50_ms']:.2f} ms"
                f" (ref {value['reference_p50_ms']:.2f}),"
                f" p99 {value['harness_p99_ms']:.2f} ms (ref {value['reference_p99_ms']:.2f}),"
                f" CPU {value['harness_cpu_percent']:.0f}%"
            )
    return str(value)


def _table(flat: dict[str, Any]) -> str:
    rows = [("figure", "value", "target", "met")]
    for key, value in flat.items():
        target, met = "", ""
        if key in TARGETS:
            op, bound = TARGETS[key]
            target = f"{op} {bound:g}"
            if value is not None:
                ok = {">=": value >= bound, "<=": value <= bound, "<": value < bound}[op]
                met = "yes" if ok else "NO"
        rows.append((key, _fmt(value), target, met))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = []
    for index, (a, b, c, d) in enumerate(rows):
        lines.append(f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:<{widths[2]}}  {d}".rstrip())
        if index == 0:
            lines.append("-" * (sum(widths) + 10))
    return "\n".join(lines)


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if not k.startswith("_")}
    return value


def main(argv: list[str] | None = None) -> int:
    args, options = _options(argv)
    raise_nofile()
    started = time.time()
    log(f"benchmarks: {'quick' if options.quick else 'full'} run of {', '.join(args.only)}")
    results: dict[str, Any] = {}
    steps: list[tuple[str, str, Callable[[], dict[str, Any]]]] = [
        ("capacity", "capacity", lambda: run_capacity(options)),
        ("roundtrip", "roundtrip", lambda: run_roundtrip(options)),
        ("latency", "latency", lambda: run_latency(options)),
        ("storm", "storm", lambda: run_storm(options)),
        ("testbed", "testbed", lambda: run_testbed_check(options)),
        ("compliance", "compliance", lambda: run_compliance(options)),
    ]
    for section, key, run in steps:
        if section not in args.only:
            continue
        t0 = time.monotonic()
        try:
            results[key] = run()
        except Exception as exc:  # one broken part must not lose the others' figures
            log(f"{key}: failed: {type(exc).__name__}: {exc}")
            results[key] = {"error": f"{type(exc).__name__}: {exc}"}
        results[key]["elapsed_s"] = round(time.monotonic() - t0, 1)
    written = plots.write_all(results, options.out_dir)
    flat = _flatten(results, options)
    document = {
        **flat,
        "quick": options.quick,
        "command": "python -m benchmarks " + " ".join(argv if argv is not None else sys.argv[1:]),
        "csms": options.host or f"benchmarks.fastcsms ({csms_loop(options)})",
        "machine": machine(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "duration_s": round(time.time() - started, 1),
        "plots": written,
        "targets": {k: f"{op} {bound:g}" for k, (op, bound) in TARGETS.items()},
        "details": _strip(results),
    }
    print(_table(flat))
    print(f"\n{len(results)} part(s) in {document['duration_s']:.0f} s; plots: {', '.join(written.values()) or 'none'}")
    if args.json:
        directory = os.path.dirname(os.path.abspath(args.json))
        os.makedirs(directory, exist_ok=True)
        with open(args.json, "wb") as fh:
            fh.write(orjson.dumps(document, option=orjson.OPT_INDENT_2))
        print(f"JSON: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
