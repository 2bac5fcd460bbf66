"""Helpers the test modules share: the CLI in a subprocess, topics, kills, metrics."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["cli", "kill_when", "metrics", "start_cli", "uninterrupted_and_resumed", "write_topic"]


def cli(
    *args: str, timeout: float = 300, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``streamlearn ARGS`` in a fresh interpreter, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "streamlearn", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
    )


def start_cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "streamlearn", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill_when(
    proc: subprocess.Popen[str],
    ready: Callable[[], bool],
    sig: int = signal.SIGKILL,
    limit_s: float = 240,
) -> bool:
    """Send ``sig`` once ``ready()`` holds; False if the process ended first."""
    deadline = time.monotonic() + limit_s
    while proc.poll() is None and not ready() and time.monotonic() < deadline:
        time.sleep(0.005)
    if proc.poll() is not None:
        return False
    proc.send_signal(sig)
    proc.communicate(timeout=60)
    return True


def uninterrupted_and_resumed(
    args: Sequence[str],
    cwd: Path,
    kill_after_s: Sequence[float],
    env: dict[str, str] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Metrics of ``streamlearn ARGS`` run whole, and of the same run SIGKILLed after each of
    ``kill_after_s`` seconds and resumed from its checkpoint until it completes."""

    def go(*extra: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "streamlearn", *args, *extra],
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    whole = go("--metrics-json", "whole.json")
    assert whole.wait(600) == 0, whole.stderr.read() if whole.stderr else ""
    for wait in kill_after_s:
        p = go("--checkpoint", "ck", "--metrics-json", "resumed.json")
        time.sleep(wait)
        p.send_signal(signal.SIGKILL)
        p.wait(60)
    last = go("--checkpoint", "ck", "--metrics-json", "resumed.json")
    assert last.wait(600) == 0, last.stderr.read() if last.stderr else ""
    return metrics(cwd / "whole.json"), metrics(cwd / "resumed.json")


def metrics(path: str | Path) -> dict[str, Any]:
    return dict(json.loads(Path(path).read_text()))


def write_topic(bootstrap: str, topic: str, payloads: Sequence[bytes], partitions: int = 1) -> None:
    from streamlearn.kafka.producer import KafkaWriter

    with KafkaWriter(bootstrap, topic, partitions=partitions) as writer:
        writer.write(list(payloads))
