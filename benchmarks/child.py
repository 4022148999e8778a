"""Child processes of the benchmarks (CSMS, harness, raw loop) spoken to in JSON lines on stdin/stdout."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import IO, Any

import orjson

ROOT = Path(__file__).resolve().parent.parent


class ChildError(RuntimeError):
    pass


class Child:
    """``python -m MODULE ARGS`` with a JSON-line command channel; stderr kept for diagnostics."""

    def __init__(self, module: str, *args: str, ready: str, timeout: float = 30.0) -> None:
        self.module = module
        self.args = list(args)
        env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONPATH=str(ROOT))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            cwd=str(ROOT),
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.stderr: deque[str] = deque(maxlen=200)
        assert self.proc.stderr is not None
        threading.Thread(target=self._drain, args=(self.proc.stderr,), daemon=True).start()
        self.lines: list[str] = []
        deadline = time.monotonic() + timeout
        while True:
            line = self._readline(deadline - time.monotonic())
            self.lines.append(line)
            if ready in line:
                break

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _drain(self, stream: IO[str]) -> None:
        for line in stream:
            self.stderr.append(line.rstrip())

    def _readline(self, timeout: float) -> str:
        assert self.proc.stdout is not None
        result: list[str] = []
        reader = threading.Thread(target=lambda: result.append(self.proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(max(timeout, 0.01))
        if not result or not result[0]:
            tail = "\n".join(list(self.stderr)[-20:])
            raise ChildError(f"{self.module}: no answer within {timeout:.0f} s (exit {self.proc.poll()}):\n{tail}")
        return result[0]

    def command(self, cmd: str, timeout: float = 600.0, **kwargs: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(orjson.dumps({"cmd": cmd, **kwargs}).decode() + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            tail = "\n".join(list(self.stderr)[-20:])
            raise ChildError(f"{self.module} {cmd}: {exc} (exit {self.proc.poll()}):\n{tail}") from None
        answer: dict[str, Any] = orjson.loads(self._readline(timeout))
        if "error" in answer:
            raise ChildError(f"{self.module} {cmd}: {answer['error']}")
        return answer

    def stop(self, timeout: float = 30.0) -> None:
        if self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write('{"cmd": "quit"}\n')
                self.proc.stdin.close()
            except (BrokenPipeError, OSError):
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self) -> None:
        """SIGKILL: every socket of the process is dropped at once (the reconnect storm)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def at_once(calls: list[tuple[Child, str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Each ``(child, command, arguments)`` at the same time, a thread each; their answers in the
    order given. Once all have ended (each command is bounded by its ``timeout``), the first
    failure is raised here, in the caller's thread, with the child's own words."""
    answers: list[dict[str, Any]] = [{} for _ in calls]
    errors: list[Exception] = []

    def run(index: int, child: Child, cmd: str, arguments: dict[str, Any]) -> None:
        try:
            answers[index] = child.command(cmd, **arguments)
        except Exception as exc:  # raised below, in the caller's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(k, *call)) for k, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return answers
