"""Label records and join keys: what ``--labels kafka:TOPIC --join-key FIELD`` reads.

A label record is a JSON object holding the join key and the target, e.g.
``{"id": 17, "activity": "walk"}``. A record whose payload is not such an
object, or whose key or target is missing or null, is dead-lettered with the
reason and its exact bytes. Keys are compared as text, with integral
numbers written without a fraction, so ``17``, ``17.0`` and ``"17"`` join.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
import pandas as pd

from streamlearn.records.batch import DeadLetter, RawBatch, RecordBatch

__all__ = ["LabelRecords", "decode_labels", "has_label", "key_text", "key_texts", "row_times"]


def key_text(value: Any) -> str | None:
    """A join key as text; ``None`` for a missing one.

    >>> key_text(17), key_text(17.0), key_text("17"), key_text(None), key_text(float("nan"))
    ('17', '17', '17', None, None)
    """
    if value is None or value == "":
        return None
    if isinstance(value, float):
        if value != value:
            return None
        if value.is_integer():
            return str(int(value))
    return str(value)


def key_texts(column: np.ndarray) -> list[str | None]:
    """:func:`key_text` of each value of a decoded column."""
    if column.dtype.kind in "iu":
        return column.astype(str).tolist()
    return [key_text(v) for v in column.tolist()]


@dataclass
class LabelRecords:
    """Decoded labels: event times (ms), keys, target values and where each came from."""

    ts: np.ndarray
    keys: list[str] = field(default_factory=list)
    values: list[Any] = field(default_factory=list)
    #: (origin, partition, offset, exact bytes) of each label
    letters: list[tuple[str, int, int, bytes]] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)


def _value(value: Any, numeric: bool) -> Any:
    """A label's value as the race learns it (a finite number, or text), or ``None``."""
    if isinstance(value, dict | list):
        return None
    if not numeric:
        return value if isinstance(value, str) else key_text(value)
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def decode_labels(raw: RawBatch, join_key: str, target: str, numeric: bool) -> LabelRecords:
    """The label records of a batch read from the label topic.

    ``numeric``: the target is a number (regression); otherwise class labels,
    as text. A label of the wrong kind is a dead letter.

    Examples
    --------
    >>> import numpy as np
    >>> payloads = [b'{"id": 1, "y": 2.5}', b"oops", b'{"id": 2, "y": "high"}']
    >>> raw = RawBatch("labels", payloads, np.zeros(3, np.int32), np.arange(3),
    ...                timestamps=np.array([5, 6, 7]))
    >>> got = decode_labels(raw, "id", "y", numeric=True)
    >>> got.keys, got.values, [d.reason for d in got.dead]
    (['1'], [2.5], ['not a JSON object', "label for 'y' is not a number: 'high'"])
    """
    assert raw.timestamps is not None
    keep: list[int] = []
    out = LabelRecords(np.zeros(0, dtype=np.int64))
    for i, payload in enumerate(raw.payloads):
        try:
            obj = orjson.loads(payload)
        except orjson.JSONDecodeError:
            obj = None
        if not isinstance(obj, dict):
            out.dead.append(raw.dead_letter(i, "not a JSON object"))
            continue
        key = key_text(obj.get(join_key))
        if key is None:
            out.dead.append(raw.dead_letter(i, f"label without its join key {join_key!r}"))
            continue
        given = obj.get(target)
        if given is None or given == "":
            out.dead.append(raw.dead_letter(i, f"label without a value for {target!r}"))
            continue
        value = _value(given, numeric)
        if value is None:
            kind = "a number" if numeric else "a class label"
            why = f"label for {target!r} is not {kind}: {given!r}"
            out.dead.append(raw.dead_letter(i, why))
            continue
        keep.append(i)
        out.keys.append(key)
        out.values.append(value)
        part = int(raw.partitions[i])
        out.letters.append((raw.origin_of(part), part, int(raw.offsets[i]), payload))
    out.ts = raw.timestamps[keep] if keep else np.zeros(0, dtype=np.int64)
    return out


def row_times(raw: RawBatch, batch: RecordBatch) -> np.ndarray:
    """Each decoded record's timestamp, found by its position in the raw batch."""
    assert raw.timestamps is not None
    if np.array_equal(batch.offsets, raw.offsets) and np.array_equal(
        batch.partitions, raw.partitions
    ):
        return raw.timestamps
    where = raw.partitions.astype(np.int64) << 40 | raw.offsets
    order = np.argsort(where, kind="stable")
    wanted = batch.partitions.astype(np.int64) << 40 | batch.offsets
    return np.asarray(raw.timestamps[order[np.searchsorted(where[order], wanted)]])


def has_label(target: np.ndarray) -> np.ndarray:
    """Which class labels are given: a null or empty one marks a record to serve.

    One factorize and a check per distinct value, not a Python test per record.
    """
    codes, uniques = pd.factorize(np.asarray(target, dtype=object), use_na_sentinel=False)
    missing = np.fromiter(
        (u is None or u == "" or (isinstance(u, float) and u != u) for u in uniques.tolist()),
        dtype=bool,
        count=len(uniques),
    )
    return np.asarray(~missing[codes])
