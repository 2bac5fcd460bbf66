"""The ``foreachBatch`` function: one Spark micro-batch through the pipeline, once.

Spark's ``foreachBatch`` is at least once: after a failure or a restart, the
last batch may be handed over again with the same ``batchId``. The driver's
state (learners, metrics, mirrored keyed state, sink positions) is versioned
by the last ``batchId`` it absorbed and saved atomically after every batch,
so a replayed batch is recognised and skipped: nothing is learned twice.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from streamlearn.checkpoint import Checkpoint, Checkpointer
from streamlearn.engines.base import Observer
from streamlearn.engines.core import BatchProcessor
from streamlearn.engines.spark.keyed import ERROR, KeyedMirror, KeyedRow
from streamlearn.engines.spark.partitions import arrow_to_raw
from streamlearn.engines.spark.predict import BatchPredictor
from streamlearn.records.batch import RawBatch, RecordBatch
from streamlearn.sinks.base import Sink
from streamlearn.sources.base import Progress

__all__ = ["BatchDriver", "DriverState"]


@dataclass
class DriverState:
    """What the driver saves besides the processor: where it is in Spark's batches."""

    next_batch: int = 0
    spark_batch: int = -1
    #: per partition, the first offset read and the offset after the last one
    first: dict[int, int] = field(default_factory=dict)
    after: dict[int, int] = field(default_factory=dict)
    #: indices of the keyed steps whose state is in Spark's (a restart must agree)
    keyed: list[int] | None = None

    def position(self) -> dict[str, Any]:
        return {
            "spark_batch": self.spark_batch,
            "first": {str(p): o for p, o in self.first.items()},
            "after": {str(p): o for p, o in self.after.items()},
            "keyed": self.keyed,
        }

    @classmethod
    def from_checkpoint(cls, ckpt: Checkpoint) -> DriverState:
        pos = ckpt.source_position
        return cls(
            ckpt.next_batch,
            int(pos.get("spark_batch", -1)),
            {int(p): int(o) for p, o in pos.get("first", {}).items()},
            {int(p): int(o) for p, o in pos.get("after", {}).items()},
            pos.get("keyed"),
        )

    def advance(self, raw: RawBatch) -> None:
        if not len(raw):
            return
        parts = raw.partitions
        for p in np.unique(parts).tolist():
            offs = raw.offsets[parts == p]
            self.first.setdefault(p, int(offs.min()))
            self.after[p] = max(self.after.get(p, 0), int(offs.max()) + 1)


@dataclass
class BatchDriver:
    """Called by Spark with each micro-batch's DataFrame and ``batchId``."""

    processor: BatchProcessor
    sinks: Sequence[Sink]
    observer: Observer
    state: DriverState
    origin: str
    position_kind: str
    writer: Checkpointer | None = None
    mirrors: dict[int, KeyedMirror] = field(default_factory=dict)
    predictor: BatchPredictor | None = None
    #: stop after this many records (sources that cannot cap themselves)
    cap: int | None = None
    total: int | None = None
    elapsed_before: float = 0.0
    started: float = field(default_factory=time.monotonic)
    error: BaseException | None = None
    last_data: float = field(default_factory=time.monotonic)
    capped: bool = False
    #: batches whose predictions the executors computed
    distributed: int = 0

    def __call__(self, df: Any, batch_id: int) -> None:
        try:
            self.handle(df, int(batch_id))
        except BaseException as exc:
            # Spark wraps it in a JVM error; the engine re-raises this one
            self.error = exc
            raise

    def progress(self) -> Progress:
        return Progress(consumed=self.processor.consumed, total=self.total)

    def handle(self, df: Any, batch_id: int) -> None:
        if batch_id <= self.state.spark_batch or self.capped:
            # a replay of a batch whose effects are already saved: skip it, but
            # let keyed state commit it (Spark checks that every batch does)
            if self.mirrors:
                df.write.format("noop").mode("overwrite").save()
            return
        predict = self.predictor is not None and self.predictor.ready()
        if predict:
            assert self.predictor is not None
            df = self.predictor.attach(df)
        table = df.toArrow()
        if self.mirrors:
            table = self._dispatch(table)
        raw = arrow_to_raw(table, self.origin, self.position_kind)
        table = table.take(pa.array(_order(table))) if predict else table
        if self.cap is not None and self.processor.consumed + len(raw) >= self.cap:
            raw = _head(raw, self.cap - self.processor.consumed)
            self.capped = True
        if not len(raw):
            self._without_records(batch_id)
            return
        if predict:
            assert self.predictor is not None
            with self.predictor.precomputed(self.predictor.predictions(table)):
                result = self.processor.process(raw, self.state.next_batch)
            self.distributed += 1
        else:
            result = self.processor.process(raw, self.state.next_batch)
        self.state.next_batch += 1
        self.state.spark_batch = batch_id
        self.state.advance(raw)
        for sink in self.sinks:
            sink.write(result)
        self.save()
        self.last_data = time.monotonic()
        self.observer.on_batch(result, self.progress())

    def _dispatch(self, table: pa.Table) -> pa.Table:
        """Hand keyed-state rows to their mirrors; return the records."""
        kinds = table.column("_kind")
        notes = table.filter(pc.not_equal(kinds, 0)).to_pydict()
        for kind, step, key, part, off, blob in zip(
            notes["_kind"], notes["_step"], notes["_key"], notes["partition"], notes["offset"], notes["_blob"],
            strict=True,
        ):
            if kind == ERROR and step < 0:
                step = int(key.partition(":")[2])
            self.mirrors[step].pending.append(KeyedRow(kind, part, off, blob))
        return table.filter(pc.equal(kinds, 0))

    def _without_records(self, batch_id: int) -> None:
        """Only evictions (or nothing): update the mirrors, count no batch."""
        for mirror in self.mirrors.values():
            if mirror.pending:
                mirror.apply(_empty(self.origin, self.position_kind, self.state.next_batch))
        self.state.spark_batch = batch_id
        self.save()

    def save(self) -> None:
        if self.writer is None:
            return
        self.writer.save(
            Checkpoint(
                next_batch=self.state.next_batch,
                processor=self.processor.snapshot(),
                source_position=self.state.position(),
                sink_positions={s.name: s.position() for s in self.sinks},
                fingerprint=self.writer.fingerprint,
                elapsed_s=self.elapsed_before + time.monotonic() - self.started,
            )
        )


def _order(table: pa.Table) -> np.ndarray:
    parts = table.column("partition").to_numpy(zero_copy_only=False)
    offs = table.column("offset").to_numpy(zero_copy_only=False)
    return np.lexsort((offs, parts))


def _head(raw: RawBatch, n: int) -> RawBatch:
    n = max(0, n)
    return RawBatch(
        raw.origin, raw.payloads[:n], raw.partitions[:n], raw.offsets[:n],
        raw.keys[:n] if raw.keys is not None else None, raw.position_kind,
    )


def _empty(origin: str, position_kind: str, batch_id: int) -> RecordBatch:
    return RecordBatch(
        {}, origin, np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int64), batch_id, position_kind
    )
