"""An in-memory source: a list of payloads or of dicts, for tests and notebooks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import orjson

from streamlearn.records.batch import RawBatch
from streamlearn.sources.base import Progress, Source

__all__ = ["MemorySource"]


class MemorySource(Source):
    """Replays a fixed list of records.

    Records are ``bytes`` payloads (decoded by the pipeline's codec) or
    dicts (sent as JSON). The offset of a record is its index in the list.

    Examples
    --------
    >>> src = MemorySource([{"x": 1.0, "y": 2.0}, {"x": 2.0, "y": 4.0}])
    >>> len(src.read(10))
    2
    """

    kind = "memory"
    format = "json"
    replay = "index"

    def __init__(self, records: Sequence[bytes | Mapping[str, Any]], name: str = "memory") -> None:
        self.payloads = [
            r if isinstance(r, bytes) else orjson.dumps(dict(r), option=orjson.OPT_SERIALIZE_NUMPY)
            for r in records
        ]
        if records and all(isinstance(r, bytes) for r in records):
            self.format = "literal"
        self.origin = name
        self.count = len(self.payloads)
        self.next = 0

    def open(self, snapshot: dict[str, Any] | None = None) -> None:
        self.next = int(snapshot["next"]) if snapshot else 0

    def read(self, max_records: int, timeout_s: float = 1.0) -> RawBatch:
        start, stop = self.next, min(len(self.payloads), self.next + max_records)
        self.next = stop
        return RawBatch(
            self.origin,
            self.payloads[start:stop],
            np.zeros(stop - start, dtype=np.int32),
            np.arange(start, stop, dtype=np.int64),
        )

    @property
    def exhausted(self) -> bool:
        return self.next >= len(self.payloads)

    def peek(self, n: int) -> list[bytes]:
        return self.payloads[self.next : self.next + n]

    def snapshot(self) -> dict[str, Any]:
        return {"next": self.next}

    def progress(self) -> Progress:
        return Progress(consumed=self.next, total=len(self.payloads))

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "count": len(self.payloads)}
