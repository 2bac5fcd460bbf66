"""A CSV file's schema from its header line, with column kinds guessed from sample rows."""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence

from streamlearn.codecs.delimited_row import FLOAT_RE, INT_RE
from streamlearn.errors import ConfigError
from streamlearn.records.schema import HHAR_COLUMNS, HHAR_SCHEMA, Field, Schema
from streamlearn.types import FieldKind

__all__ = ["schema_from_header"]

_TARGET_NAMES = ("gt", "label", "target", "class", "y", "activity")
_ID_NAMES = re.compile(r"(?i)^(index|id|.*_id|counter|.*time.*|timestamp)$")


def schema_from_header(
    header: bytes | str,
    sample: Sequence[bytes | str] = (),
    *,
    target: str | None = None,
    delimiter: str = ",",
) -> Schema:
    """A schema from a CSV header line, guessing kinds from sample rows.

    The HHAR header gives :data:`HHAR_SCHEMA` with its roles. Otherwise a
    column is ``int`` when it looks like an identifier or a time (``Index``,
    ``id``, ``*time*``) and all its sample values are integers, ``float`` when
    all its values are numbers, and ``str`` otherwise. A column with an empty
    value in the sample is optional. The target is ``target`` or the first of
    gt, label, target, class, y, activity; other text columns are categorical
    and identifier-like columns are ignored as features.

    Examples
    --------
    >>> schema_from_header(b"Index,Arrival_Time,Creation_Time,x,y,z,User,Model,Device,gt\\r\\n").target
    'gt'
    """
    text = header.decode("utf-8-sig") if isinstance(header, bytes) else header.lstrip("\ufeff")
    names = [n.strip() for n in next(csv.reader([text.rstrip("\r\n")], delimiter=delimiter), [])]
    if not names or any(not n for n in names):
        raise ConfigError(f"CSV header has an empty column name: {text.strip()!r}")
    if target is not None and target not in names:
        raise ConfigError(f"target {target!r} is not a column (columns: {', '.join(names)})")
    if tuple(names) == HHAR_COLUMNS:
        return HHAR_SCHEMA if target in (None, "gt") else HHAR_SCHEMA.with_roles(target=target)
    seen: list[list[str]] = [[] for _ in names]
    for row in sample:
        line = row.decode("utf-8", "replace") if isinstance(row, bytes) else row
        values = next(csv.reader([line.rstrip("\r\n")], delimiter=delimiter), [])
        if len(values) == len(names):
            for j, v in enumerate(values):
                seen[j].append(v.strip(" \t"))
    fields: list[Field] = []
    ignore: list[str] = []
    for name, values in zip(names, seen, strict=True):
        filled = [v for v in values if v]
        identifier = bool(_ID_NAMES.match(name))
        kind: FieldKind
        if filled and identifier and all(INT_RE.fullmatch(v) for v in filled):
            kind = "int"
        elif all(FLOAT_RE.fullmatch(v) for v in filled):
            kind = "float"
        else:
            kind = "str"
        if identifier and kind != "str":
            ignore.append(name)
        fields.append(Field(name, kind, optional=len(filled) < len(values)))
    if target is None:
        lower = {n.lower(): n for n in names}
        target = next((lower[t] for t in _TARGET_NAMES if t in lower), None)
    categorical = tuple(f.name for f in fields if f.kind == "str" and f.name != target)
    return Schema(tuple(fields), target=target, categorical=categorical, ignore=tuple(ignore))
