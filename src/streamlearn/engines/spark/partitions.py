"""What one Spark task of the data source reads, and raw batches as Arrow rows.

A planner describes each task with an :class:`IndexRange` (generators and
memory, regenerated on the executor), a :class:`KafkaRange` (offsets of one
topic partition) or :class:`Payloads` (records the planner already read).
Every row is ``(partition, offset, payload, key)``: exactly what a
:class:`~streamlearn.records.batch.RawBatch` holds.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from streamlearn.records.batch import RawBatch
from streamlearn.sources.base import Source
from streamlearn.sources.factory import SourceSpec

__all__ = [
    "ARROW_SCHEMA",
    "RAW_SCHEMA",
    "IndexRange",
    "KafkaRange",
    "Payloads",
    "SourceRef",
    "arrow_to_raw",
    "build_source",
    "concat_raw",
    "origin_of",
    "position_kind_of",
    "raw_to_arrow",
    "read_partition",
]

SourceRef = SourceSpec | Source

#: the rows of the data source, in Spark's DDL
RAW_SCHEMA = "partition int, offset long, payload binary, key binary"
ARROW_SCHEMA = pa.schema(
    [("partition", pa.int32()), ("offset", pa.int64()), ("payload", pa.binary()), ("key", pa.binary())]
)
#: rows per Arrow batch handed to Spark
ARROW_ROWS = 10_000


@dataclass(frozen=True)
class IndexRange:
    """Records ``start`` to ``stop - 1`` of a numbered source."""

    source: SourceRef
    start: int
    stop: int


@dataclass(frozen=True)
class KafkaRange:
    """Offsets ``start`` to ``stop - 1`` of one partition of a topic."""

    bootstrap: str
    topic: str
    partition: int
    start: int
    stop: int


@dataclass(frozen=True)
class Payloads:
    """Records already read by the planner (files and other sources)."""

    raw: RawBatch


def build_source(ref: SourceRef) -> Source:
    """A fresh, unopened source for a spec or a source object."""
    return ref.build() if isinstance(ref, SourceSpec) else copy.deepcopy(ref)


def origin_of(ref: SourceRef) -> str:
    """The records' origin, as the local engine's source names it."""
    if isinstance(ref, SourceSpec):
        return ref.target if ref.kind in ("kafka", "csv", "json") else ref.kind
    return str(getattr(ref, "origin", None) or getattr(ref, "name", None) or ref.kind)


def position_kind_of(ref: SourceRef) -> str:
    if isinstance(ref, SourceSpec):
        return "line" if ref.kind in ("csv", "json") else "offset"
    return ref.position_kind


# Generators kept per executor process: replaying a course stream from record 0
# costs time linear in the index, so each worker continues where it stopped.
_OPEN: dict[str, Source] = {}


def _numbered(ref: SourceRef, start: int) -> Source:
    key = repr(ref) if isinstance(ref, SourceSpec) else ""
    src = _OPEN.get(key) if key else None
    if src is None:
        src = build_source(ref)
        if key:
            if len(_OPEN) >= 4:
                _OPEN.pop(next(iter(_OPEN)))
            _OPEN[key] = src
    src.open(resume={"next": start})
    return src


def read_partition(part: Any) -> Iterator[RawBatch]:
    """The raw batches of one task, in stream order (runs on the executors)."""
    if isinstance(part, Payloads):
        yield part.raw
    elif isinstance(part, IndexRange):
        src = _numbered(part.source, part.start)
        left = part.stop - part.start
        while left > 0:
            raw = src.read(min(left, ARROW_ROWS), 0.0)
            if not len(raw):
                raise RuntimeError(f"{origin_of(part.source)} ended before record {part.stop}")
            left -= len(raw)
            yield raw
    elif isinstance(part, KafkaRange):
        from streamlearn.engines.spark.kafka_io import read_range

        yield from read_range(part, ARROW_ROWS)
    else:
        raise TypeError(f"unknown partition {part!r}")


def raw_to_arrow(raw: RawBatch) -> pa.RecordBatch:
    keys = raw.keys if raw.keys is not None else [None] * len(raw)
    return pa.RecordBatch.from_arrays(
        [
            pa.array(np.asarray(raw.partitions, dtype=np.int32), pa.int32()),
            pa.array(np.asarray(raw.offsets, dtype=np.int64), pa.int64()),
            pa.array(raw.payloads, pa.binary()),
            pa.array(keys, pa.binary()),
        ],
        schema=ARROW_SCHEMA,
    )


def arrow_to_raw(table: pa.Table, origin: str, position_kind: str) -> RawBatch:
    """Rows back into a raw batch, sorted by (partition, offset): stream order."""
    partitions = table.column("partition").to_numpy(zero_copy_only=False).astype(np.int32)
    offsets = table.column("offset").to_numpy(zero_copy_only=False).astype(np.int64)
    order = np.lexsort((offsets, partitions))
    if len(order) and not np.all(order[1:] > order[:-1]):
        table = table.take(pa.array(order))
        partitions, offsets = partitions[order], offsets[order]
    payloads = table.column("payload").to_pylist()
    keys = table.column("key").to_pylist()
    return RawBatch(
        origin,
        payloads,
        partitions,
        offsets,
        keys if any(k is not None for k in keys) else None,
        position_kind,
    )


def concat_raw(parts: list[RawBatch]) -> RawBatch:
    if len(parts) == 1:
        return parts[0]
    keys = None
    if any(p.keys is not None for p in parts):
        keys = [k for p in parts for k in (p.keys or [None] * len(p))]
    return RawBatch(
        parts[0].origin,
        [x for p in parts for x in p.payloads],
        np.concatenate([p.partitions for p in parts]),
        np.concatenate([p.offsets for p in parts]),
        keys,
        parts[0].position_kind,
    )
