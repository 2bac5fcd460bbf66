"""JSON payloads: one JSON object per record, fields by name."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import orjson

from streamlearn.codecs.base import Codec, column_dtype
from streamlearn.codecs.delimited_row import FLOAT_RE
from streamlearn.errors import ConfigError
from streamlearn.records.batch import DeadLetter, RawBatch, RecordBatch
from streamlearn.records.schema import Field, Schema

__all__ = ["JsonCodec", "infer_json_schema"]

_TARGET_NAMES = ("gt", "label", "target", "class", "y", "activity")


def infer_json_schema(obj: Mapping[str, Any], target: str | None = None) -> Schema:
    """A schema from one JSON object: numbers become ``float``, strings ``str``.

    Other values (booleans, lists, objects, null) are left out. The target is
    ``target`` or the first of gt, label, target, class, y, activity present;
    the other string fields are categorical.

    Examples
    --------
    >>> s = infer_json_schema({"x": 1, "y": 2.5, "who": "a"})
    >>> [(f.name, f.kind) for f in s.fields], s.target, s.categorical
    ([('x', 'float'), ('y', 'float'), ('who', 'str')], 'y', ('who',))
    """
    if not isinstance(obj, Mapping):
        raise ConfigError(f"cannot infer a schema from a JSON {type(obj).__name__}; need an object")
    fields: list[Field] = []
    for name, value in obj.items():
        if isinstance(value, bool):
            continue
        if isinstance(value, int | float):
            fields.append(Field(str(name), "float"))
        elif isinstance(value, str):
            fields.append(Field(str(name), "str"))
    names = [f.name for f in fields]
    if target is None:
        lower = {n.lower(): n for n in names}
        target = next((lower[t] for t in _TARGET_NAMES if t in lower), None)
    elif target not in names:
        raise ConfigError(f"target {target!r} is not a field (fields: {', '.join(names)})")
    categorical = tuple(f.name for f in fields if f.kind == "str" and f.name != target)
    return Schema(tuple(fields), target=target, categorical=categorical)


class JsonCodec(Codec):
    """One JSON object per payload (decoded with orjson).

    A payload that is not JSON, not an object, lacks a required field or holds
    a value of the wrong type becomes a dead letter. Extra keys are ignored.
    ``null`` counts as missing. JSON has no NaN: a NaN is encoded as ``null``.

    Examples
    --------
    >>> codec = JsonCodec(infer_json_schema({"x": 1.0, "y": 2.0}))
    >>> codec.encode({"x": np.array([1.5]), "y": np.array([3.0])})
    [b'{"x":1.5,"y":3.0}']
    """

    name = "json"

    def decode(self, raw: RawBatch) -> tuple[RecordBatch, list[DeadLetter]]:
        fast = self._decode_clean(raw.payloads)
        if fast is not None:
            return raw.records(fast), []
        return self._decode_rows(raw)

    def _decode_clean(self, payloads: list[bytes]) -> dict[str, np.ndarray] | None:
        """Columns when every payload is a valid object with well-typed fields, else None."""
        try:
            objs = [orjson.loads(p) for p in payloads]
            cols: dict[str, np.ndarray] = {}
            for f in self.used_fields:
                # KeyError, or TypeError (AttributeError) for a non-object
                values = [o.get(f.name) for o in objs] if f.optional else [o[f.name] for o in objs]
                kinds = set(map(type, values))
                filled = f.optional and type(None) in kinds  # absent or null: "" or NaN
                if filled:
                    fill: Any = "" if f.kind == "str" else math.nan
                    values = [fill if v is None else v for v in values]
                    kinds = (kinds - {type(None)}) | {type(fill)}
                if f.kind == "str":
                    if kinds - {str} or (not f.optional and "" in values):
                        return None
                    cols[f.name] = np.array(values, dtype=object)
                    continue
                if kinds - ({int} if f.kind == "int" else {int, float}):
                    return None  # null, text, booleans, floats for ints: see row by row
                col: np.ndarray = np.array(values, dtype=column_dtype(f))
                strict = f.kind == "float" and self.schema.nonfinite == "dead-letter"
                if strict and (np.isinf(col).any() if filled else not np.isfinite(col).all()):
                    return None
                cols[f.name] = col
        except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError, OverflowError):
            return None
        return cols

    def _decode_rows(self, raw: RawBatch) -> tuple[RecordBatch, list[DeadLetter]]:
        """The slow path: one payload at a time, each bad one with its reason."""
        fields = self.used_fields
        good: list[int] = []
        values: list[list[Any]] = [[] for _ in fields]
        dead: list[DeadLetter] = []
        for i, payload in enumerate(raw.payloads):
            out = self._row(payload, fields)
            if isinstance(out, str):
                dead.append(raw.dead_letter(i, out))
                continue
            good.append(i)
            for column, v in zip(values, out, strict=True):
                column.append(v)
        cols: dict[str, np.ndarray] = {
            f.name: np.array(v, dtype=column_dtype(f)) for f, v in zip(fields, values, strict=True)
        }
        index = np.asarray(good, dtype=np.int64)
        return raw.records(cols, index), dead

    def _row(self, payload: bytes, fields: tuple[Field, ...]) -> list[Any] | str:
        """Values of one payload in schema order (of ``fields``), or why it is not a record."""
        try:
            obj = orjson.loads(payload)
        except orjson.JSONDecodeError as exc:
            if not payload.strip():
                return "empty record"
            return f"not valid JSON: {exc}"
        if not isinstance(obj, dict):
            return f"not a JSON object but {_json_type(obj)}"
        strict = self.schema.nonfinite == "dead-letter"
        out: list[Any] = []
        for f in fields:
            v = obj.get(f.name)
            if v is None:
                if f.optional or (f.kind == "float" and not strict):
                    out.append("" if f.kind == "str" else math.nan)
                    continue
                return (
                    f"missing field {f.name!r}"
                    if f.name not in obj
                    else f"field {f.name!r} is null"
                )
            if f.kind == "str":
                if isinstance(v, int | float) and not isinstance(v, bool):
                    v = str(v)  # a category written as a number
                if not isinstance(v, str):
                    return f"field {f.name!r}: expected a string, got {_json_type(v)}"
                if not v and not f.optional:
                    return f"field {f.name!r} is empty"
                out.append(v)
                continue
            if isinstance(v, str) and FLOAT_RE.fullmatch(v.strip()):
                v = float(v)  # a number written as text
            if isinstance(v, bool) or not isinstance(v, int | float):
                return f"field {f.name!r}: expected a number, got {_json_type(v)}"
            if f.kind == "int":
                if isinstance(v, float) and not v.is_integer():
                    return f"field {f.name!r}: not an integer: {v!r}"
                if not -(2**63) <= v < 2**63:
                    return f"field {f.name!r}: integer out of range: {v!r}"
                out.append(int(v))
                continue
            x = float(v)
            if strict and not math.isfinite(x):
                return f"field {f.name!r} is not finite: {x!r}"
            out.append(x)
        return out

    def encode(self, columns: Mapping[str, np.ndarray]) -> list[bytes]:
        fields = self.schema.fields
        missing = [f.name for f in fields if f.name not in columns]
        if missing:
            raise ConfigError(f"cannot encode JSON: no column {missing[0]!r}")
        names = [f.name for f in fields]
        lists = [_plain(f, np.asarray(columns[f.name])) for f in fields]
        dumps = orjson.dumps
        return [dumps(dict(zip(names, row, strict=True))) for row in zip(*lists, strict=True)]


def _plain(f: Field, col: np.ndarray) -> list[Any]:
    """Python values for orjson; NaN (and NaN gaps in optional ints) become null."""
    if f.kind == "str":
        return [None if v is None else str(v) for v in col.tolist()]
    if f.kind == "int" and col.dtype.kind != "f":
        return [int(v) for v in col.tolist()]
    values = col.astype(np.float64).tolist()
    if f.kind == "int":
        return [None if math.isnan(v) else int(v) for v in values]
    return [None if math.isnan(v) else v for v in values]


def _json_type(v: object) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, int | float):
        return "a number"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list):
        return "an array"
    return "an object"
