"""The local engine: one process, micro-batches pulled from the source in a loop."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from streamlearn.codecs.layout import SAMPLE
from streamlearn.engines.base import Arrival, Engine, Feed
from streamlearn.evaluate.joined import JoinedRace
from streamlearn.process import BatchProcessor
from streamlearn.records.batch import RawBatch
from streamlearn.sinks.base import BatchResult
from streamlearn.sources.base import Progress, Source

if TYPE_CHECKING:
    from streamlearn.checkpoint import Checkpoint
    from streamlearn.kafka.label_feed import LabelFeed
    from streamlearn.pipeline import Pipeline

__all__ = ["Labels", "LocalEngine", "LocalFeed", "collect_batch"]

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


@dataclass
class Labels:
    """What an arrival brings from the label topic (``--labels``)."""

    raw: RawBatch | None
    #: the records ended: apply every label held
    drain: bool = False


class LocalFeed(Feed):
    """Batches read from the source in this process."""

    def __init__(self, pipeline: Pipeline, source: Source, saved: Checkpoint | None) -> None:
        self.pipeline = pipeline
        self.source = source
        self.processor = BatchProcessor(pipeline, source)
        if saved is not None:
            self.processor.restore(saved.processor)
        position = dict(saved.source_position) if saved is not None else None
        labels_at = position.pop("labels", None) if position is not None else None
        self.labels = _label_feed(pipeline, source)
        source.open(snapshot=position)
        if self.labels is not None:
            self.labels.open(labels_at)
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
                yield self._with_labels(raw)
            elif self.source.exhausted:
                yield from self._drain()
                return
            elif until.mode == "idle" and time.monotonic() - idle_since >= until.value:
                # idle means nothing new while the source answers: a lost broker fails instead
                if self.source.reachable():
                    yield from self._drain()
                    return
                yield None
            else:
                yield None

    def _with_labels(self, raw: RawBatch) -> Arrival:
        """The batch, with every label stamped at or before its latest record."""
        if self.labels is None:
            return Arrival(raw)
        assert raw.timestamps is not None
        return Arrival(raw, Labels(self.labels.read_through(int(raw.timestamps.max()))))

    def _drain(self) -> Iterator[Arrival]:
        """At the end of the records, the labels read and held are applied (when there are any)."""
        if self.labels is None:
            return
        rest = self.labels.read_through(None)
        race = self.processor.race
        if len(rest) or (isinstance(race, JoinedRace) and race.scheduled):
            yield Arrival(RawBatch.empty(self.source.origin), Labels(rest, drain=True))

    def process(self, arrival: Arrival, batch_id: int) -> BatchResult | None:
        labels = arrival.extra
        if labels is None:
            return self.processor.process(arrival.raw, batch_id)
        return self.processor.process(arrival.raw, batch_id, labels.raw, labels.drain)

    def snapshot(self) -> dict[str, Any]:
        if self.labels is not None:
            return {**self.source.snapshot(), "labels": self.labels.snapshot()}
        return self.source.snapshot()

    def progress(self) -> Progress:
        return self.source.progress()

    def describe(self) -> dict[str, Any]:
        return self.source.describe()

    def source_summary(self) -> dict[str, Any]:
        return self.source.describe()

    def close(self) -> None:
        self.source.close()
        if self.labels is not None:
            self.labels.close()


def _label_feed(pipeline: Pipeline, source: Source) -> LabelFeed | None:
    """The label topic's feed for ``--labels``; the records' source then gives timestamps too."""
    if pipeline.labels is None and pipeline.delay_seconds is None:
        return None
    from streamlearn.kafka.consumer import KafkaSource
    from streamlearn.kafka.label_feed import LabelFeed

    if isinstance(source, KafkaSource):
        source.timestamps = True
    if pipeline.labels is None:
        return None
    spec = pipeline.source_spec
    assert spec is not None and isinstance(source, KafkaSource)
    topic = pipeline.labels.partition(":")[2]
    return LabelFeed(
        KafkaSource(
            topic,
            bootstrap=spec.bootstrap,
            group_id=f"streamlearn-{topic}-labels",
            until_end=source.until_end,
            format="json",
            broker_timeout=spec.broker_timeout,
            timestamps=True,
            # labels are read in step with the records, a little at a time: a small
            # prefetch queue (16 MB, not 128 MB; benchmarks/delay.py --join 673 -> 657 MB)
            config={"queued.max.messages.kbytes": 16384},
        )
    )


class LocalEngine(Engine):
    """Runs a pipeline in this process."""

    name = "local"

    def open(
        self, pipeline: Pipeline, source: Source, saved: Checkpoint | None, checkpoint: Path | None
    ) -> Feed:
        return LocalFeed(pipeline, source, saved)
