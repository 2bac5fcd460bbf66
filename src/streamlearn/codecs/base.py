"""The codec interface: payload bytes in, validated columns (and dead letters) out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

import numpy as np

from streamlearn.records.batch import DeadLetter, RawBatch, RecordBatch
from streamlearn.records.schema import Field, Schema

__all__ = ["Codec", "column_dtype"]


def column_dtype(f: Field) -> type:
    """A decoded column's dtype: optional ints become float, so that NaN can mark a gap."""
    if f.kind == "str":
        return object
    if f.kind == "int" and not f.optional:
        return np.int64
    return np.float64


class Codec(ABC):
    """Decodes raw payloads into a :class:`RecordBatch` following a schema.

    A payload that fails to decode or validate is never dropped: it becomes a
    :class:`DeadLetter` with its position, raw bytes and the reason.
    """

    name: str = "codec"

    def __init__(self, schema: Schema) -> None:
        self.schema = schema

    @property
    def options(self) -> dict[str, Any]:
        """What :func:`~streamlearn.codecs.make_codec` needs besides the format and schema to
        build this codec again (as Spark's executors do), e.g. a CSV file's delimiter."""
        return {}

    @property
    def used_fields(self) -> tuple[Field, ...]:
        """The fields decoded and validated (``schema.used``), in record order."""
        used = set(self.schema.used)
        return tuple(f for f in self.schema.fields if f.name in used)

    @abstractmethod
    def decode(self, raw: RawBatch) -> tuple[RecordBatch, list[DeadLetter]]:
        """Decode every payload; the good ones keep their order."""

    @abstractmethod
    def encode(self, columns: Mapping[str, np.ndarray]) -> list[bytes]:
        """Encode rows given as columns (used by producers)."""
