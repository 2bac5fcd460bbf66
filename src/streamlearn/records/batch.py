"""The data that flows through a pipeline: raw batches, decoded batches, dead letters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from streamlearn.types import PositionKind

__all__ = ["DeadLetter", "RawBatch", "RecordBatch", "format_position"]


def format_position(origin: str, partition: int, offset: int, kind: PositionKind = "offset") -> str:
    """Human-readable position of a record: ``topic[0]@42`` or ``file.csv:17``."""
    if kind == "line":
        return f"{origin}:{offset}"
    return f"{origin}[{partition}]@{offset}"


@dataclass(frozen=True)
class DeadLetter:
    """A record that could not be decoded or validated, kept with its position."""

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
        return {
            "origin": self.origin,
            "partition": self.partition,
            "offset": self.offset,
            "position": self.position,
            "reason": self.reason,
            "raw": self.raw.decode("utf-8", errors="backslashreplace"),
        }


@dataclass
class RawBatch:
    """Undecoded payloads as a source delivers them, with their positions.

    ``position_kind`` is ``"offset"`` for Kafka and generators (``partition``
    and ``offset``) and ``"line"`` for files (``offset`` is the 1-based line).
    """

    origin: str
    payloads: list[bytes]
    partitions: np.ndarray
    offsets: np.ndarray
    keys: list[bytes | None] | None = None
    position_kind: PositionKind = "offset"

    def __len__(self) -> int:
        return len(self.payloads)

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
        return cls(
            parts[0].origin if origin is None else origin,
            payloads,
            np.concatenate([b.partitions for b in parts]),
            np.concatenate([b.offsets for b in parts]),
            keys,
            parts[0].position_kind,
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
        )

    def dead_letter(self, i: int, reason: str) -> DeadLetter:
        return DeadLetter(
            self.origin,
            int(self.partitions[i]),
            int(self.offsets[i]),
            self.payloads[i],
            reason,
            self.position_kind,
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

    def __len__(self) -> int:
        return len(self.offsets)

    def column(self, name: str) -> np.ndarray:
        try:
            return self.columns[name]
        except KeyError:
            known = ", ".join(self.columns) or "none"
            raise KeyError(f"no column {name!r} (columns: {known})") from None

    def take(self, index: np.ndarray) -> RecordBatch:
        """Rows selected by a boolean mask or an index array, order kept."""
        return RecordBatch(
            {k: v[index] for k, v in self.columns.items()},
            self.origin,
            self.partitions[index],
            self.offsets[index],
            self.batch_id,
            self.position_kind,
            dict(self.extras),
        )

    def with_columns(self, **new: np.ndarray) -> RecordBatch:
        cols = dict(self.columns)
        for k, v in new.items():
            arr = np.asarray(v)
            if arr.shape[:1] != (len(self),):
                raise ValueError(f"column {k!r} has {arr.shape[:1]} rows, batch has {len(self)}")
            cols[k] = arr
        return RecordBatch(
            cols,
            self.origin,
            self.partitions,
            self.offsets,
            self.batch_id,
            self.position_kind,
            dict(self.extras),
        )

    def position(self, i: int) -> str:
        return format_position(
            self.origin, int(self.partitions[i]), int(self.offsets[i]), self.position_kind
        )

    def row(self, i: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in self.columns.items():
            val = v[i]
            out[k] = val.item() if isinstance(val, np.generic) else val
        return out

    def rows(self) -> list[dict[str, Any]]:
        return [self.row(i) for i in range(len(self))]
