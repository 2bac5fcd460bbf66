"""CSV payloads: one data line per record (no header), fields in schema order.

Decoding parses a whole batch at once with pyarrow. Only when that fails does
it narrow down (splitting in parts) to the rows at fault and check them one by one in
Python (:mod:`streamlearn.codecs.delimited_row`), so a bad row costs little and always gets
a precise reason. :func:`schema_from_header` lives in :mod:`streamlearn.codecs.header`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from streamlearn.codecs.base import Codec, column_dtype
from streamlearn.codecs.delimited_row import parse_row
from streamlearn.codecs.header import schema_from_header
from streamlearn.errors import ConfigError
from streamlearn.records.batch import DeadLetter, RawBatch, RecordBatch
from streamlearn.records.schema import HHAR_SCHEMA, Field, Schema

__all__ = ["CsvCodec", "schema_from_header"]

#: below this many rows, suspicious rows are checked one by one in Python
_LEAF = 256
_SPLIT = 8
#: decoded pieces: (row indices in the raw batch, columns)
_Parts = list[tuple[np.ndarray, dict[str, np.ndarray]]]


def _strip_eol(line: bytes) -> bytes:
    if line.endswith(b"\r\n"):
        return line[:-2]
    if line.endswith((b"\n", b"\r")):
        return line[:-1]
    return line


class CsvCodec(Codec):
    """One CSV line per payload, with the schema's fields in order.

    Parameters
    ----------
    schema
        Fields and roles; HHAR's by default.
    delimiter
        The field separator.

    Examples
    --------
    >>> codec = CsvCodec()
    >>> payloads = codec.encode(
    ...     {"Index": [0], "Arrival_Time": [1], "Creation_Time": [2], "x": [0.5], "y": [1.0],
    ...      "z": [9.8], "User": ["a"], "Model": ["s3"], "Device": ["s3_1"], "gt": ["walk"]})
    >>> payloads
    [b'0,1,2,0.5,1,9.8,a,s3,s3_1,walk']
    """

    name = "csv"

    def __init__(self, schema: Schema = HHAR_SCHEMA, delimiter: str = ",") -> None:
        super().__init__(schema)
        if len(delimiter) != 1 or delimiter in '\r\n"':
            raise ConfigError(f"CSV delimiter must be one character, not {delimiter!r}")
        self.delimiter = delimiter
        self._sep = delimiter.encode()
        self._cached: tuple[Any, Any] | None = None

    @property
    def options(self) -> dict[str, Any]:
        return {"delimiter": self.delimiter}

    # -- decoding -------------------------------------------------------------------
    def decode(self, raw: RawBatch) -> tuple[RecordBatch, list[DeadLetter]]:
        n = len(raw)
        parts: _Parts = []
        bad: dict[int, str] = {}
        if n:
            joined = b"\n".join(raw.payloads)
            # One pyarrow row per payload, unless a payload is empty or starts
            # with a line break (the smallest one tells), or holds a CR, or
            # quotes a line break; the row count below catches the rest.
            least = min(raw.payloads)
            clean = bool(least) and least[0] > 13 and b"\r" not in joined
            if clean and b'"' in joined:
                clean = joined.count(b"\n") == n - 1
            table = self._parse(joined) if clean else None
            if table is not None and table.num_rows == n:
                self._accept(np.arange(n), table, parts, bad)
            elif clean:  # a bad value or field count somewhere: narrow it down
                self._narrow(list(range(n)), raw.payloads, 0, n, parts, bad, try_whole=False)
            else:
                idx, lines = self._precheck(raw.payloads, bad)
                self._narrow(idx, lines, 0, len(idx), parts, bad, try_whole=len(idx) < n)
        return self._assemble(raw, parts, bad)

    def _read_options(self) -> Any:
        key = (self.schema.fields, self.schema.used)
        if self._cached is None or self._cached[0] != key:
            used = self._used()
            types = {
                f.name: pa.dictionary(pa.int32(), pa.string())
                if f.kind == "str"
                else pa.int64()
                if f.kind == "int"
                else pa.float64()
                for f in used
            }
            opts = (
                pacsv.ReadOptions(column_names=list(self.schema.names), block_size=1 << 22),
                pacsv.ParseOptions(delimiter=self.delimiter),
                pacsv.ConvertOptions(
                    column_types=types,
                    include_columns=[f.name for f in used],
                    null_values=[""],
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=True,
                ),
            )
            self._cached = (key, opts)
        return self._cached[1]

    def _used(self) -> tuple[Field, ...]:
        return self.used_fields

    def _parse(self, data: bytes) -> pa.Table | None:
        read, parse, convert = self._read_options()
        try:
            return pacsv.read_csv(pa.BufferReader(data), read, parse, convert)
        except pa.ArrowException:
            return None

    def _precheck(
        self, payloads: Sequence[bytes], bad: dict[int, str]
    ) -> tuple[list[int], list[bytes]]:
        """Rows worth a batch parse; obviously broken ones get their reason now."""
        want = len(self.schema.fields) - 1
        idx: list[int] = []
        lines: list[bytes] = []
        for i, p in enumerate(payloads):
            line = _strip_eol(p)
            broken = not line or b"\n" in line or b"\r" in line
            if not broken and b'"' not in line:
                broken = line.count(self._sep) != want
            if broken:
                out = parse_row(line, self.schema, self.delimiter)
                bad[i] = out if isinstance(out, str) else "record spans several lines"
            else:
                idx.append(i)
                lines.append(line)
        return idx, lines

    def _narrow(
        self,
        idx: Sequence[int],
        lines: Sequence[bytes],
        lo: int,
        hi: int,
        parts: _Parts,
        bad: dict[int, str],
        try_whole: bool = True,
    ) -> None:
        """Parse ``lines[lo:hi]`` in one go, else in a few parts, down to single rows."""
        if hi <= lo:
            return
        if hi - lo <= _LEAF:
            self._rows(idx[lo:hi], lines[lo:hi], parts, bad)
            return
        if try_whole:
            table = self._parse(b"\n".join(lines[lo:hi]))
            if table is not None and table.num_rows == hi - lo:
                self._accept(np.asarray(idx[lo:hi], dtype=np.int64), table, parts, bad)
                return
        # Eight parts, not two: fewer levels, so fewer rows parsed again.
        step = -(-(hi - lo) // _SPLIT)
        for start in range(lo, hi, step):
            self._narrow(idx, lines, start, min(start + step, hi), parts, bad)

    def _accept(self, idx: np.ndarray, table: pa.Table, parts: _Parts, bad: dict[int, str]) -> None:
        """Columns of a parsed table, with empty and non-finite values dead-lettered."""
        ok = np.ones(len(idx), dtype=bool)
        cols: dict[str, np.ndarray] = {}
        strict = self.schema.nonfinite == "dead-letter"

        def flag(mask: np.ndarray, reason: Any) -> None:
            # Fields are checked in order and a row keeps its first reason, as per row.
            for i in np.flatnonzero(mask & ok):
                bad[int(idx[i])] = reason(i) if callable(reason) else reason
            ok[mask] = False

        for f in self._used():
            col = table.column(f.name)
            if f.kind == "str":
                values, empty = _strings(col)
                cols[f.name] = values
                if not f.optional:
                    flag(empty, f"field {f.name!r} is empty")
                continue
            null = col.is_null().to_numpy(zero_copy_only=False) if col.null_count else None
            if f.kind == "int" and not f.optional:
                values = (pc.fill_null(col, 0) if null is not None else col).to_numpy()
            else:
                values = col.cast(pa.float64()).to_numpy()
            cols[f.name] = values
            if null is not None and not (f.optional or (f.kind == "float" and not strict)):
                flag(null, f"field {f.name!r} is empty")
            if strict and f.kind == "float":
                bad_num = ~np.isfinite(values)
                if null is not None:
                    bad_num &= ~null
                if bad_num.any():
                    v = values
                    flag(
                        bad_num,
                        lambda i, name=f.name, v=v: f"field {name!r} is not finite: {v[i]!r}",
                    )
        if ok.all():
            parts.append((idx, cols))
        elif ok.any():
            parts.append((idx[ok], {k: v[ok] for k, v in cols.items()}))

    def _rows(
        self, idx: Sequence[int], lines: Sequence[bytes], parts: _Parts, bad: dict[int, str]
    ) -> None:
        """The slow path: one row at a time, each bad one with its reason."""
        good: list[int] = []
        rows: list[list[Any]] = []
        for i, line in zip(idx, lines, strict=True):
            out = parse_row(line, self.schema, self.delimiter)
            if isinstance(out, str):
                bad[i] = out
            else:
                good.append(i)
                rows.append(out)
        if good:
            cols: dict[str, np.ndarray] = {
                f.name: np.array([r[j] for r in rows], dtype=column_dtype(f))
                for j, f in enumerate(self._used())
            }
            parts.append((np.asarray(good, dtype=np.int64), cols))

    def _assemble(
        self, raw: RawBatch, parts: _Parts, bad: dict[int, str]
    ) -> tuple[RecordBatch, list[DeadLetter]]:
        fields = self._used()
        cols: dict[str, np.ndarray]
        if not parts:
            good = np.zeros(0, dtype=np.int64)
            cols = {f.name: np.zeros(0, dtype=column_dtype(f)) for f in fields}
        elif len(parts) == 1:
            good, cols = parts[0]
        else:
            good = np.concatenate([p[0] for p in parts])
            cols = {f.name: np.concatenate([p[1][f.name] for p in parts]) for f in fields}
            if np.any(np.diff(good) < 0):  # defensive: keep the arrival order
                order = np.argsort(good, kind="stable")
                good, cols = good[order], {k: v[order] for k, v in cols.items()}
        return raw.records(cols, good), [raw.dead_letter(i, bad[i]) for i in sorted(bad)]

    # -- encoding -------------------------------------------------------------------
    def encode(self, columns: Mapping[str, np.ndarray]) -> list[bytes]:
        fields = self.schema.fields
        missing = [f.name for f in fields if f.name not in columns]
        if missing:
            raise ConfigError(f"cannot encode CSV: no column {missing[0]!r}")
        arrays = [_to_arrow(f, np.asarray(columns[f.name])) for f in fields]
        n = len(arrays[0]) if arrays else 0
        if n == 0:
            return []
        table = pa.Table.from_arrays(arrays, names=[f.name for f in fields])
        buf = io.BytesIO()
        try:
            opts = pacsv.WriteOptions(
                include_header=False, delimiter=self.delimiter, quoting_style="none"
            )
            pacsv.write_csv(table, buf, opts)
        except pa.ArrowException:  # a value needs quoting: let Python's csv module do it
            return self._encode_rows(table)
        lines = buf.getvalue().split(b"\n")
        lines.pop()
        return lines if len(lines) == n else self._encode_rows(table)

    def _encode_rows(self, table: pa.Table) -> list[bytes]:
        cols = [table.column(i).to_pylist() for i in range(table.num_columns)]
        out = io.StringIO()
        writer = csv.writer(out, delimiter=self.delimiter, lineterminator="\n")
        lines: list[bytes] = []
        for row in zip(*cols, strict=True):
            out.seek(0)
            out.truncate()
            writer.writerow(
                ["" if v is None else repr(v) if isinstance(v, float) else v for v in row]
            )
            lines.append(out.getvalue()[:-1].encode("utf-8"))
        return lines


def _strings(col: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Object array of ``str`` and an "is empty" mask, via the small dictionary."""
    values: list[np.ndarray] = []
    empty: list[np.ndarray] = []
    for chunk in col.chunks:
        words = chunk.dictionary.to_numpy(zero_copy_only=False).astype(object)
        codes = chunk.indices.to_numpy()
        values.append(words[codes])
        empty.append((words == "")[codes] if len(words) else np.zeros(len(codes), dtype=bool))
    if not values:
        return np.zeros(0, dtype=object), np.zeros(0, dtype=bool)
    if len(values) == 1:
        return values[0], empty[0]
    return np.concatenate(values), np.concatenate(empty)


def _to_arrow(f: Field, col: np.ndarray) -> pa.Array:
    if f.kind == "str":
        return pa.array(col.astype(object), type=pa.string(), from_pandas=True)
    if f.kind == "int":
        # Optional ints may arrive as floats with NaN for a gap: NaN -> empty field.
        return pa.array(col, from_pandas=True).cast(pa.int64())
    # NaN in an optional field means "missing" and is written as an empty field.
    return pa.array(col.astype(np.float64), type=pa.float64(), from_pandas=f.optional)
