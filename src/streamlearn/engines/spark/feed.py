"""One run on Spark: the streaming query, and its micro-batches handed to the run loop.

Spark calls ``foreachBatch`` on a thread of its own with each micro-batch's
DataFrame and ``batchId``. :class:`SparkFeed` turns the DataFrame into a raw
batch there (with the keyed states Spark computed and, for batch
granularity, the executors' predictions), queues it for the run loop and
waits: the loop processes, writes and checkpoints the batch on the main
thread, then :meth:`SparkFeed.done` lets ``foreachBatch`` return, and only
then does Spark commit the batch. If the loop fails first, ``foreachBatch``
raises and the batch is not committed.

``foreachBatch`` is at least once: after a failure or a restart, the last
batch may be handed over again with the same ``batchId``. The driver's
state is versioned by the last ``batchId`` it absorbed (:class:`DriverState`,
saved in every checkpoint), so a replayed batch is recognised and skipped:
nothing is learned twice.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from streamlearn.engines.base import Arrival, Feed
from streamlearn.engines.spark.blocks import DATA, DATA_BLOCK, records_of
from streamlearn.engines.spark.driver_state import DriverState
from streamlearn.engines.spark.evictions import EvictionLog
from streamlearn.engines.spark.key_races import key_reports
from streamlearn.engines.spark.keyed import (
    ERROR,
    KeyedMirror,
    KeyedRow,
)
from streamlearn.engines.spark.partitions import (
    arrow_to_raw,
    described_parts,
    read_on_driver,
    stream_order,
    take_description,
)
from streamlearn.engines.spark.race_units import UnitModel, UnitReport
from streamlearn.engines.spark.report import (
    batch_ms,
    describe_source,
    final_offset,
    from_spark,
    state_keys,
    translate_failure,
)
from streamlearn.errors import SourceError
from streamlearn.evaluate.per_key import PerKeyRace
from streamlearn.records.batch import RawBatch, RecordBatch
from streamlearn.sinks.base import BatchResult
from streamlearn.sources.base import Progress, Source
from streamlearn.types import PositionKind

if TYPE_CHECKING:
    from streamlearn.engines.spark.predict import BatchPredictor
    from streamlearn.pipeline import Until
    from streamlearn.process import BatchProcessor

__all__ = ["SparkFeed", "SparkWork"]

#: seconds between looks at the query while waiting for a batch
WAIT_S = 0.25


@dataclass
class SparkWork:
    """What ``foreachBatch`` hands the loop with one micro-batch, and how it hears back."""

    spark_batch: int
    keyed: dict[int, list[KeyedRow]]
    predictions: dict[str, np.ndarray] | None
    answered: threading.Event = field(default_factory=threading.Event)
    ok: bool = False


class SparkFeed(Feed):
    """The micro-batches of one streaming query, in order, for the run loop.

    Built by :meth:`~streamlearn.engines.spark.SparkEngine.open`, which
    starts nothing: the query starts with :meth:`arrivals`.
    """

    checkpoint_every_batch = True

    def __init__(
        self,
        processor: BatchProcessor,
        source: Source,
        stream: Any,
        state: DriverState,
        mirrors: dict[int, KeyedMirror],
        predictor: BatchPredictor | None,
        race_stage: int | None,
        until: Until,
        cap: int | None,
        entries: dict[str, Any],
        cleanup: Callable[[], None],
    ) -> None:
        self.processor = processor
        self.source = source
        self.origin = source.origin
        self.position_kind = source.position_kind
        self.stream = stream
        self.state = state
        self.mirrors = mirrors
        self.predictor = predictor
        #: the keyed stage of the race when it runs on the executors (per key, or per model)
        self.race_stage = race_stage
        self.until = until
        self.cap = cap
        self.total = (
            min(source.count, cap)
            if source.count is not None and cap is not None
            else (source.count or cap)
        )
        self.entries = entries
        self._cleanup = cleanup
        self.query: Any = None
        #: the session and settings the query starts with (Spark copies them at the start)
        self.start_conf: tuple[Any, dict[str, str]] = (None, {})
        self.capped = False
        self.distributed = 0
        #: where the keys evicted past max_keys go, for Spark's state store to drop them
        self.evictions: EvictionLog | None = None
        #: the micro-batches are what to read, and the driver reads it (ReaderConfig)
        self.driver_reads = False
        self.kept: Any = None  # KeptRanges, for a Kafka source read on the driver
        #: where the planner leaves what each batch is to read (ReaderConfig.described)
        self.described: str | None = None
        self._queue: queue.Queue[Arrival | BaseException] = queue.Queue()
        self._pending: SparkWork | None = None
        self._closed = False
        self._last_data = time.monotonic()
        self._down_since: float | None = None
        self._driver_s: list[float] = []  # the loop's time per batch, recent ones

    # -- Spark's thread ---------------------------------------------------------------
    def on_batch(self, df: Any, batch_id: int) -> None:
        """The ``foreachBatch`` function."""
        if self._closed:
            raise RuntimeError("the run is over")
        batch_id = int(batch_id)
        if batch_id <= self.state.spark_batch or self.capped:
            # a replay of a batch whose effects are already saved: skip it, but
            # let keyed state commit it (Spark checks that every batch does)
            if self.mirrors or self.race_stage is not None:
                df.write.format("noop").mode("overwrite").save()
            return
        try:
            raw, work = self._read(df, batch_id)
        except BaseException as exc:
            self._queue.put(exc)
            raise
        self._queue.put(Arrival(raw, work))
        work.answered.wait()
        if not work.ok:
            raise RuntimeError("the run loop stopped before this batch was saved")

    def _read(self, df: Any, batch_id: int) -> tuple[RawBatch, SparkWork]:
        if self.driver_reads:  # what to read: from the planner's file, else one Spark row
            parts = take_description(self.described, batch_id) if self.described else None
            if parts is None:
                parts = described_parts(df.toArrow())
            raw = read_on_driver(parts, self.origin, self.position_kind, self.kept)
            return self._capped(raw), SparkWork(batch_id, {}, None)
        predict = self.predictor is not None and self.predictor.ready()
        if predict:
            assert self.predictor is not None
            df = self.predictor.attach(df)
        table = df.toArrow()
        keyed: dict[int, list[KeyedRow]] = {}
        if self.mirrors or self.race_stage is not None:
            table = self._dispatch(table, keyed)
        raw = arrow_to_raw(table, self.origin, self.position_kind)
        predictions = None
        if predict:
            assert self.predictor is not None
            table = table.take(pa.array(stream_order(table)))
            predictions = self.predictor.predictions(table)
        return self._capped(raw), SparkWork(batch_id, keyed, predictions)

    def _capped(self, raw: RawBatch) -> RawBatch:
        consumed = self.processor.consumed
        if self.cap is not None and consumed + len(raw) >= self.cap:
            raw = raw.slice(0, self.cap - consumed)
            self.capped = True
        return raw

    def _dispatch(self, table: pa.Table, keyed: dict[int, list[KeyedRow]]) -> pa.Table:
        """Sort out keyed-state rows by step; return the records."""
        kinds = table.column("_kind")
        notes = table.filter(
            pc.and_(pc.not_equal(kinds, DATA), pc.not_equal(kinds, DATA_BLOCK))
        ).to_pydict()
        for kind, step, key, part, off, blob in zip(
            notes["_kind"],
            notes["_step"],
            notes["_key"],
            notes["partition"],
            notes["offset"],
            notes["_blob"],
            strict=True,
        ):
            if kind == ERROR and step < 0:
                step = int(key.partition(":")[2])
            keyed.setdefault(step, []).append(KeyedRow(kind, part, off, blob))
        return records_of(table)

    # -- the loop's thread ---------------------------------------------------------------
    def arrivals(self) -> Iterator[Arrival | None]:
        spark, settings = self.start_conf
        before = {k: spark.conf.get(k) for k in settings}
        for k, v in settings.items():
            spark.conf.set(k, v)
        try:
            self.query = self.stream.start()
        finally:
            for k, v in before.items():
                spark.conf.set(k, v)
        waiting_since: float | None = None  # idle time counts once the query is up
        while True:
            try:
                item = self._queue.get(timeout=WAIT_S)
            except queue.Empty:
                item = None
            if isinstance(item, BaseException):
                raise translate_failure(item) if from_spark(item) else item
            if item is not None:
                self._pending = item.extra
                self._last_data = time.monotonic()
                yield item
                continue
            if not self.query.isActive:
                failure = self.query.exception()
                if failure is not None:
                    raise translate_failure(failure)
                return
            if waiting_since is None and (
                self.query.lastProgress is not None
                or self.query.status.get("message", "").startswith("Waiting")
            ):
                waiting_since = time.monotonic()
            quiet = time.monotonic() - max(self._last_data, waiting_since or time.monotonic())
            if self.capped:
                return
            if self.until.mode == "idle" and quiet >= self.until.value and self._reachable():
                return  # idle means nothing new while the source answers
            yield None

    def _reachable(self) -> bool:
        """Whether a Kafka source's brokers answer; raises after ``broker_timeout`` without."""
        if self.source.replay != "log":
            return True
        from streamlearn.kafka.ranges import TopicOffsets

        timeout = float(getattr(self.source, "broker_timeout", 30.0))
        offsets = TopicOffsets(self.source.bootstrap, self.source.topic, min(2.0, timeout))  # type: ignore[attr-defined]
        try:
            offsets.partitions()
        except SourceError:
            now = time.monotonic()
            self._down_since = self._down_since or now
            if now - self._down_since >= timeout:
                from streamlearn.kafka.health import lost_broker

                bootstrap = self.source.bootstrap  # type: ignore[attr-defined]
                raise lost_broker(bootstrap, offsets.last_error, timeout) from None
            return False
        finally:
            offsets.close()
        self._down_since = None
        return True

    def process(self, arrival: Arrival, batch_id: int) -> BatchResult | None:
        work: SparkWork = arrival.extra
        raced = work.keyed.pop(self.race_stage, []) if self.race_stage is not None else []
        for step, rows in work.keyed.items():
            self.mirrors[step].pending.extend(rows)
        raw: RawBatch = arrival.raw
        if isinstance(self.processor.race, PerKeyRace) and self.race_stage is not None:
            self.processor.key_reports = key_reports(raced, batch_id)
        elif self.race_stage is not None:
            self._load_units(key_reports(raced, batch_id)[0])  # (a unit is never evicted)
        if not len(raw):
            # only keyed-state news (evictions): update the mirrors, count no batch
            for mirror in self.mirrors.values():
                if mirror.pending:
                    mirror.apply(_empty(self.origin, self.position_kind, batch_id))
            if self.processor.key_reports is not None:
                race = self.processor.race
                assert isinstance(race, PerKeyRace)
                race.forget(self.processor.key_reports[1])
                self.processor.key_reports = None
            self._evict(work.spark_batch)
            self.state.spark_batch = work.spark_batch
            return None
        t0 = time.perf_counter()
        if work.predictions is not None:
            assert self.predictor is not None
            with self.predictor.precomputed(work.predictions):
                result = self.processor.process(raw, batch_id)
            self.distributed += 1
        else:
            result = self.processor.process(raw, batch_id)
        self._driver_s = [*self._driver_s[-99:], time.perf_counter() - t0]
        self._evict(work.spark_batch)
        self.state.spark_batch = work.spark_batch
        self.state.advance(raw)
        return result

    def _evict(self, spark_batch: int) -> None:
        """Write the keys this batch evicted past ``max_keys``, before Spark commits it: the
        next micro-batch drops them from Spark's state store."""
        if self.evictions is None:
            return
        gone = []
        for stage, mirror in self.mirrors.items():  # each batch's once (a mirror may not run)
            gone += [(stage, g) for g in mirror.evicted_groups]
            mirror.evicted_groups = []
        race = self.processor.race
        if isinstance(race, PerKeyRace) and self.race_stage is not None:
            gone += [(self.race_stage, g) for g in race.evicted_groups]
            race.evicted_groups = []
        self.evictions.write(spark_batch, gone)

    def _load_units(self, reports: list[UnitReport]) -> None:
        """Hand each model's unit model what its executor did with this batch."""
        race = self.processor.race
        assert race is not None
        labels = self.processor.labels if race.task == "classification" else None
        for report in reports:
            model = race.models[report.name]
            assert isinstance(model, UnitModel)
            model.load(report, labels)

    def done(self, arrival: Arrival) -> None:
        work: SparkWork = arrival.extra
        work.ok = True
        work.answered.set()
        self._pending = None

    def snapshot(self) -> dict[str, Any]:
        return self.state.snapshot()

    def progress(self) -> Progress:
        return Progress(consumed=self.processor.consumed, total=self.total)

    def describe(self) -> dict[str, Any]:
        return {"master": self.entries["master"], **self.source.describe()}

    def source_summary(self) -> dict[str, Any]:
        return describe_source(self.source, self.state, final_offset(self.query))

    def summary(self) -> dict[str, Any]:
        spark = {
            **self.entries["spark"],
            "distributed_prediction_batches": self.distributed,
            "batch_ms": batch_ms(self.query, self._driver_s),
            "state_keys": state_keys(self.query),
        }
        return {**self.entries, "spark": spark}

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._pending is not None:  # the loop failed with this batch: Spark must not commit it
            self._pending.answered.set()
            self._pending = None
        try:
            if self.query is not None and self.query.isActive:
                self.query.stop()
        finally:
            if self.predictor is not None:
                self.predictor.release()
            if self.kept is not None:
                self.kept.close()
            self._cleanup()


def _empty(origin: str, position_kind: PositionKind, batch_id: int) -> RecordBatch:
    return RecordBatch(
        {},
        origin,
        np.zeros(0, dtype=np.int32),
        np.zeros(0, dtype=np.int64),
        batch_id,
        position_kind,  # type: ignore[arg-type]
    )
