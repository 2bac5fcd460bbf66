"""Records: schemas, raw and decoded batches, and dead letters."""

from __future__ import annotations

from streamlearn.records.batch import DeadLetter, RawBatch, RecordBatch, format_position
from streamlearn.records.schema import HHAR_COLUMNS, HHAR_SCHEMA, Field, Schema, literal_schema

__all__ = [
    "HHAR_COLUMNS",
    "HHAR_SCHEMA",
    "DeadLetter",
    "Field",
    "RawBatch",
    "RecordBatch",
    "Schema",
    "format_position",
    "literal_schema",
]
