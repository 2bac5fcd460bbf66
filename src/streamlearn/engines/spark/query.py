"""The streaming DataFrame of a pipeline: the source, then keyed state if any."""

from __future__ import annotations

from typing import Any

from streamlearn.engines.spark.datasource import FORMAT, encode_config
from streamlearn.engines.spark.evictions import eviction_frame
from streamlearn.engines.spark.keyed import KEYED_SCHEMA, STATE_SCHEMA, make_tagger, make_updater
from streamlearn.engines.spark.planner import ReaderConfig
from streamlearn.engines.spark.worker import WorkerPlan
from streamlearn.sources.base import Source

__all__ = ["keyed_frame", "source_frame"]


def source_frame(spark: Any, config: ReaderConfig, source: Source, jvm_kafka: bool = False) -> Any:
    """Rows ``partition, offset, payload, key`` of the source, at most ``max_rows`` per batch.

    With ``jvm_kafka`` the JVM connector reads the topic (``format("kafka")``,
    ``maxOffsetsPerTrigger``); otherwise our Python data source reads it.
    """
    if jvm_kafka:
        assert source.replay == "log"
        return (
            spark.readStream.format("kafka")
            .option("kafka.bootstrap.servers", source.bootstrap)  # type: ignore[attr-defined]
            .option("subscribe", source.topic)  # type: ignore[attr-defined]
            .option("startingOffsets", source.start)  # type: ignore[attr-defined]
            .option("maxOffsetsPerTrigger", str(config.max_rows))
            .option("failOnDataLoss", "false")
            .load()
            .selectExpr("partition", "offset", "value AS payload", "key")
        )
    return spark.readStream.format(FORMAT).option("config", encode_config(config)).load()


def keyed_frame(
    df: Any, plan: WorkerPlan, keyed: list[int], timeout_ms: int, evictions: str | None = None
) -> Any:
    """Records tagged with their keys, through ``applyInPandasWithState``.

    The output holds the records (``_kind = 0``) and, per key updated in the
    batch, one row with its new state (see :mod:`.keyed`). With ``evictions``
    (a directory of :class:`~.evictions.EvictionLog`) the keys the driver
    evicted join their groups, which drop their state.
    """
    from pyspark.sql.streaming.state import GroupStateTimeout

    tagged = df.mapInPandas(make_tagger(plan, keyed), KEYED_SCHEMA)
    if evictions is not None:
        tagged = tagged.unionByName(eviction_frame(df.sparkSession, evictions))
    return tagged.groupBy("_step", "_key").applyInPandasWithState(
        make_updater(plan, timeout_ms),
        KEYED_SCHEMA,
        STATE_SCHEMA,
        "update",
        GroupStateTimeout.ProcessingTimeTimeout,
    )
