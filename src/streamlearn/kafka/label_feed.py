"""A label topic read in step with the features' event time, for ``--labels kafka:TOPIC``.

Before the records of a batch are predicted, every label stamped at or
before the batch's latest record must have been read: the feed reads the
label topic until each of its partitions has shown a label stamped later,
or it has read everything written so far. Which labels come before which
records then depends on the timestamps only, never on how fast either
topic was read, so a resumed run applies them exactly as an uninterrupted
one. What the feed has read goes straight into the race's state; its
offsets are saved in the same checkpoint.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from streamlearn.kafka.consumer import KafkaSource
from streamlearn.records.batch import RawBatch

__all__ = ["LabelFeed"]

#: labels read at a time
READ = 10_000


class LabelFeed:
    """Reads a label topic up to an event time.

    Parameters
    ----------
    source
        The label topic, opened by :meth:`open` (it must deliver timestamps).
    """

    def __init__(self, source: KafkaSource) -> None:
        self.source = source
        self.latest: dict[int, int] = {}  # each partition's latest label time read

    @property
    def topic(self) -> str:
        return self.source.topic

    def open(self, snapshot: dict[str, Any] | None) -> None:
        self.source.open(snapshot=snapshot)

    def read_through(self, until_ms: int | None) -> RawBatch:
        """Labels not read yet, at least every one stamped at or before ``until_ms``.

        ``None`` reads everything written so far (the feature stream ended).
        """
        parts: list[RawBatch] = []
        while until_ms is None or not self._past(until_ms):
            raw = self.source.read(READ, timeout_s=0.2)
            if len(raw):
                parts.append(raw)
                assert raw.timestamps is not None
                for p in np.unique(raw.partitions).tolist():
                    stamps = raw.timestamps[raw.partitions == p]
                    self.latest[p] = max(self.latest.get(p, stamps[0]), int(stamps.max()))
            elif self.source.exhausted or self.source.caught_up():
                break
        return RawBatch.concat(parts) if parts else RawBatch.empty(self.topic)

    def _past(self, until_ms: int) -> bool:
        """Whether every partition still open has shown a label stamped after ``until_ms``."""
        return all(self.latest.get(p, until_ms) > until_ms for p in self.source.open_partitions)

    def snapshot(self) -> dict[str, Any]:
        return self.source.snapshot()

    def close(self) -> None:
        self.source.close()
