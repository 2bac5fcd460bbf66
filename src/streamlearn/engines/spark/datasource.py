"""A Python streaming data source that reads any streamlearn source on Spark.

It implements admission control (at most ``max_rows`` records per
micro-batch, the pipeline's batch size, so Spark's batches are the local
engine's batches) and Trigger.AvailableNow: the planner fixes the end of the
stream when the query starts and Spark keeps asking for batches of at most
``max_rows`` until it is reached, so AvailableNow drains everything rather than
one batch. The offsets are plain dicts (see :mod:`.planner`) in Spark's
checkpoint.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from pyspark import cloudpickle
from pyspark.sql.datasource import DataSource, DataSourceStreamReader, InputPartition
from pyspark.sql.streaming.datasource import (
    ReadAllAvailable,
    ReadLimit,
    ReadMaxRows,
    SupportsTriggerAvailableNow,
)
from pyspark.sql.types import StructType

from streamlearn.engines.spark.partitions import (
    RAW_SCHEMA,
    raw_to_arrow,
    read_partition,
    write_description,
)
from streamlearn.engines.spark.planner import Planner, ReaderConfig, make_planner

__all__ = [
    "FORMAT",
    "StreamlearnDataSource",
    "StreamlearnReader",
    "decode_config",
    "encode_config",
]

#: the name the data source is registered under
FORMAT = "streamlearn"


def encode_config(config: ReaderConfig) -> str:
    """A reader config as a data source option (options are strings)."""
    return base64.b64encode(cloudpickle.dumps(config)).decode("ascii")


def decode_config(text: str) -> ReaderConfig:
    config = cloudpickle.loads(base64.b64decode(text))
    assert isinstance(config, ReaderConfig)
    return config


@dataclass(frozen=True)
class _Described:
    """A micro-batch's partitions, for the driver to read (``ReaderConfig.driver_reads``)."""

    parts: list[Any]


#: the offsets' batch counter (``ReaderConfig.described``); planners never see it
SEQ = "seq"


def _own(offset: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in offset.items() if k != SEQ} if SEQ in offset else offset


class StreamlearnReader(DataSourceStreamReader, SupportsTriggerAvailableNow):
    """Offsets, partitions and rows of one streamlearn source."""

    def __init__(self, config: ReaderConfig) -> None:
        self.config = config
        # created on first use: the reader is pickled to executors, which only read
        self._planner: Planner | None = None

    @property
    def planner(self) -> Planner:
        if self._planner is None:
            self._planner = make_planner(self.config)
        return self._planner

    def initialOffset(self) -> dict[str, Any]:
        first = self.planner.initial()
        return {**first, SEQ: -1} if self.config.described else first

    def getDefaultReadLimit(self) -> ReadLimit:
        return ReadMaxRows(self.config.max_rows)

    def latestOffset(self, start: dict[str, Any], limit: ReadLimit) -> dict[str, Any]:
        if isinstance(limit, ReadMaxRows):
            max_rows: int | None = limit.max_rows
        elif isinstance(limit, ReadAllAvailable):
            max_rows = None
        else:
            max_rows = self.config.max_rows
        own = _own(start)
        end = self.planner.latest(own, max_rows)
        if end == own:
            return start
        if SEQ in start:  # every batch has records of this source alone: seq is its id
            end = {**end, SEQ: int(start[SEQ]) + 1}
        return end

    def prepareForTriggerAvailableNow(self) -> None:
        self.planner.prepare_available_now()

    def partitions(self, start: dict[str, Any], end: dict[str, Any]) -> list[InputPartition]:
        parts = self.planner.partitions(_own(start), _own(end))
        if self.config.driver_reads:  # one task, one row: what the driver is to read
            if self.config.described is not None and SEQ in end:
                write_description(self.config.described, int(end[SEQ]), parts)
            return [InputPartition(_Described(parts))] if parts else []
        return [InputPartition(p) for p in parts]

    def read(self, partition: InputPartition) -> Iterator[pa.RecordBatch]:
        if isinstance(partition.value, _Described):
            yield pa.RecordBatch.from_pydict(
                {
                    "partition": pa.array([0], pa.int32()),
                    "offset": pa.array([0], pa.int64()),
                    "payload": pa.array([cloudpickle.dumps(partition.value.parts)], pa.binary()),
                    "key": pa.array([None], pa.binary()),
                }
            )
            return
        for raw in read_partition(partition.value):
            if len(raw):
                yield raw_to_arrow(raw)

    def commit(self, end: dict[str, Any]) -> None:
        """Nothing to do: Spark's checkpoint holds the offsets."""

    def stop(self) -> None:
        if self._planner is not None:
            self._planner.stop()


class StreamlearnDataSource(DataSource):
    """``spark.readStream.format("streamlearn").option("config", encode_config(...))``."""

    @classmethod
    def name(cls) -> str:
        return FORMAT

    def schema(self) -> str:
        return RAW_SCHEMA

    def streamReader(self, schema: StructType) -> DataSourceStreamReader:
        return StreamlearnReader(decode_config(self.options["config"]))
