"""What one Spark task of the data source reads, and raw batches as Arrow rows.

A planner describes each task with an :class:`IndexRange` (sources that
number their records, regenerated on the executor), a
:class:`~streamlearn.kafka.ranges.KafkaRange` (offsets of one topic
partition) or :class:`Payloads` (records the planner already read). Every
row is ``(partition, offset, payload, key)``: exactly what a
:class:`~streamlearn.records.batch.RawBatch` holds.
"""

from __future__ import annotations

import copy
import dataclasses
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from streamlearn.records.batch import RawBatch
from streamlearn.sources.base import Source
from streamlearn.sources.registry import SourceSpec, build_source
from streamlearn.types import PositionKind

__all__ = [
    "ARROW_SCHEMA",
    "RAW_SCHEMA",
    "IndexRange",
    "Payloads",
    "SourceRef",
    "arrow_to_raw",
    "as_payloads",
    "described_parts",
    "fresh_source",
    "raw_to_arrow",
    "read_on_driver",
    "read_partition",
    "stream_order",
    "take_description",
    "unpaced",
    "write_description",
]

SourceRef = SourceSpec | Source

#: the rows of the data source, in Spark's DDL
RAW_SCHEMA = "partition int, offset long, payload binary, key binary"
ARROW_SCHEMA = pa.schema(
    [
        ("partition", pa.int32()),
        ("offset", pa.int64()),
        ("payload", pa.binary()),
        ("key", pa.binary()),
    ]
)
#: rows per Arrow batch handed to Spark
ARROW_ROWS = 10_000


@dataclass(frozen=True)
class IndexRange:
    """Records ``start`` to ``stop - 1`` of a source whose records are numbered."""

    source: SourceRef
    start: int
    stop: int


@dataclass(frozen=True)
class Payloads:
    """Records already read by the planner (files and other sources)."""

    raw: RawBatch


def as_payloads(raw: RawBatch) -> RawBatch:
    """Rows of an Arrow table (Parquet and Arrow files) as JSON payloads: Spark moves bytes."""
    if raw.table is None:
        return raw
    payloads = [raw.payload(i) for i in range(len(raw))]
    return RawBatch(
        raw.origin,
        payloads,
        raw.partitions,
        raw.offsets,
        raw.keys,
        raw.position_kind,
        None,
        raw.origins,
    )


def fresh_source(ref: SourceRef) -> Source:
    """A fresh, unopened source for a spec or a source object."""
    return build_source(ref) if isinstance(ref, SourceSpec) else copy.deepcopy(ref)


def unpaced(ref: SourceRef) -> SourceRef:
    """The source without its rate: executors read what the planner admitted at full speed."""
    if isinstance(ref, SourceSpec):
        return dataclasses.replace(ref, rate=None)
    twin = copy.deepcopy(ref)
    pacer = getattr(twin, "pacer", None)
    if pacer is not None:
        pacer.rate = None
    return twin


# Sources kept per executor process: replaying a course stream from record 0
# costs time linear in the index, so each worker continues where it stopped.
_OPEN: dict[str, Source] = {}


def _numbered(ref: SourceRef, start: int) -> Source:
    key = repr(ref) if isinstance(ref, SourceSpec) else ""
    src = _OPEN.get(key) if key else None
    if src is None:
        src = fresh_source(ref)
        if key:
            if len(_OPEN) >= 4:
                _OPEN.pop(next(iter(_OPEN)))
            _OPEN[key] = src
    src.open(snapshot={"next": start})
    return src


def read_partition(part: Any, kept: Any = None) -> Iterator[RawBatch]:
    """The raw batches of one task, in stream order (runs on the executors, or on the
    driver: ``kept``, a :class:`~streamlearn.kafka.ranges.KeptRanges`, reads Kafka there)."""
    if isinstance(part, Payloads):
        yield part.raw
    elif isinstance(part, IndexRange):
        src = _numbered(part.source, part.start)
        left = part.stop - part.start
        while left > 0:
            raw = src.read(min(left, ARROW_ROWS), 0.0)
            if not len(raw):
                raise RuntimeError(f"{src.origin} ended before record {part.stop}")
            left -= len(raw)
            yield raw
    else:
        from streamlearn.kafka.ranges import KafkaRange, read_range

        if not isinstance(part, KafkaRange):
            raise TypeError(f"unknown partition {part!r}")
        yield from (
            kept.read(part, ARROW_ROWS) if kept is not None else read_range(part, ARROW_ROWS)
        )


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


def stream_order(table: pa.Table) -> np.ndarray:
    """The order of the rows by (partition, offset): stream order."""
    partitions = table.column("partition").to_numpy(zero_copy_only=False)
    offsets = table.column("offset").to_numpy(zero_copy_only=False)
    return np.lexsort((offsets, partitions))


def arrow_to_raw(table: pa.Table, origin: str, position_kind: PositionKind) -> RawBatch:
    """Rows back into a raw batch, sorted by (partition, offset): stream order."""
    partitions = table.column("partition").to_numpy(zero_copy_only=False).astype(np.int32)
    offsets = table.column("offset").to_numpy(zero_copy_only=False).astype(np.int64)
    order = stream_order(table)
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


def write_description(directory: str, seq: int, parts: list[Any]) -> None:
    """The planner's side: what micro-batch ``seq`` is to read, for the driver (atomic; a
    replayed batch writes the same again)."""
    from pyspark import cloudpickle

    path = Path(directory) / f"{seq:012d}.pkl"
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(cloudpickle.dumps(parts))
    os.replace(tmp, path)


def take_description(directory: str, batch_id: int) -> list[Any] | None:
    """What micro-batch ``batch_id`` is to read, if the planner left it; older ones go."""
    import pickle

    found = None
    for path in sorted(Path(directory).glob("*.pkl")):
        seq = int(path.stem)
        if seq == batch_id:
            found = pickle.loads(path.read_bytes())
        elif seq < batch_id:
            path.unlink(missing_ok=True)
    return found


def described_parts(table: pa.Table) -> list[Any]:
    """The partitions a micro-batch's description rows hold (``_Described`` rows)."""
    from pyspark import cloudpickle

    return [d for blob in table.column("payload").to_pylist() for d in cloudpickle.loads(blob)]


def read_on_driver(
    parts: list[Any], origin: str, position_kind: PositionKind, kept: Any = None
) -> RawBatch:
    """The records of a micro-batch's partitions (see ``ReaderConfig.driver_reads``), read
    here, in stream order.

    When only the driver learns (a race on the driver, no keyed state, no prediction on
    the executors), records that crossed Spark (a Python task, the JVM, Arrow back to the
    driver) would only come to where they could have been read. The RLS race over 1M
    Kafka records in batches of 100,000 (local[2]): 0.24x the local engine through
    Spark's rows, 0.36-0.38x read here after a one-row Spark job saying what to read,
    0.44-0.49x with the planner's description instead (``ReaderConfig.described``),
    0.50-0.53x once Spark's logs also went faster (see ``session``).
    """
    raws = [r for part in parts for r in read_partition(part, kept) if len(r)]
    if not raws:
        return RawBatch.empty(origin, position_kind)
    raws.sort(key=lambda r: (int(r.partitions[0]), int(r.offsets[0])))
    raw = RawBatch.concat(raws)
    order = np.lexsort((raw.offsets, raw.partitions))
    if len(order) > 1 and not np.all(order[1:] > order[:-1]):  # ranges interleave: sort rows
        rows = pa.Table.from_batches([raw_to_arrow(r) for r in raws])
        return arrow_to_raw(rows, origin, position_kind)
    return raw
