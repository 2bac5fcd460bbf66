"""Codecs: payload bytes in, validated columns (and dead letters) out.

- ``literal``: the course's NumPy literal lists (:mod:`.literal`);
- ``json``: one JSON object per record (:mod:`.json_records`);
- ``csv``: one delimited line per record (:mod:`.delimited`);
- ``arrow``: rows of Parquet and Arrow files, as Arrow tables (:mod:`.arrow_rows`).

:mod:`.infer` decides formats, layouts, types and roles from a sample.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, get_args

from streamlearn._lazy import exports
from streamlearn.codecs.base import Codec
from streamlearn.errors import ConfigError
from streamlearn.records.schema import HHAR_SCHEMA, Schema

if TYPE_CHECKING:
    from streamlearn.codecs.delimited import CsvCodec
    from streamlearn.codecs.header import schema_from_header
    from streamlearn.codecs.json_records import JsonCodec, infer_json_schema
    from streamlearn.codecs.literal import LiteralCodec

__all__ = [
    "FORMATS",
    "Codec",
    "CsvCodec",
    "Format",
    "JsonCodec",
    "LiteralCodec",
    "infer_json_schema",
    "make_codec",
    "schema_from_header",
    "sniff_format",
]

# the codecs load on first use: the literal one compiles with numba
_HOMES = {
    "CsvCodec": "delimited",
    "JsonCodec": "json_records",
    "LiteralCodec": "literal",
    "infer_json_schema": "json_records",
    "schema_from_header": "header",
}


#: a payload format, as ``--format`` names it
Format = Literal["literal", "json", "csv", "arrow"]
#: the payload formats ``--format`` accepts
FORMATS: tuple[Format, ...] = get_args(Format)


def make_codec(format: str, schema: Schema | None = None, **options: Any) -> Codec:
    """The codec for a payload format.

    Parameters
    ----------
    format
        ``literal``, ``json`` or ``csv``.
    schema
        Fields and roles. ``None`` means the format's default: the literal
        codec's own (the course layout) and HHAR for ``csv``. JSON has no
        default (use :func:`~streamlearn.codecs.json_records.infer_json_schema`
        on a first object).
    **options
        Passed to the codec, e.g. ``delimiter`` for CSV.

    Raises
    ------
    ConfigError
        For an unknown format, or JSON without a schema.

    Examples
    --------
    >>> make_codec("literal").name
    'literal'
    """
    kind = format.strip().lower()
    if kind == "literal":
        from streamlearn.codecs.literal import LiteralCodec

        return LiteralCodec(schema, **options)
    if kind == "csv":
        from streamlearn.codecs.delimited import CsvCodec

        return CsvCodec(schema if schema is not None else HHAR_SCHEMA, **options)
    if kind == "arrow":
        from streamlearn.codecs.arrow_rows import ArrowCodec

        if schema is None:
            raise ConfigError("the arrow format needs a schema: the file's")
        return ArrowCodec(schema)
    if kind == "json":
        from streamlearn.codecs.json_records import JsonCodec

        if schema is None:
            raise ConfigError("the json format needs a schema; infer one with infer_json_schema()")
        return JsonCodec(schema, **options)
    raise ConfigError(f"unknown format {format!r}; use one of: {', '.join(FORMATS)}")


def sniff_format(payloads: list[bytes]) -> Format:
    """Guess a topic's format from its first payloads: literal list, JSON or CSV.

    Examples
    --------
    >>> sniff_format([b'{"x": 1}'])
    'json'
    """
    for p in payloads[:100]:
        head = p.lstrip()[:1]
        if head == b"[":
            return "literal"
        if head == b"{":
            return "json"
        if head:
            return "csv"
    return "literal"


__getattr__, __dir__ = exports(__name__, _HOMES, __all__)
