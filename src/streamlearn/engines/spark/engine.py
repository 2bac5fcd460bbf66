"""The Spark engine: a pipeline as one Structured Streaming query.

The query reads the source at most ``batch_size`` records per micro-batch
(so batches are the local engine's), runs keyed steps in Spark's state store
and hands each micro-batch to :class:`~.driver.BatchDriver` in
``foreachBatch``, which runs the same :class:`~streamlearn.engines.core.BatchProcessor`
as the local engine. Bounded runs use Trigger.AvailableNow and stop by
themselves; ``--until idle:S`` runs use a processing-time trigger and stop
after S seconds without records.

With a checkpoint folder, Spark's own checkpoint (offsets, keyed state) is
in ``spark/`` and the driver's (learners, metrics, sinks) in ``driver/``,
saved after every batch: ``checkpoint_every`` does not apply, because Spark
commits every batch and the two must never disagree.
"""

from __future__ import annotations

import contextlib
import copy
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from streamlearn.checkpoint import Checkpointer
from streamlearn.engines.base import Engine, Observer
from streamlearn.engines.core import BatchProcessor, sniff_format
from streamlearn.engines.spark.driver import BatchDriver, DriverState
from streamlearn.engines.spark.keyed import KeyedMirror
from streamlearn.engines.spark.partitions import (
    concat_raw,
    origin_of,
    position_kind_of,
    read_partition,
)
from streamlearn.engines.spark.planner import ReaderConfig, make_planner
from streamlearn.engines.spark.predict import BatchPredictor
from streamlearn.engines.spark.query import keyed_frame, source_frame
from streamlearn.engines.spark.report import describe_source, final_offset, translate_failure
from streamlearn.engines.spark.session import cores_of, get_session, kafka_connector_available
from streamlearn.engines.spark.worker import WorkerPlan, row_wise
from streamlearn.errors import ConfigError
from streamlearn.pipeline import Pipeline, fingerprint
from streamlearn.sinks.base import Sink
from streamlearn.sources.factory import SourceSpec
from streamlearn.steps.keyed import KeyedState, KeyedStats

__all__ = ["SparkEngine"]

#: seconds between looks at the query while it runs
WAIT_S = 0.25


class SparkEngine(Engine):
    """Runs pipelines on Spark Structured Streaming.

    Parameters
    ----------
    master
        ``local[N]`` or ``spark://HOST:PORT``.
    **options
        ``conf`` (extra Spark settings), ``kafka_reader`` (``auto``: the JVM
        connector when on the classpath, else ``python``; or ``jvm``),
        ``key_timeout_s`` (keyed state idle timeout, default 3600),
        ``distribute_predictions`` (default True).

    Examples
    --------
    >>> from streamlearn import Pipeline
    >>> p = Pipeline("linear", task="regression", models=["mean"], until="count:1000")
    >>> SparkEngine("local[2]").run(p)["records_predicted"]  # doctest: +SKIP
    1000
    """

    name = "spark"

    def __init__(self, master: str = "local[2]", **options: Any) -> None:
        known = {"conf", "kafka_reader", "key_timeout_s", "distribute_predictions"}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ConfigError(f"unknown Spark engine option(s): {', '.join(unknown)}")
        self.master = master
        self.conf: dict[str, Any] = dict(options.get("conf") or {})
        self.kafka_reader = str(options.get("kafka_reader", "auto"))
        if self.kafka_reader not in ("auto", "python", "jvm"):
            raise ConfigError("kafka_reader must be auto, python or jvm")
        self.key_timeout_ms = int(float(options.get("key_timeout_s", 3600)) * 1000)
        self.distribute = bool(options.get("distribute_predictions", True))
        self.last_query: Any = None

    # -- set-up --------------------------------------------------------------------
    def _jvm_kafka(self, spark: Any, ref: Any) -> bool:
        if not (isinstance(ref, SourceSpec) and ref.kind == "kafka") or self.kafka_reader == "python":
            return False
        return self.kafka_reader == "jvm" or kafka_connector_available(spark)

    @staticmethod
    def _peek_codec(processor: BatchProcessor, config: ReaderConfig) -> None:
        """Settle format and codec from the first batch now, as ``process`` will.

        Executors need the codec before the first batch: a format to sniff
        (``auto``) or JSON without a schema are decided on the same records
        the processor would decide them on, the stream's first batch.
        """
        planner = make_planner(config)
        try:
            start = planner.initial()
            end = planner.latest(start, config.max_rows)
            parts = [r for p in planner.partitions(start, end) for r in read_partition(p)]
        finally:
            planner.stop()
        raw = concat_raw(parts) if parts else None
        if raw is None or not len(raw):
            return
        if processor.format == "auto":
            processor.format = sniff_format(raw.payloads)
            if processor.format != "json":
                processor.codec = processor._make_codec(processor.source_schema)
        if processor.codec is None and processor.format == "json":
            processor.codec = processor._json_codec_from(raw)

    def run(
        self,
        pipeline: Pipeline,
        sinks: Sequence[Sink] = (),
        observer: Observer | None = None,
        checkpoint: str | None = None,
        checkpoint_every: int = 1,
    ) -> dict[str, Any]:
        observer = observer or Observer()
        ref = pipeline.source
        assert not isinstance(ref, str)  # Pipeline parses spec strings
        # bad sources fail here, in one line, before Spark starts
        source = pipeline.build_source()  # never opened: format, schema, description
        if ref_is_kafka(ref):
            from streamlearn.engines.spark.kafka_io import KafkaMeta

            assert isinstance(ref, SourceSpec)
            meta = KafkaMeta(ref.bootstrap, ref.target)
            try:
                meta.partitions()
            finally:
                meta.close()
        t0 = time.monotonic()
        spark = get_session(self.master, self.conf)
        startup = time.monotonic() - t0
        processor = BatchProcessor(pipeline, source)
        until = pipeline.until
        cap = int(until.value) if until.mode == "count" else None
        config = ReaderConfig(ref, pipeline.batch_size, cap, cores_of(self.master))

        writer = Checkpointer(Path(checkpoint) / "driver", fingerprint(pipeline) + ":spark") if checkpoint else None
        saved = writer.load() if writer is not None else None
        state = DriverState.from_checkpoint(saved) if saved is not None else DriverState()
        spark_ckpt = str(Path(checkpoint) / "spark") if checkpoint else tempfile.mkdtemp(prefix="streamlearn-spark-")
        if state.spark_batch >= 0 and not (Path(spark_ckpt) / "offsets").is_dir():
            raise ConfigError(f"{spark_ckpt} is missing: the learners would see records twice; use a new --checkpoint")
        # keyed steps whose input is row-wise go to Spark; others stay on the driver
        keyed = state.keyed if state.keyed is not None else [
            i for i, s in enumerate(pipeline.steps)
            if isinstance(s, KeyedStats | KeyedState) and row_wise(pipeline.steps[:i])
        ]
        mirrors = {i: KeyedMirror(pipeline.steps[i]) for i in keyed}
        if mirrors:
            processor.pipeline = copy.copy(pipeline)
            processor.pipeline.steps = [mirrors.get(i, s) for i, s in enumerate(pipeline.steps)]
        if saved is not None:
            processor.restore(saved.processor)
        distribute = self.distribute and BatchPredictor.applies(processor, pipeline.steps)
        if processor.codec is None and (mirrors or distribute):
            self._peek_codec(processor, config)
        if processor.codec is None:  # no JSON object to learn a schema from: all on the driver
            mirrors, distribute = {}, False
            processor.pipeline = pipeline
        state.keyed = sorted(mirrors)
        origin, kind = origin_of(ref), position_kind_of(ref)
        plan = None
        if processor.codec is not None:
            plan = WorkerPlan.build(processor.format, processor.codec.schema, pipeline.steps, origin, kind)
        for sink in sinks:
            sink.open(resume=saved.sink_positions.get(sink.name) if saved else None)

        jvm_kafka = self._jvm_kafka(spark, ref)
        driver = BatchDriver(
            processor, sinks, observer, state, origin, kind, writer, mirrors,
            BatchPredictor(spark, plan, processor, bool(mirrors)) if distribute and plan else None,
            cap=cap if jvm_kafka else None,
            total=_total(ref, cap),
            elapsed_before=saved.elapsed_s if saved else 0.0,
        )
        df = source_frame(spark, config, jvm_kafka)
        if mirrors:
            assert plan is not None
            df = keyed_frame(df, plan, sorted(mirrors), self.key_timeout_ms)
        stream = df.writeStream.foreachBatch(driver).option("checkpointLocation", spark_ckpt)
        if mirrors:
            stream = stream.outputMode("update")
        if until.mode == "idle":
            stream = stream.trigger(processingTime=f"{pipeline.batch_interval or 0} seconds")
        else:
            stream = stream.trigger(availableNow=True)
        observer.on_start({
            "engine": self.name, "master": self.master, "resumed_at_batch": state.next_batch,
            **source.describe(),
        })
        interrupted = False
        query = None
        driver.started = time.monotonic()
        try:
            query = stream.start()
            self.last_query = query
            interrupted = self._wait(query, driver, pipeline, observer)
        finally:
            if query is not None and query.isActive:
                query.stop()
            elapsed = driver.elapsed_before + time.monotonic() - driver.started
            if driver.predictor is not None:
                driver.predictor.release()
            for sink in sinks:
                sink.close()
            if not checkpoint:
                shutil.rmtree(spark_ckpt, ignore_errors=True)
        summary = processor.final_summary(
            self.name, elapsed, describe_source(ref, source, state, final_offset(query))
        )
        summary.update(
            master=self.master,
            spark={
                "startup_s": startup,
                "kafka_reader": ("jvm" if jvm_kafka else "python") if ref_is_kafka(ref) else None,
                "keyed_steps_in_spark": [pipeline.steps[i].name for i in sorted(mirrors)],
                "distributed_prediction_batches": driver.distributed,
            },
            interrupted=interrupted,
        )
        observer.on_end(summary)
        return summary

    def _wait(self, query: Any, driver: BatchDriver, pipeline: Pipeline, observer: Observer) -> bool:
        """Wait for the query to end; True if interrupted (Ctrl-C)."""
        from pyspark.errors import StreamingQueryException

        until = pipeline.until
        waiting_since: float | None = None  # idle time counts once the query is up
        with _ctrl_c() as interrupted:
            try:
                while not query.awaitTermination(WAIT_S):
                    if interrupted.is_set():
                        query.stop()
                        return True
                    if waiting_since is None and (
                        query.lastProgress is not None
                        or query.status.get("message", "").startswith("Waiting")
                    ):
                        waiting_since = time.monotonic()
                    since = max(driver.last_data, waiting_since or time.monotonic())
                    quiet = time.monotonic() - since
                    if driver.capped or (until.mode == "idle" and quiet >= until.value):
                        query.stop()
                        break
                    if until.mode == "idle" and quiet >= 1.0:
                        observer.on_idle(driver.progress())
            except KeyboardInterrupt:
                query.stop()
                return True
            except StreamingQueryException as exc:
                if driver.error is not None:
                    raise driver.error from None
                raise translate_failure(exc) from None
        if driver.error is not None:
            raise driver.error
        return interrupted.is_set()


@contextlib.contextmanager
def _ctrl_c() -> Iterator[threading.Event]:
    """Ctrl-C sets an event instead of raising inside a call to the JVM.

    PySpark's own handler cancels jobs and raises wherever Python stands,
    often in the middle of a py4j call, which then prints a stack; the wait
    loop stops the query cleanly instead. A second Ctrl-C raises as usual.
    """
    event = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield event
        return

    def handler(signum: int, frame: Any) -> None:
        if event.is_set():
            raise KeyboardInterrupt
        event.set()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield event
    finally:
        signal.signal(signal.SIGINT, previous)


def ref_is_kafka(ref: Any) -> bool:
    return isinstance(ref, SourceSpec) and ref.kind == "kafka"


def _total(ref: Any, cap: int | None) -> int | None:
    count = ref.count if isinstance(ref, SourceSpec) else getattr(ref, "count", None)
    if isinstance(count, int):
        return min(count, cap) if cap is not None else count
    return cap
