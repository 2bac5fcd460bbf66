"""Choosing a stream's codec from a sample and what the user said: format, layout, types, roles.

The processor calls :func:`settle` before its first batch, with the first
records of the stream (a file's first lines, a topic's first messages); an
engine that needs the codec earlier calls it the same way. Everything the
user pinned (``--format``, ``--types``, ``--target``, ``--features``,
``--delimiter``, ``--no-header``, ``--columns``) wins over the sample.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import orjson

from streamlearn.codecs import Codec, make_codec
from streamlearn.codecs.infer import (
    assign_roles,
    detect_format,
    infer_delimited,
    infer_json,
    literal_width,
)
from streamlearn.codecs.layout import Layout, rows_of, sniff_layout
from streamlearn.records.schema import HHAR_COLUMNS, Field, Schema, literal_schema
from streamlearn.types import FieldKind, Nonfinite

__all__ = ["Choices", "Settled", "settle"]


@dataclass(frozen=True)
class Choices:
    """What the user said about the records; ``None`` lets the sample decide."""

    target: str | None = None
    features: Sequence[str] | None = None
    categorical: Sequence[str] | None = None
    key: str | None = None
    types: Mapping[str, FieldKind] = field(default_factory=dict)
    nonfinite: Nonfinite = "dead-letter"
    delimiter: str | None = None
    header: bool | None = None
    columns: Sequence[str] | None = None
    #: other columns to decode (steps read them), or every column
    keep: tuple[str, ...] = ()
    decode_all: bool = False
    #: a race needs a target (statistics alone do not)
    needs_target: bool = True
    #: the target's kind when the records may lack it (labels come on their own topic)
    absent_target: FieldKind | None = None
    #: the field records and labels share: a record without it is served, not dead-lettered
    join_key: str | None = None


@dataclass(frozen=True)
class Settled:
    """The decisions: the payload format, how delimited text is cut, and the codec."""

    format: str
    codec: Codec
    layout: Layout | None = None

    def describe(self) -> dict[str, object]:
        """The metrics' ``schema``: format, delimiter and header, and each field's type and role."""
        out: dict[str, object] = {"format": self.format}
        if self.layout is not None:
            out.update(delimiter=self.layout.delimiter, header=self.layout.header)
        out["fields"] = self.codec.schema.describe()
        return out


def _base(
    format: str, sample: Sequence[bytes], layout: Layout | None, choices: Choices, origin: str
) -> tuple[Schema, Layout | None] | None:
    """The fields (typed, no roles yet) that the sample shows, or ``None`` if it shows none."""
    if format == "literal":
        width = literal_width(sample)
        return (literal_schema(width - 2), None) if width is not None else None
    if format == "json":
        objects = []
        for p in sample:
            try:
                objects.append(orjson.loads(p))
            except orjson.JSONDecodeError:
                continue
        schema = infer_json(objects)
        return (schema, None) if schema.fields else None
    if format == "csv":
        if layout is None:
            if not sample:
                return None
            layout = sniff_layout(
                sample,
                choices.delimiter,
                choices.header,
                choices.columns,
                origin=origin,
                default_names=HHAR_COLUMNS,
            )
        return infer_delimited(rows_of(sample, layout), layout), layout
    return None


def _served(schema: Schema, join_key: str | None = None) -> tuple[Field, ...]:
    """The fields, with a text or number target (and the join key) made optional: a record
    without its label is served (predicted, neither learned nor scored), not dead-lettered.
    Integer labels and keys stay required: as optional they would decode as floats."""
    return tuple(
        replace(f, optional=True)
        if f.name in (schema.target, join_key) and f.kind in ("str", "float")
        else f
        for f in schema.fields
    )


def settle(
    format: str,
    sample: Sequence[bytes],
    choices: Choices,
    known: Schema | None = None,
    layout: Layout | None = None,
    origin: str = "the stream",
) -> Settled | None:
    """The codec for a stream, or ``None`` while the sample shows nothing to go by.

    Parameters
    ----------
    format
        ``literal``, ``json``, ``csv``, ``arrow`` or ``auto`` (decided by
        majority over the sample).
    sample
        The stream's first payloads.
    known
        The fields when the source knows them (a generator, a file's
        inferred schema, a user's schema); the sample is then not needed.
    layout
        How a delimited file is cut, when its source decided already.
    """
    if format == "auto":
        found = detect_format(sample)
        if found is None:
            return None
        format = found
    if known is not None:
        base, cut = known, layout
        if format == "csv" and cut is None and known.names != HHAR_COLUMNS and sample:
            cut = sniff_layout(
                sample, choices.delimiter, choices.header, known.names, origin=origin
            )
    else:
        found_base = _base(format, sample, layout, choices, origin)
        if found_base is None:
            return None
        base, cut = found_base
    features = choices.features
    if (
        choices.absent_target is not None
        and format == "json"
        and choices.target is not None
        and choices.target not in base.names
    ):
        base = replace(base, fields=(*base.fields, Field(choices.target, choices.absent_target)))
    if not choices.needs_target:  # statistics alone: no guessed target or features to validate
        base = replace(base, target=None)
        if features is None:
            features = ()
    schema = assign_roles(
        base,
        choices.target,
        features,
        choices.categorical,
        choices.key,
        choices.types,
        choices.needs_target,
    )
    schema = replace(
        schema,
        nonfinite=choices.nonfinite,
        keep=tuple(c for c in choices.keep if c in schema.names),  # not columns a step makes
        decode_all=choices.decode_all,
        fields=_served(schema, choices.join_key),
    )
    schema.__post_init__()
    options = {"delimiter": cut.delimiter} if format == "csv" and cut is not None else {}
    return Settled(format, make_codec(format, schema, **options), cut)
