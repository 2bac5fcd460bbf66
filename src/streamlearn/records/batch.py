"""The data that flows through a pipeline: raw batches, decoded batches, dead letters."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

from streamlearn.types import PositionKind

__all__ = ["DeadLetter", "RawBatch", "RecordBatch", "format_position"]


def format_position(origin: str, partition: int, offset: int, kind: PositionKind = "offset") -> str:
    """Human-readable position of a record: ``topic[0]@42``, ``file.csv:17`` or ``f.parquet:row 5``.

    Examples
    --------
    >>> format_position("rows.csv", 0, 17, "line"), format_position("t", 1, 42)
    ('rows.csv:17', 't[1]@42')
    """
    if kind == "line":
        return f"{origin}:{offset}"
    if kind == "row":
        return f"{origin}:row {offset}"
    return f"{origin}[{partition}]@{offset}"


@dataclass(frozen=True)
class DeadLetter:
    """A record that could not be decoded or validated, kept with its position and exact bytes."""

    origin: str
    partition: int
    offset: int
    raw: bytes
    reason: str
    position_kind: PositionKind = "offset"

    @property
    def position(self) -> str:
        return format_position(self.origin, self.partition, self.offset, self.position_kind)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able, bytes kept exactly: ``raw`` is the text when it is UTF-8, else base64.

        Examples
        --------
        >>> DeadLetter("t", 0, 1, b"\\xff", "bad").to_dict()["raw"], DeadLetter("t", 0, 1, b"\\xff", "bad").to_dict()["raw_encoding"]
        ('/w==', 'base64')
        """
        out: dict[str, Any] = {
            "origin": self.origin,
            "partition": self.partition,
            "offset": self.offset,
            "position": self.position,
            "reason": self.reason,
        }
        try:
            out["raw"] = self.raw.decode("utf-8")
        except UnicodeDecodeError:
            out["raw"] = base64.b64encode(self.raw).decode("ascii")
            out["raw_encoding"] = "base64"
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DeadLetter:
        """The dead letter of a :meth:`to_dict` line (a dead-letter file or topic), bytes exact.

        Examples
        --------
        >>> d = DeadLetter("t", 0, 1, b"\\xff", "bad")
        >>> DeadLetter.from_dict(d.to_dict()) == d
        True
        """
        text = str(d["raw"])
        raw = base64.b64decode(text) if d.get("raw_encoding") == "base64" else text.encode("utf-8")
        origin, partition, offset = str(d["origin"]), int(d["partition"]), int(d["offset"])
        kinds: tuple[PositionKind, ...] = ("offset", "line", "row")
        kind: PositionKind = next(
            (
                k
                for k in kinds
                if format_position(origin, partition, offset, k) == d.get("position")
            ),
            "offset",
        )
        return cls(origin, partition, offset, raw, str(d["reason"]), kind)


def _origins(parts: Sequence[Any]) -> dict[int, str] | None:
    merged: dict[int, str] = {}
    for p in parts:
        if p.origins:
            merged.update(p.origins)
    return merged or None


@dataclass
class RawBatch:
    """Undecoded payloads as a source delivers them, with their positions.

    ``position_kind`` is ``"offset"`` for Kafka and generators (``partition``
    and ``offset``), ``"line"`` for text files (``offset`` is the 1-based
    line) and ``"row"`` for Parquet and Arrow files (``partition`` is the row
    group and ``offset`` the row in the file).
    Columnar sources deliver an Arrow ``table`` instead of payloads.
    ``origins`` names the origin of each partition when they differ (the
    files of a directory). ``timestamps`` are the records' event times in
    milliseconds, when the source has them and was asked (Kafka's message
    timestamps, for joining labels).
    """

    origin: str
    payloads: list[bytes]
    partitions: np.ndarray
    offsets: np.ndarray
    keys: list[bytes | None] | None = None
    position_kind: PositionKind = "offset"
    table: Any = None
    origins: dict[int, str] | None = None
    timestamps: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.offsets)

    @classmethod
    def empty(cls, origin: str, position_kind: PositionKind = "offset") -> RawBatch:
        return cls(
            origin,
            [],
            np.zeros(0, dtype=np.int32),
            np.zeros(0, dtype=np.int64),
            position_kind=position_kind,
        )

    @classmethod
    def concat(cls, parts: Sequence[RawBatch], origin: str | None = None) -> RawBatch:
        """The records of ``parts`` in order, as one batch (``parts`` must not be empty)."""
        parts = [p for p in parts if len(p)] or list(parts[:1])
        if len(parts) == 1 and origin in (None, parts[0].origin):
            return parts[0]
        payloads: list[bytes] = []
        for b in parts:
            payloads += b.payloads
        keys: list[bytes | None] | None = None
        if any(b.keys is not None for b in parts):
            keys = []
            for b in parts:
                keys += b.keys if b.keys is not None else [None] * len(b)
        table = None
        if any(b.table is not None for b in parts):
            import pyarrow as pa

            table = pa.concat_tables([b.table for b in parts], promote_options="permissive")
        timestamps = None
        if all(b.timestamps is not None for b in parts):
            timestamps = np.concatenate([b.timestamps for b in parts])
        return cls(
            parts[0].origin if origin is None else origin,
            payloads,
            np.concatenate([b.partitions for b in parts]),
            np.concatenate([b.offsets for b in parts]),
            keys,
            parts[0].position_kind,
            table,
            _origins(parts),
            timestamps,
        )

    def slice(self, start: int, stop: int) -> RawBatch:
        """Records ``start:stop``, without copying when that is all of them."""
        start, stop = max(0, start), min(len(self), stop)
        if start == 0 and stop == len(self):
            return self
        return RawBatch(
            self.origin,
            self.payloads[start:stop],
            self.partitions[start:stop],
            self.offsets[start:stop],
            None if self.keys is None else self.keys[start:stop],
            self.position_kind,
            None if self.table is None else self.table.slice(start, stop - start),
            self.origins,
            None if self.timestamps is None else self.timestamps[start:stop],
        )

    def origin_of(self, partition: int) -> str:
        return self.origins.get(partition, self.origin) if self.origins else self.origin

    def payload(self, i: int) -> bytes:
        """Record ``i``'s bytes: its payload, or its row as JSON (columnar sources)."""
        if self.table is None:
            return self.payloads[i]
        row = self.table.slice(i, 1).to_pylist()[0]
        return orjson.dumps(row, default=str, option=orjson.OPT_SERIALIZE_NUMPY)

    def dead_letter(self, i: int, reason: str) -> DeadLetter:
        part = int(self.partitions[i])
        return DeadLetter(
            self.origin_of(part),
            part,
            int(self.offsets[i]),
            self.payload(i),
            reason,
            self.position_kind,
        )

    def records(self, columns: Mapping[str, np.ndarray], keep: Any = None) -> RecordBatch:
        """Decoded ``columns`` for the records ``keep`` selects (all by default), with their positions."""
        partitions = self.partitions if keep is None else self.partitions[keep]
        offsets = self.offsets if keep is None else self.offsets[keep]
        return RecordBatch(
            dict(columns),
            self.origin,
            partitions,
            offsets,
            position_kind=self.position_kind,
            origins=self.origins,
        )


@dataclass
class RecordBatch:
    """Decoded records as named columns of equal length, with their positions.

    Columns are NumPy arrays: ``float64`` for numbers, ``object`` for strings.
    """

    columns: dict[str, np.ndarray]
    origin: str
    partitions: np.ndarray
    offsets: np.ndarray
    batch_id: int = 0
    position_kind: PositionKind = "offset"
    extras: dict[str, Any] = field(default_factory=dict)
    origins: dict[int, str] | None = None

    def __len__(self) -> int:
        return len(self.offsets)

    def column(self, name: str) -> np.ndarray:
        try:
            return self.columns[name]
        except KeyError:
            known = ", ".join(self.columns) or "none"
            raise KeyError(f"no column {name!r} (columns: {known})") from None

    def _like(self, columns: dict[str, np.ndarray], index: Any = slice(None)) -> RecordBatch:
        return RecordBatch(
            columns,
            self.origin,
            self.partitions[index],
            self.offsets[index],
            self.batch_id,
            self.position_kind,
            dict(self.extras),
            self.origins,
        )

    def take(self, index: np.ndarray) -> RecordBatch:
        """Rows selected by a boolean mask or an index array, order kept."""
        return self._like({k: v[index] for k, v in self.columns.items()}, index)

    def with_columns(self, **new: np.ndarray) -> RecordBatch:
        cols = dict(self.columns)
        for k, v in new.items():
            arr = np.asarray(v)
            if arr.shape[:1] != (len(self),):
                raise ValueError(f"column {k!r} has {arr.shape[:1]} rows, batch has {len(self)}")
            cols[k] = arr
        return self._like(cols)

    def select(self, names: Sequence[str]) -> RecordBatch:
        """Only the named columns."""
        return self._like({c: self.columns[c] for c in names})

    def position(self, i: int) -> str:
        part = int(self.partitions[i])
        origin = self.origins.get(part, self.origin) if self.origins else self.origin
        return format_position(origin, part, int(self.offsets[i]), self.position_kind)

    def row(self, i: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in self.columns.items():
            val = v[i]
            out[k] = val.item() if isinstance(val, np.generic) else val
        return out

    def rows(self) -> list[dict[str, Any]]:
        return [self.row(i) for i in range(len(self))]
