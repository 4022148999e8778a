"""What every benchmark needs: options, the CSMS under the harness, loopback checks, progress lines."""

from __future__ import annotations

import argparse
import ipaddress
import socket
import sys
import time
from dataclasses import dataclass
from typing import NoReturn
from urllib.parse import urlsplit

from benchmarks.child import Child


@dataclass
class Options:
    quick: bool = False
    host: str | None = None
    """An external CSMS URL (loopback only) instead of the benchmark CSMS."""
    out_dir: str = "benchmark-results"
    loop: str = "auto"
    """Event loop of the benchmark CSMS: asyncio, uvloop, or auto (uvloop when installed)."""
    latency_own_core: bool = True
    """The latency steps: the CSMS on a core of its own, the harness and probes on the others."""


class Parser(argparse.ArgumentParser):
    """A bad option is one line (``PROG: error: ...``) and exit code 2, without the usage block."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        sys.exit(2)

    def numbers(self, option: str, text: str) -> list[float]:
        """``text`` (the value of ``option``) as comma-separated numbers, or one line and exit 2."""
        try:
            return [float(r) for r in text.split(",") if r.strip()]
        except ValueError:
            self.error(f"{option} {text!r}: comma-separated numbers")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def is_loopback_url(url: str) -> bool:
    """True when every address the URL's host resolves to is a loopback address."""
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        return False
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 80, proto=socket.IPPROTO_TCP)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(info[4][0]).is_loopback for info in infos)


def csms_loop(options: Options) -> str:
    if options.loop != "auto":
        return options.loop
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def start_csms(options: Options, *listen: str, heartbeat_interval: int = 60, delay_ms: float = 0.0) -> Child:
    """The benchmark CSMS (``benchmarks.fastcsms``) in its own process."""
    args = [f"--listen={spec}" for spec in listen or ("127.0.0.1:0",)]
    args += [f"--heartbeat-interval={heartbeat_interval}", f"--delay-ms={delay_ms}", f"--loop={csms_loop(options)}"]
    args += ["--max-seconds=1800"]
    return Child("benchmarks.fastcsms", *args, ready="fastcsms: ready")


def csms_urls(child: Child) -> list[str]:
    return [line.split()[-1] for line in child.lines if "listening on" in line]


def start_harness() -> Child:
    return Child("benchmarks.harness", ready='"ready"', timeout=60)
