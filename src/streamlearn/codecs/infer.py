"""What records hold, from a sample: the format, a delimited text's layout, each column's type and role.

Everything here decides by majority over a sample (the first records of a
file or topic, say 1,000), never from one record: one odd value, or a few
broken messages at the head of a topic, never decide a column's type or a
topic's format. Values that do not fit what the majority decided become dead
letters later, with their reason.

Examples
--------
>>> detect_format([b"garbage", b"[1, 2.0, 3.0]", b"[2, 4.0, 5.0]"])
'literal'
>>> kind_of(["1", "2.5", "1.42469663191325E+018", "n/a"])
'float'
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from streamlearn.codecs.delimited_row import FLOAT_RE
from streamlearn.codecs.layout import DELIMITERS, SAMPLE, Layout
from streamlearn.errors import ConfigError
from streamlearn.records.schema import HHAR_COLUMNS, HHAR_SCHEMA, Field, Schema
from streamlearn.types import FieldKind

__all__ = [
    "SAMPLE",
    "TARGET_NAMES",
    "Layout",
    "assign_roles",
    "detect_format",
    "infer_delimited",
    "infer_json",
    "kind_of",
    "literal_width",
    "parse_types",
]

#: names that say "this is the label", in order of preference
TARGET_NAMES = ("gt", "label", "target", "class", "y", "activity", "category", "outcome", "anomaly")
#: names of identifiers, counters and times: not features unless asked for
_ID_NAMES = re.compile(
    r"(?i)^(index|idx|id|.*[_ ]id|counter|row|.*time.*|timestamp|date|datetime)$"
)
#: a text column with more distinct values than this share of the sample is an identifier
_DISTINCT_SHARE = 0.5
_TYPE_NAMES: dict[str, FieldKind] = {
    "float": "float",
    "number": "float",
    "double": "float",
    "int": "int",
    "integer": "int",
    "str": "str",
    "string": "str",
    "text": "str",
    "category": "str",
    "categorical": "str",
}


def detect_format(payloads: Sequence[bytes]) -> str | None:
    """The payload format of most of ``payloads``: ``literal``, ``json`` or ``csv`` (``None``: none).

    A payload starting with ``[`` votes literal, ``{`` votes JSON, and one
    holding a comma, tab, semicolon or pipe votes CSV; others do not vote.
    """
    votes: Counter[str] = Counter()
    for p in payloads[:SAMPLE]:
        head = p.lstrip()[:1]
        if head == b"[":
            votes["literal"] += 1
        elif head == b"{":
            votes["json"] += 1
        elif any(d.encode() in p for d in DELIMITERS):
            votes["csv"] += 1
    if not votes:
        return None
    return votes.most_common(1)[0][0]


def literal_width(payloads: Sequence[bytes]) -> int | None:
    """The number of values most literal lists in ``payloads`` hold (at least 3), or ``None``."""
    from streamlearn.codecs.literal import LiteralError, parse_literal

    widths: Counter[int] = Counter()
    for p in payloads[:SAMPLE]:
        try:
            n = len(parse_literal(p))
        except LiteralError:
            continue
        if n >= 3:
            widths[n] += 1
    return widths.most_common(1)[0][0] if widths else None


def kind_of(values: Iterable[object]) -> FieldKind:
    """``float`` when most non-empty values are numbers (scientific notation too), else ``str``."""
    numbers = filled = 0
    for v in values:
        if v is None or v == "" or isinstance(v, bool):
            continue
        filled += 1
        if isinstance(v, int | float) or (
            isinstance(v, str) and FLOAT_RE.fullmatch(v.strip(" \t"))
        ):
            numbers += 1
    return "float" if filled == 0 or numbers * 2 > filled else "str"


def parse_types(text: str | Mapping[str, str] | None) -> dict[str, FieldKind]:
    """``--types COL:float,COL:category`` as ``{column: kind}``.

    Examples
    --------
    >>> parse_types("x:float,user:category")
    {'x': 'float', 'user': 'str'}
    """
    if not text:
        return {}
    pairs = (
        text.items()
        if isinstance(text, Mapping)
        else (part.rpartition(":")[::2] for part in text.split(","))
    )
    out: dict[str, FieldKind] = {}
    for name, kind in pairs:
        name, kind = name.strip(), kind.strip().lower()
        if not name or kind not in _TYPE_NAMES:
            raise ConfigError(
                f"--types takes COLUMN:TYPE pairs with TYPE one of float, int, category; not {name}:{kind}"
            )
        out[name] = _TYPE_NAMES[kind]
    return out


def infer_delimited(rows: Sequence[Sequence[str]], layout: Layout) -> Schema:
    """Fields of delimited rows (already cut), typed by majority. Roles come from :func:`assign_roles`."""
    if layout.names == HHAR_COLUMNS:
        base = HHAR_SCHEMA  # Job 1's schema and roles; types still come from the data
        kinds = {
            n: _hhar_kind(n, [r[j] for r in rows if len(r) == len(layout.names)])
            for j, n in enumerate(layout.names)
        }
        return replace(base, fields=tuple(replace(f, kind=kinds[f.name]) for f in base.fields))
    columns: list[list[str]] = [[] for _ in layout.names]
    for r in rows:
        if len(r) == len(layout.names):
            for j, v in enumerate(r):
                columns[j].append(v.strip(" \t"))
    fields = tuple(
        Field(n, kind_of(col), optional=kind_of(col) == "str")
        for n, col in zip(layout.names, columns, strict=True)
    )
    return Schema(fields, notes=_distinct_notes(fields, columns))


def _hhar_kind(name: str, values: list[str]) -> FieldKind:
    kind = HHAR_SCHEMA.field(name).kind
    if kind == "str":
        return "str"
    return "float" if kind_of(values) == "float" else "str"


def infer_json(objects: Sequence[object]) -> Schema:
    """Fields of JSON objects: keys in order of first appearance, typed by majority.

    Booleans, arrays and nested objects are left out: they are not features.
    """
    values: dict[str, list[object]] = {}
    for obj in objects[:SAMPLE]:
        if isinstance(obj, dict):
            for k, v in obj.items():
                values.setdefault(str(k), []).append(v)
    fields = []
    for name, col in values.items():
        if sum(isinstance(v, bool | list | dict) for v in col) * 2 > len(col):
            continue
        plain = [v for v in col if not isinstance(v, bool | list | dict)]
        kind = kind_of(plain)
        fields.append(Field(name, kind, optional=kind == "str"))
    texts = [[str(v) for v in values[f.name] if v is not None] for f in fields]
    return Schema(tuple(fields), notes=_distinct_notes(tuple(fields), texts))


def _distinct_notes(
    fields: Sequence[Field], columns: Sequence[Sequence[str]]
) -> tuple[tuple[str, str], ...]:
    """Text columns with a different value on most rows: identifiers, not categories."""
    notes = []
    for f, col in zip(fields, columns, strict=True):
        filled = [v for v in col if v != ""]
        if (
            f.kind == "str"
            and len(filled) >= 20
            and len(set(filled)) > _DISTINCT_SHARE * len(filled)
        ):
            notes.append(
                (
                    f.name,
                    f"unused: {len(set(filled))} distinct values in {len(filled)} rows, like an identifier",
                )
            )
    return tuple(notes)


def assign_roles(
    schema: Schema,
    target: str | None = None,
    features: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
    key: str | None = None,
    types: Mapping[str, FieldKind] | None = None,
    needs_target: bool = True,
) -> Schema:
    """The schema with its roles: the given ones, else the guessed ones.

    The target is the given one, else the first column named like a label
    (gt, label, target, class, y...), else the last column. Features are the
    given ones exactly, else every other column but identifiers and times
    (index, id, counter, *time*, date) and text columns with a different
    value on most rows. Text features are categorical.
    """
    if types:
        schema = schema.with_types(dict(types))
    notes = dict(schema.notes)
    names = schema.names
    for name in (target, key, *(features or ()), *(categorical or ())):
        if name is not None and name not in names:
            raise ConfigError(f"no column {name!r} (columns: {', '.join(names)})")
    if target is None:
        target = schema.target
    if target is None and needs_target and names:
        lower = {n.lower(): n for n in names}
        target = next((lower[t] for t in TARGET_NAMES if t in lower), None)
        if target is None:
            target = names[-1]
            notes[target] = "target: the last column (give --target to choose another)"
    ignore = set(schema.ignore)
    for name in features or ():  # asked for: whatever the data suggested
        if notes.get(name, "").startswith("unused"):
            del notes[name]
        ignore.discard(name)
    for name in names:
        if _ID_NAMES.match(name) and name not in (features or ()):
            ignore.add(name)
            notes.setdefault(name, "unused: named like an identifier or a time")
        elif name in notes and notes[name].startswith("unused") and name not in (features or ()):
            ignore.add(name)
    if categorical is None:
        cats = tuple(
            f.name
            for f in schema.fields
            if f.kind == "str" and f.name not in ignore and f.name != target
        )
        categorical = schema.categorical or cats
    pinned = types or {}
    categorical = (*categorical, *(n for n, k in pinned.items() if k == "str" and n not in ignore))
    categorical = tuple(  # never the label; pinned numbers are numbers
        dict.fromkeys(
            c for c in categorical if c not in (target, key) and pinned.get(c, "str") == "str"
        )
    )
    out = replace(
        schema,
        target=target,
        features=tuple(features) if features is not None else schema.features,
        categorical=tuple(categorical),
        key=key if key is not None else schema.key,
        ignore=tuple(n for n in names if n in ignore),
        notes=tuple(notes.items()),
    )
    out.__post_init__()  # roles name real fields
    return out
