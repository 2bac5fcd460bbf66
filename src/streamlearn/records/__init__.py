"""Records: schemas, raw and decoded batches, dead letters and the codecs."""

from __future__ import annotations

from typing import Any

from streamlearn.errors import ConfigError
from streamlearn.records.batch import DeadLetter, RawBatch, RecordBatch, format_position
from streamlearn.records.codec import Codec, finite_mask
from streamlearn.records.csv import CsvCodec, schema_from_header
from streamlearn.records.jsoncodec import JsonCodec, infer_json_schema
from streamlearn.records.literal import LiteralCodec
from streamlearn.records.schema import HHAR_COLUMNS, HHAR_SCHEMA, Field, Schema, literal_schema

__all__ = [
    "FORMATS",
    "HHAR_COLUMNS",
    "HHAR_SCHEMA",
    "Codec",
    "CsvCodec",
    "DeadLetter",
    "Field",
    "JsonCodec",
    "LiteralCodec",
    "RawBatch",
    "RecordBatch",
    "Schema",
    "finite_mask",
    "format_position",
    "infer_json_schema",
    "literal_schema",
    "make_codec",
    "schema_from_header",
]

#: the payload formats ``--format`` accepts
FORMATS = ("literal", "json", "csv")


def make_codec(fmt: str, schema: Schema | None = None, **options: Any) -> Codec:
    """The codec for a payload format.

    Parameters
    ----------
    fmt
        ``literal``, ``json`` or ``csv``.
    schema
        Fields and roles. ``None`` means the format's default: the literal
        codec's own (the course layout) and HHAR for ``csv``. JSON has no
        default (use :func:`infer_json_schema` on a first object).
    **options
        Passed to the codec, e.g. ``delimiter`` for CSV.

    Raises
    ------
    ConfigError
        For an unknown format, or JSON without a schema.
    """
    kind = fmt.strip().lower()
    if kind == "literal":
        return LiteralCodec(schema, **options)
    if kind == "csv":
        return CsvCodec(schema if schema is not None else HHAR_SCHEMA, **options)
    if kind == "json":
        if schema is None:
            raise ConfigError("the json format needs a schema; infer one with infer_json_schema()")
        return JsonCodec(schema, **options)
    raise ConfigError(f"unknown format {fmt!r}; use one of: {', '.join(FORMATS)}")
