"""The Spark engine: a pipeline as one Structured Streaming query.

The query reads the source at most ``batch_size`` records per micro-batch
(so batches are the local engine's), runs keyed steps in Spark's state store
and hands each micro-batch to the shared run loop through
:class:`~.feed.SparkFeed`, which runs the same
:class:`~streamlearn.process.BatchProcessor` as the local engine. Bounded
runs use Trigger.AvailableNow and stop by themselves; ``--until idle:S``
runs use a processing-time trigger and stop after S seconds without records.

With a checkpoint folder, Spark's own checkpoint (offsets, keyed state) is
in ``spark/`` and the run loop's (learners, metrics, sinks) in ``driver/``,
saved after every batch: ``checkpoint_every`` does not apply, because Spark
commits every batch and the two must never disagree.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from streamlearn.codecs.layout import SAMPLE
from streamlearn.engines.base import Engine, Feed
from streamlearn.engines.spark.driver_state import DriverState
from streamlearn.engines.spark.evictions import EvictionLog
from streamlearn.engines.spark.feed import SparkFeed
from streamlearn.engines.spark.key_races import RaceTemplate
from streamlearn.engines.spark.keyed import KeyedMirror
from streamlearn.engines.spark.partitions import read_partition
from streamlearn.engines.spark.planner import ReaderConfig, make_planner
from streamlearn.engines.spark.predict import BatchPredictor
from streamlearn.engines.spark.query import keyed_frame, source_frame
from streamlearn.engines.spark.race_units import UnitTemplate, as_units, spread_keys
from streamlearn.engines.spark.session import cores_of, get_session, kafka_connector_available
from streamlearn.engines.spark.worker import WorkerPlan, row_wise
from streamlearn.errors import ConfigError
from streamlearn.evaluate.per_key import PerKeyRace
from streamlearn.evaluate.race import Race
from streamlearn.learn.registry import build_models
from streamlearn.process import BatchProcessor
from streamlearn.records.batch import RawBatch
from streamlearn.steps.base import Step
from streamlearn.steps.keyed import KeyedStep

if TYPE_CHECKING:
    from streamlearn.checkpoint import Checkpoint
    from streamlearn.pipeline import Pipeline
    from streamlearn.sources.base import Source

__all__ = ["SparkEngine"]


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

    def checkpoint_folder(self, root: Path) -> Path:
        return root / "driver"

    def _jvm_kafka(self, spark: Any, source: Source) -> bool:
        if source.replay != "log" or self.kafka_reader == "python":
            return False
        return self.kafka_reader == "jvm" or kafka_connector_available(spark)

    @staticmethod
    def _first_batch(config: ReaderConfig, source: Source) -> RawBatch:
        """The stream's first micro-batch, read as the query will read it."""
        planner = make_planner(config, source)
        try:
            start = planner.initial()
            end = planner.latest(start, config.max_rows)
            parts = [r for p in planner.partitions(start, end) for r in read_partition(p)]
        finally:
            planner.stop()
        return (
            RawBatch.concat(parts) if parts else RawBatch.empty(source.origin, source.position_kind)
        )

    def open(
        self, pipeline: Pipeline, source: Source, saved: Checkpoint | None, checkpoint: Path | None
    ) -> Feed:
        ref = pipeline.source
        assert not isinstance(ref, str)  # Pipeline parses spec strings
        if pipeline.labels or pipeline.delay_seconds is not None:
            flag = "--labels" if pipeline.labels else "--delay SECONDS"
            raise ConfigError(f"{flag} runs on the local engine only for now (--engine local)")
        if source.replay == "log":
            # a missing topic or broker fails here, in one line, before Spark starts
            from streamlearn.kafka.ranges import TopicOffsets

            offsets = TopicOffsets(source.bootstrap, source.topic)  # type: ignore[attr-defined]
            try:
                offsets.partitions()
            finally:
                offsets.close()
        t0 = time.monotonic()
        spark = get_session(self.master, self.conf)
        startup = time.monotonic() - t0
        until = pipeline.until
        cap = int(until.value) if until.mode == "count" else None
        config = ReaderConfig(ref, pipeline.batch_size, cap, cores_of(self.master))

        state = DriverState.from_checkpoint(saved)
        spark_ckpt = (
            str(checkpoint / "spark")
            if checkpoint
            else tempfile.mkdtemp(prefix="streamlearn-spark-")
        )
        if state.spark_batch >= 0 and not (Path(spark_ckpt) / "offsets").is_dir():
            raise ConfigError(
                f"{spark_ckpt} is missing: the learners would see records twice; use a new --checkpoint"
            )
        # keyed steps whose input is row-wise keep their state in Spark; others stay on the driver
        steps = pipeline.steps
        keyed = (
            state.keyed
            if state.keyed is not None
            else [
                i for i, s in enumerate(steps) if isinstance(s, KeyedStep) and row_wise(steps[:i])
            ]
        )
        mirrors = {
            i: KeyedMirror(s)
            for i in keyed
            if i < len(steps) and isinstance(s := steps[i], KeyedStep)  # len(steps): the races
        }
        driver_steps: list[Step] = [mirrors.get(i, s) for i, s in enumerate(steps)]
        # rows of Parquet and Arrow files travel through Spark as JSON (see partitions.as_payloads)
        run_as = (
            dataclasses.replace(pipeline, format="json") if source.format == "arrow" else pipeline
        )
        processor = BatchProcessor(run_as, source, driver_steps)
        if saved is not None:
            processor.restore(saved.processor)
        per_key = isinstance(processor.race, PerKeyRace) and row_wise(steps)
        # --workers N: a plain race's models become units of state on the executors
        by_model = type(processor.race) is Race and row_wise(steps)
        if state.keyed is not None:  # a restart keeps the models where their state is
            by_model = by_model and len(steps) in state.keyed
        else:
            by_model = by_model and pipeline.workers > 1
        distribute = self.distribute and not by_model and BatchPredictor.applies(processor, steps)
        if not processor.settled and (mirrors or distribute or per_key or by_model):
            # executors need the codec before the first batch: decide it on the first records
            processor.settle(_peek(source) or self._first_batch(config, source).payloads)
        if not processor.settled:  # nothing to learn a schema from: all on the driver
            mirrors, distribute, per_key, by_model = {}, False, False, False
            processor.steps = list(steps)
        race = _race_template(processor, len(steps)) if per_key else None
        units = _unit_template(processor, len(steps)) if by_model else None
        if state.keyed is not None:  # a restart keeps where each key's state lives
            race = race if len(steps) in state.keyed else None
        start_conf: dict[str, str] = {}
        if units is not None:
            assert processor.race is not None
            as_units(processor.race)
            if state.units is None:  # a fresh start: a shuffle partition per model, if need be
                partitions = int(spark.conf.get("spark.sql.shuffle.partitions"))
                if len(units.models) > partitions:
                    partitions = len(units.models)
                    start_conf["spark.sql.shuffle.partitions"] = str(partitions)
                state.units = spread_keys(spark, units.stage, units.names, partitions)
            units.keys = dict(state.units)
        raced = race is not None or units is not None
        stages = sorted(mirrors) + ([len(steps)] if raced else [])
        state.keyed = stages
        plan = None
        if processor.codec is not None:
            plan = WorkerPlan.build(
                processor.format, processor.codec, steps, source.origin, source.position_kind
            )
            plan.race = race
            plan.units = units
            plan.evictions = state.evictions
        jvm_kafka = self._jvm_kafka(spark, source)
        predictor = (
            BatchPredictor(spark, plan, processor, bool(mirrors)) if distribute and plan else None
        )
        if plan is not None:
            plan.record_blocks = predictor is None

        # only the driver needs the records: it reads what Spark planned (see read_on_driver)
        driver_reads = not stages and predictor is None and not jvm_kafka
        described = None
        if driver_reads:
            described = Path(spark_ckpt) / "batches"
            described.mkdir(parents=True, exist_ok=True)
            config = dataclasses.replace(config, driver_reads=True, described=str(described))
        df = source_frame(spark, config, source, jvm_kafka)
        evictions = None
        if stages:
            assert plan is not None
            if state.evictions and (mirrors or race is not None):
                evictions = EvictionLog(Path(spark_ckpt) / "evictions")
            where = str(evictions.directory) if evictions is not None else None
            df = keyed_frame(df, plan, stages, self.key_timeout_ms, where)
        entries = {
            "master": self.master,
            "spark": {
                "startup_s": startup,
                "kafka_reader": ("jvm" if jvm_kafka else "python")
                if source.replay == "log"
                else None,
                "keyed_steps_in_spark": [steps[i].step_id for i in sorted(mirrors)],
                "records_read_by": "driver" if driver_reads else "executors",
                "per_key_races": ("executors" if race is not None else "driver")
                if isinstance(processor.race, PerKeyRace)
                else None,
                "race_models": ("executors" if units is not None else "driver")
                if processor.race is not None and not isinstance(processor.race, PerKeyRace)
                else None,
            },
        }

        def cleanup() -> None:
            if not checkpoint:
                shutil.rmtree(spark_ckpt, ignore_errors=True)

        feed = SparkFeed(
            processor,
            source,
            None,
            state,
            mirrors,
            predictor,
            len(steps) if raced else None,
            until,
            cap if jvm_kafka else None,
            entries,
            cleanup,
        )
        feed.evictions = evictions
        feed.driver_reads = driver_reads
        feed.described = str(described) if described is not None else None
        if driver_reads and source.replay == "log":
            from streamlearn.kafka.ranges import KeptRanges

            feed.kept = KeptRanges()
        stream = df.writeStream.foreachBatch(feed.on_batch).option("checkpointLocation", spark_ckpt)
        if stages:
            stream = stream.outputMode("update")
        if until.mode == "idle":
            stream = stream.trigger(processingTime=f"{pipeline.batch_interval or 0} seconds")
        else:
            stream = stream.trigger(availableNow=True)
        feed.stream = stream
        feed.start_conf = (spark, start_conf)
        return feed


def _race_template(processor: BatchProcessor, stage: int) -> RaceTemplate | None:
    """Per-key races for Spark's executors (each key codes its categories its own way)."""
    race = processor.race
    assert isinstance(race, PerKeyRace) and processor.codec is not None
    schema = processor.codec.schema
    if schema.target is None or not (schema.numeric_features or schema.categorical_features):
        return None
    assert processor.pipeline.per_key is not None and race.task is not None
    return RaceTemplate(
        stage,
        processor.pipeline.per_key,
        schema.target,
        race.task,
        tuple(schema.numeric_features),
        race.models,
        race._settings,
        tuple(schema.categorical_features),
    )


def _unit_template(processor: BatchProcessor, stage: int) -> UnitTemplate:
    """Each model of the race as a unit of state for Spark's executors (``--workers``)."""
    race, pipeline = processor.race, processor.pipeline
    assert race is not None and processor.codec is not None and pipeline.task is not None
    processor.setup_learning()  # a target or feature problem fails here, before Spark starts
    schema = processor.codec.schema
    assert schema.target is not None
    return UnitTemplate(
        stage,
        schema.target,
        tuple(schema.numeric_features),
        tuple(schema.categorical_features),
        build_models(pipeline.models, pipeline.task),
        {
            "task": pipeline.task,
            "granularity": pipeline.granularity,
            "train_budget": pipeline.train_budget,
            "window": pipeline.window,
        },
    )


def _peek(source: Source) -> list[bytes] | None:
    """The source's first records, read apart (the source is opened and closed again)."""
    source.open()
    try:
        return source.peek(SAMPLE)
    finally:
        source.close()
