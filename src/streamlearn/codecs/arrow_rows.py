"""Rows that arrive as Arrow tables (Parquet and Arrow files): typed columns, validated.

Each used field is cast to its type; a value that does not fit (text in a
number field, a null where a value is required, NaN or inf under the
dead-letter policy) sends its row to the dead letters with the reason, and
the row's data as JSON for bytes.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from streamlearn.codecs.base import Codec, column_dtype
from streamlearn.codecs.delimited_row import FLOAT_RE
from streamlearn.errors import ConfigError
from streamlearn.records.batch import DeadLetter, RawBatch, RecordBatch
from streamlearn.records.schema import Field

__all__ = ["ArrowCodec"]


class ArrowCodec(Codec):
    """Validates the used columns of Arrow tables and turns them into NumPy columns.

    Examples
    --------
    >>> from streamlearn.records.schema import Schema
    >>> codec = ArrowCodec(Schema((Field("x"), Field("who", "str"))))
    >>> table = pa.table({"x": [1.0, None, 3.0], "who": ["a", "b", None]})
    >>> raw = RawBatch("t.parquet", [], np.zeros(3, np.int32), np.arange(3), position_kind="row", table=table)
    >>> batch, dead = codec.decode(raw)
    >>> batch.columns["x"].tolist(), [d.reason for d in dead]
    ([1.0], ["field 'x' is empty", "field 'who' is empty"])
    """

    name = "arrow"

    def decode(self, raw: RawBatch) -> tuple[RecordBatch, list[DeadLetter]]:
        table: pa.Table | None = raw.table
        n = len(raw)
        if table is None:
            raise ConfigError("the arrow format takes rows from Parquet or Arrow files only")
        ok = np.ones(n, dtype=bool)
        reasons: dict[int, str] = {}
        cols: dict[str, np.ndarray] = {}
        strict = self.schema.nonfinite == "dead-letter"

        def flag(mask: np.ndarray, reason: str) -> None:
            for i in np.flatnonzero(mask & ok):
                reasons[int(i)] = reason
            ok[mask] = False

        for f in self.used_fields:
            if f.name not in table.column_names:
                flag(np.ones(n, dtype=bool), f"missing field {f.name!r}")
                cols[f.name] = np.zeros(n, dtype=column_dtype(f))
                continue
            values, bad, why = _column(table.column(f.name), f, strict)
            cols[f.name] = values
            for reason in dict.fromkeys(why[bad]).keys() if bad.any() else ():
                flag(bad & (why == reason), reason)
        keep = np.flatnonzero(ok)
        batch = raw.records({k: v[keep] for k, v in cols.items()}, keep)
        return batch, [raw.dead_letter(i, reasons[i]) for i in sorted(reasons)]

    def encode(self, columns: Mapping[str, np.ndarray]) -> list[bytes]:
        raise ConfigError("rows cannot be written in the arrow format; use json or csv")


def _column(
    col: pa.ChunkedArray, f: Field, strict: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Values of one column as ``f`` wants them, the rows that do not fit, and why."""
    n = len(col)
    why = np.full(n, "", dtype=object)
    null = (
        col.is_null().to_numpy(zero_copy_only=False) if col.null_count else np.zeros(n, dtype=bool)
    )
    if pa.types.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    if f.kind == "str":
        values = np.array(["" if v is None else str(v) for v in col.to_pylist()], dtype=object)
        if not f.optional:
            why[null] = f"field {f.name!r} is empty"
        return values, why != "", why
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        texts = col.to_pylist()
        values = np.full(n, np.nan)
        for k, t in enumerate(texts):
            if t is not None and FLOAT_RE.fullmatch(t.strip()):
                values[k] = float(t)
            elif t is not None:
                why[k] = f"field {f.name!r}: not a number: {t!r}"
    else:
        if pa.types.is_temporal(col.type):
            col = col.cast(pa.int64()) if not pa.types.is_date32(col.type) else col.cast(pa.int32())
        values = (
            pc.fill_null(col.cast(pa.float64()), np.nan)
            .to_numpy(zero_copy_only=False)
            .astype(np.float64)
        )
    if f.kind == "int" and not f.optional:
        fractional = ~null & (why == "") & (np.floor(values) != values)
        why[fractional] = f"field {f.name!r}: not an integer"
    empty_ok = f.optional or (f.kind == "float" and not strict)
    if not empty_ok:
        why[null & (why == "")] = f"field {f.name!r} is empty"
    if strict and f.kind == "float":
        nonfinite = ~null & (why == "") & ~np.isfinite(values)
        for k in np.flatnonzero(nonfinite).tolist():
            why[k] = f"field {f.name!r} is not finite: {values[k]!r}"
    if f.kind == "int" and not f.optional:
        values = np.where(why == "", values, 0).astype(np.int64)
    return values, why != "", why
