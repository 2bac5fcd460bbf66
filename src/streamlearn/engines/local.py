"""The local engine: one process, micro-batches pulled from the source in a loop."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from streamlearn.codecs.layout import SAMPLE
from streamlearn.engines.base import Arrival, Engine, Feed
from streamlearn.process import BatchProcessor
from streamlearn.records.batch import RawBatch
from streamlearn.sources.base import Progress, Source

if TYPE_CHECKING:
    from streamlearn.checkpoint import Checkpoint
    from streamlearn.pipeline import Pipeline

__all__ = ["LocalEngine", "LocalFeed", "collect_batch"]

#: how long one poll waits for records before the loop looks around again
POLL_S = 0.2


def collect_batch(source: Source, limit: int, interval: float | None, bounded: bool) -> RawBatch:
    """Read one micro-batch of at most ``limit`` records.

    With an ``interval``, read until it elapses (or ``limit`` is reached).
    Without one, a bounded run reads until ``limit`` or the source's end, so
    batch boundaries do not depend on timing and a restarted run sees the
    same batches; an unbounded run takes what is available now.
    """
    parts: list[RawBatch] = []
    got = 0
    deadline = time.monotonic() + interval if interval else None
    while got < limit:
        wait = POLL_S if deadline is None else max(0.0, min(POLL_S, deadline - time.monotonic()))
        raw = source.read(limit - got, wait)
        if len(raw):
            parts.append(raw)
            got += len(raw)
        if source.exhausted:
            break
        if deadline is not None:
            if time.monotonic() >= deadline:
                break
        elif not len(raw) and not (bounded and got):
            break
    if not parts:
        return RawBatch.empty(source.origin, source.position_kind)
    return RawBatch.concat(parts)


class LocalFeed(Feed):
    """Batches read from the source in this process."""

    def __init__(self, pipeline: Pipeline, source: Source, saved: Checkpoint | None) -> None:
        self.pipeline = pipeline
        self.source = source
        self.processor = BatchProcessor(pipeline, source)
        if saved is not None:
            self.processor.restore(saved.processor)
        source.open(snapshot=saved.source_position if saved is not None else None)
        if not self.processor.settled:  # decide formats and types on the first records
            self.processor.settle(source.peek(SAMPLE) or [])

    def arrivals(self) -> Iterator[Arrival | None]:
        until = self.pipeline.until
        bounded = until.mode != "idle"
        idle_since = time.monotonic()
        while True:
            limit = self.pipeline.batch_size
            if until.mode == "count":
                limit = min(limit, int(until.value) - self.processor.consumed)
                if limit <= 0:
                    return
            raw = collect_batch(self.source, limit, self.pipeline.batch_interval, bounded)
            if len(raw):
                idle_since = time.monotonic()
                yield Arrival(raw)
            elif self.source.exhausted:
                return
            elif until.mode == "idle" and time.monotonic() - idle_since >= until.value:
                # idle means nothing new while the source answers: a lost broker fails instead
                if self.source.reachable():
                    return
                yield None
            else:
                yield None

    def snapshot(self) -> dict[str, Any]:
        return self.source.snapshot()

    def progress(self) -> Progress:
        return self.source.progress()

    def describe(self) -> dict[str, Any]:
        return self.source.describe()

    def source_summary(self) -> dict[str, Any]:
        return self.source.describe()

    def close(self) -> None:
        self.source.close()


class LocalEngine(Engine):
    """Runs a pipeline in this process."""

    name = "local"

    def open(
        self, pipeline: Pipeline, source: Source, saved: Checkpoint | None, checkpoint: Path | None
    ) -> Feed:
        return LocalFeed(pipeline, source, saved)
