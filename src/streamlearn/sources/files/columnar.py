"""Replay a Parquet or Arrow IPC file, batch by batch, through pyarrow.

Rows come as Arrow tables (decoded by the ``arrow`` codec), never as text.
A row's position is its row group (Parquet) or record batch (Arrow) and its
row number in the file, so a restart goes straight back to it and a dead
letter names both.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from streamlearn.codecs.infer import assign_roles
from streamlearn.errors import ConfigError, SourceError
from streamlearn.records.batch import RawBatch
from streamlearn.records.schema import Field, Schema
from streamlearn.sources.base import Progress, Source
from streamlearn.types import FieldKind

__all__ = ["COLUMNAR_FORMATS", "ColumnarSource", "arrow_kind", "columnar_format_of"]

COLUMNAR_FORMATS = ("parquet", "arrow")
#: rows per Arrow batch read at a time
_ROWS = 65_536


def columnar_format_of(path: Path) -> str | None:
    """``parquet`` or ``arrow`` from the file's magic bytes, else ``None``."""
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError:
        return None
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"ARROW1") or head.startswith(b"\xff\xff\xff\xff"):
        return "arrow"
    return None


def arrow_kind(t: pa.DataType) -> FieldKind | None:
    """The field type an Arrow type decodes to; ``None`` for what is not a feature (lists, structs)."""
    if pa.types.is_dictionary(t):
        t = t.value_type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "str"
    if (
        pa.types.is_integer(t)
        or pa.types.is_floating(t)
        or pa.types.is_decimal(t)
        or pa.types.is_boolean(t)
        or pa.types.is_temporal(t)
    ):
        return "float"
    return None


class ColumnarSource(Source):
    """The rows of a Parquet file (by row group) or an Arrow IPC file or stream (by record batch).

    Parameters
    ----------
    path
        The file.
    format
        ``parquet`` or ``arrow``; ``None`` decides from the magic bytes.
    count
        Deliver at most this many rows.

    Examples
    --------
    >>> import tempfile, os, pyarrow as pa, pyarrow.parquet as pq
    >>> path = os.path.join(tempfile.mkdtemp(), "t.parquet")
    >>> pq.write_table(pa.table({"x": [1.0, 2.0, 3.0], "label": ["a", "b", "a"]}), path, row_group_size=2)
    >>> src = ColumnarSource(path)
    >>> src.open(snapshot={"group": 1, "row": 2, "delivered": 2})
    >>> raw = src.read(10)
    >>> raw.table.to_pylist(), raw.partitions.tolist(), raw.offsets.tolist()
    ([{'x': 3.0, 'label': 'a'}], [1], [2])
    """

    position_kind = "row"

    def __init__(
        self, path: str | os.PathLike[str], format: str | None = None, count: int | None = None
    ) -> None:
        self.origin = str(path)
        self.path = Path(path)
        if not self.path.is_file():
            raise SourceError(
                f"file not found: {self.origin}"
                if not self.path.exists()
                else f"not a file: {self.origin}"
            )
        found = columnar_format_of(self.path)
        format = format or found
        if format not in COLUMNAR_FORMATS or found is None:
            raise ConfigError(f"{self.origin} is not a Parquet or Arrow file")
        if count is not None and count < 0:
            raise ConfigError(f"--count must be >= 0, not {count}")
        self.kind = format
        self.format = "arrow"  # the codec: rows arrive as Arrow tables
        self.count = count
        self._reader: Any = None
        self._groups = self._group_sizes()
        self.schema = self._schema()
        self._batches: Iterator[pa.RecordBatch] | None = None
        self._at: tuple[int, int] = (0, 0)  # group, row of the next row
        self._delivered = 0
        self._buffer: pa.Table | None = None  # rows read from the current group, not delivered

    def _open_reader(self) -> Any:
        try:
            if self.kind == "parquet":
                return pq.ParquetFile(self.path)
            try:
                return pa.ipc.open_file(pa.memory_map(str(self.path)))
            except pa.ArrowInvalid:
                return pa.ipc.open_stream(pa.OSFile(str(self.path)))
        except (pa.ArrowException, OSError) as exc:
            raise SourceError(f"cannot read {self.origin}: {exc}") from None

    def _group_sizes(self) -> list[int]:
        reader = self._open_reader()
        if self.kind == "parquet":
            meta = reader.metadata
            return [meta.row_group(g).num_rows for g in range(meta.num_row_groups)]
        if hasattr(reader, "num_record_batches"):
            return [reader.get_batch(i).num_rows for i in range(reader.num_record_batches)]
        return [b.num_rows for b in reader]  # a stream: read once to count

    def _arrow_schema(self) -> pa.Schema:
        reader = self._open_reader()
        return reader.schema_arrow if self.kind == "parquet" else reader.schema

    def _schema(self) -> Schema:
        fields = []
        for f in self._arrow_schema():
            kind = arrow_kind(f.type)
            if kind is not None:
                fields.append(Field(f.name, kind, optional=kind == "str"))
        return assign_roles(Schema(tuple(fields)), needs_target=False)

    def _first_row(self, group: int) -> int:
        return int(sum(self._groups[:group]))

    def _group_batches(self, group: int) -> Iterator[pa.RecordBatch]:
        reader = self._open_reader()
        if self.kind == "parquet":
            yield from reader.iter_batches(batch_size=_ROWS, row_groups=[group])
        elif hasattr(reader, "num_record_batches"):
            yield reader.get_batch(group)
        else:
            for i, b in enumerate(reader):
                if i == group:
                    yield b
                    return

    def open(self, snapshot: dict[str, Any] | None = None) -> None:
        group, row, delivered = 0, 0, 0
        if snapshot:
            try:
                group, row, delivered = (
                    int(snapshot["group"]),
                    int(snapshot["row"]),
                    int(snapshot["delivered"]),
                )
            except (KeyError, TypeError, ValueError):
                raise ConfigError(f"bad file position to resume from: {snapshot!r}") from None
        self._at = (group, row)
        self._delivered = delivered
        self._buffer = None

    def _load(self) -> None:
        """Fill the buffer with the rest of the current group, from its current row."""
        group, row = self._at
        skip = row - self._first_row(group)
        tables = [pa.Table.from_batches([b]) for b in self._group_batches(group)]
        table = pa.concat_tables(tables) if tables else pa.table({})
        self._buffer = table.slice(skip)

    def read(self, max_records: int, timeout_s: float = 1.0) -> RawBatch:
        want = max_records if self.count is None else min(max_records, self.count - self._delivered)
        parts: list[RawBatch] = []
        got = 0
        while got < want and self._at[0] < len(self._groups):
            group, row = self._at
            if row >= self._first_row(group) + self._groups[group]:
                self._at, self._buffer = (group + 1, row), None
                continue
            if self._buffer is None:
                self._load()
            assert self._buffer is not None
            take = min(want - got, self._buffer.num_rows)
            table, self._buffer = self._buffer.slice(0, take), self._buffer.slice(take)
            offsets = np.arange(row, row + take, dtype=np.int64)
            parts.append(
                RawBatch(
                    self.origin,
                    [],
                    np.full(take, group, dtype=np.int32),
                    offsets,
                    position_kind="row",
                    table=table,
                )
            )
            got += take
            self._at = (group, row + take)
        self._delivered += got
        return RawBatch.concat(parts) if parts else RawBatch.empty(self.origin, "row")

    @property
    def exhausted(self) -> bool:
        if self.count is not None and self._delivered >= self.count:
            return True
        group, row = self._at
        return group >= len(self._groups) or (
            group == len(self._groups) - 1 and row >= self._first_row(group) + self._groups[group]
        )

    def snapshot(self) -> dict[str, Any]:
        return {"group": self._at[0], "row": self._at[1], "delivered": self._delivered}

    def progress(self) -> Progress:
        total = (
            int(sum(self._groups))
            if self.count is None
            else min(self.count, int(sum(self._groups)))
        )
        return Progress(consumed=self._delivered, total=total)

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "path": self.origin,
            "row": self._at[1],
            "records": self._delivered,
        }
