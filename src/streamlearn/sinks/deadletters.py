"""Dead letters: a JSON line per bad record with its position, raw bytes and reason."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson

from streamlearn.errors import ConfigError
from streamlearn.outputs import Output, os_reason, output_failed
from streamlearn.sinks.base import BatchResult, Sink

__all__ = ["DeadLetterFile"]


class DeadLetterFile(Sink):
    """Appends dead letters to a JSON-lines file.

    Its position is the file size; resuming from a checkpoint truncates the
    file there, so letters of batches replayed after a crash are not doubled.
    """

    default_id = "dead_letters"

    def __init__(self, path: str | Path, sink_id: str | None = None) -> None:
        self.sink_id = sink_id
        self.path = Path(path)
        self.fh: Any = None
        self.count = 0

    def outputs(self) -> list[Output]:
        return [("dead letters", self.path, "file")]

    def open(self, snapshot: dict[str, Any] | None = None) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if snapshot and self.path.exists():
                with open(self.path, "r+b") as fh:
                    fh.truncate(int(snapshot.get("bytes", 0)))
                self.count = int(snapshot.get("count", 0))
                self.fh = open(self.path, "ab")  # noqa: SIM115 - held open across batches
            else:
                self.fh = open(self.path, "wb")  # noqa: SIM115 - held open across batches
        except OSError as exc:
            raise ConfigError(
                f"cannot write dead letters {self.path}: {os_reason(exc, self.path)}"
            ) from None

    def write(self, result: BatchResult) -> None:
        if not result.dead_letters:
            return
        lines = b"".join(
            orjson.dumps({**d.to_dict(), "batch": result.batch_id + 1}) + b"\n"
            for d in result.dead_letters
        )
        try:
            self.fh.write(lines)
        except OSError as exc:
            raise output_failed("dead letters", self.path, exc) from None
        self.count += len(result.dead_letters)

    def snapshot(self) -> dict[str, Any]:
        try:
            self.fh.flush()
            os.fsync(self.fh.fileno())
        except OSError as exc:
            raise output_failed("dead letters", self.path, exc) from None
        return {"bytes": self.fh.tell(), "count": self.count}

    def close(self) -> None:
        fh, self.fh = self.fh, None
        if fh is not None:
            try:
                fh.close()
            except OSError as exc:
                raise output_failed("dead letters", self.path, exc) from None
