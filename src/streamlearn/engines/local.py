"""The local engine: one process, micro-batches pulled from the source in a loop."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from streamlearn.checkpoint import Checkpoint, Checkpointer
from streamlearn.engines.base import Engine, Observer
from streamlearn.engines.core import BatchProcessor
from streamlearn.pipeline import Pipeline, fingerprint
from streamlearn.records.batch import RawBatch
from streamlearn.sinks.base import Sink
from streamlearn.sources.base import Source

__all__ = ["LocalEngine", "collect_batch"]

#: how long one poll waits for records before the loop looks around again
POLL_S = 0.2


def _concat(parts: list[RawBatch]) -> RawBatch:
    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    keys = None
    if any(p.keys is not None for p in parts):
        keys = [k for p in parts for k in (p.keys or [None] * len(p))]
    return RawBatch(
        first.origin,
        [x for p in parts for x in p.payloads],
        np.concatenate([p.partitions for p in parts]),
        np.concatenate([p.offsets for p in parts]),
        keys,
        first.position_kind,
    )


def collect_batch(
    source: Source, limit: int, interval: float | None, bounded: bool
) -> RawBatch:
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
        return RawBatch.empty(getattr(source, "name", source.kind), source.position_kind)
    return _concat(parts)


class LocalEngine(Engine):
    """Runs a pipeline in this process.

    Stops at the end of a bounded source, after ``until`` idle seconds or
    ``count`` records, or on Ctrl-C (the summary so far is still returned,
    with ``interrupted`` set).
    """

    name = "local"

    def run(
        self,
        pipeline: Pipeline,
        sinks: Sequence[Sink] = (),
        observer: Observer | None = None,
        checkpoint: str | None = None,
        checkpoint_every: int = 1,
    ) -> dict[str, Any]:
        observer = observer or Observer()
        source = pipeline.build_source()
        ckpt_writer = (
            Checkpointer(checkpoint, fingerprint(pipeline), checkpoint_every) if checkpoint else None
        )
        saved = ckpt_writer.load() if ckpt_writer else None
        source.open(resume=saved.source_position if saved else None)
        processor = BatchProcessor(pipeline, source)
        next_batch, elapsed_before = 0, 0.0
        if saved is not None:
            processor.restore(saved.processor)
            next_batch, elapsed_before = saved.next_batch, saved.elapsed_s
        for sink in sinks:
            sink.open(resume=saved.sink_positions.get(sink.name) if saved else None)
        until = pipeline.until
        bounded = until.mode != "idle"
        started = time.monotonic()
        interrupted = False
        observer.on_start({
            "engine": self.name,
            "resumed_at_batch": next_batch,
            "keyed_summary": processor.keyed_summary,
            **source.describe(),
        })
        try:
            idle_since = time.monotonic()
            while True:
                limit = pipeline.batch_size
                if until.mode == "count":
                    limit = min(limit, int(until.value) - processor.consumed)
                    if limit <= 0:
                        break
                raw = collect_batch(source, limit, pipeline.batch_interval, bounded)
                if not len(raw):
                    if source.exhausted:
                        break
                    if until.mode == "idle" and time.monotonic() - idle_since >= until.value:
                        break
                    observer.on_idle(source.progress())
                    continue
                idle_since = time.monotonic()
                result = processor.process(raw, next_batch)
                next_batch += 1
                for sink in sinks:
                    sink.write(result)
                if ckpt_writer is not None and ckpt_writer.due(next_batch):
                    ckpt_writer.save(
                        self._checkpoint(processor, source, sinks, next_batch, ckpt_writer, elapsed_before, started)
                    )
                observer.on_batch(result, source.progress())
            if ckpt_writer is not None:
                ckpt_writer.save(
                    self._checkpoint(processor, source, sinks, next_batch, ckpt_writer, elapsed_before, started)
                )
        except KeyboardInterrupt:
            interrupted = True
        finally:
            summary = processor.final_summary(
                self.name, elapsed_before + time.monotonic() - started, source.describe()
            )
            for sink in sinks:
                sink.close()
            source.close()
        summary["interrupted"] = interrupted
        observer.on_end(summary)
        return summary

    @staticmethod
    def _checkpoint(
        processor: BatchProcessor,
        source: Source,
        sinks: Sequence[Sink],
        next_batch: int,
        writer: Checkpointer,
        elapsed_before: float,
        started: float,
    ) -> Checkpoint:
        return Checkpoint(
            next_batch=next_batch,
            processor=processor.snapshot(),
            source_position=source.position(),
            sink_positions={s.name: s.position() for s in sinks},
            fingerprint=writer.fingerprint,
            elapsed_s=elapsed_before + time.monotonic() - started,
        )
