"""One CSV line on its own: its values, or the precise reason it is not a record.

This is the slow path of :class:`~streamlearn.codecs.delimited.CsvCodec`, for the
few rows a batch parse rejects. Its number grammar is pyarrow's, so both
paths agree on what a number is.
"""

from __future__ import annotations

import csv
import io
import math
import re
from typing import Any

from streamlearn.records.schema import Field, Schema

__all__ = ["FLOAT_RE", "INT_RE", "parse_row"]

# The number grammar pyarrow accepts, so that the per-row path agrees with it.
FLOAT_RE = re.compile(
    r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf(?:inity)?|nan)", re.I | re.A
)
INT_RE = re.compile(r"-?[0-9]+")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def parse_row(line: bytes, schema: Schema, delimiter: str) -> list[Any] | str:
    """Values of the used fields of one line, or the reason it is not a valid record.

    Only the fields the run uses (``schema.used``) are checked; the others
    only count, so that each value lands in its column.
    """
    fields = schema.fields
    if not line.strip():
        return "empty record"
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not valid UTF-8 at byte {exc.start}"
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as exc:
        return f"bad CSV quoting: {exc}"
    if len(rows) != 1:
        return "record spans several lines"
    values = rows[0]
    if len(values) != len(fields):
        return f"expected {len(fields)} fields, got {len(values)}"
    strict = schema.nonfinite == "dead-letter"
    used = set(schema.used)
    out: list[Any] = []
    for f, v in zip(fields, values, strict=True):
        if f.name not in used:
            continue
        value = _value(f, v, strict)
        if isinstance(value, _Fault):
            return value.reason
        out.append(value)
    return out


class _Fault:
    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _value(f: Field, v: str, strict: bool) -> Any:
    """The value of field ``f`` in cell ``v``, or a :class:`_Fault` saying why not."""
    if v == "":
        if f.optional or (f.kind == "float" and not strict):
            return "" if f.kind == "str" else math.nan
        return _Fault(f"field {f.name!r} is empty")
    if f.kind == "str":
        return v
    s = v.strip(" \t")
    if not s:
        return _Fault(f"field {f.name!r} is blank")
    if f.kind == "int":
        if not INT_RE.fullmatch(s):
            return _Fault(f"field {f.name!r}: not an integer: {v!r}")
        number = int(s)
        if not _INT64_MIN <= number <= _INT64_MAX:
            return _Fault(f"field {f.name!r}: integer out of range: {v!r}")
        return number
    if not FLOAT_RE.fullmatch(s):
        return _Fault(f"field {f.name!r}: not a number: {v!r}")
    x = float(s)
    if strict and not math.isfinite(x):
        return _Fault(f"field {f.name!r} is not finite: {x!r}")
    return x
