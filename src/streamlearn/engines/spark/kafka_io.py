"""Kafka through confluent-kafka, for the Spark data source: end offsets and ranges.

The planner asks :class:`KafkaMeta` for each partition's offsets; each
executor task reads one :class:`~streamlearn.engines.spark.partitions.KafkaRange`
with its own consumer, assigned at the range's first offset. Nothing is
committed to the consumer group: the offsets live in Spark's checkpoint.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from streamlearn.engines.spark.partitions import KafkaRange
from streamlearn.errors import SourceError
from streamlearn.records.batch import RawBatch

__all__ = ["KafkaMeta", "read_range"]

#: seconds a task waits for a record it knows exists before giving up
STALL_S = 60.0
#: seconds to wait for the broker
META_S = 10.0


def _consumer(bootstrap: str, errors: Any, **extra: Any) -> Any:
    from confluent_kafka import Consumer

    from streamlearn.sources.kafka import CONSUMER_TUNING, client_config

    conf = client_config(bootstrap, errors)
    conf.update(
        {
            "group.id": "streamlearn-spark",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "allow.auto.create.topics": False,
            "auto.offset.reset": "earliest",
            "enable.partition.eof": True,
            **CONSUMER_TUNING,
            **extra,
        }
    )
    return Consumer(conf)


class KafkaMeta:
    """Partitions and offsets of one topic, kept by the planner for the whole query.

    End offsets come from fetches, not from ListOffsets: a probe consumer sits
    at the end of every partition and the high watermark its fetches bring is
    right on every broker (Tansu's ListOffsets answers the last batch's base
    offset + 1; see :mod:`streamlearn.broker`).
    """

    def __init__(self, bootstrap: str, topic: str) -> None:
        from streamlearn.sources.kafka import ClientErrors

        self.bootstrap = bootstrap
        self.topic = topic
        self._errors = ClientErrors()
        self._c = _consumer(bootstrap, self._errors)
        self._probe: Any = None
        self._parts: list[int] = []
        self._seen: set[int] = set()

    def partitions(self) -> list[int]:
        from streamlearn.sources.kafka import fetch_metadata, topic_partitions

        md = fetch_metadata(self._c, self.bootstrap, self._errors, META_S)
        return topic_partitions(md, self.topic, self.bootstrap)

    def _listed(self, parts: list[int]) -> dict[int, tuple[int, int]]:
        from confluent_kafka import KafkaException, TopicPartition

        out = {}
        for p in parts:
            try:
                lo, hi = self._c.get_watermark_offsets(TopicPartition(self.topic, p), timeout=META_S)
            except KafkaException as exc:
                raise SourceError(
                    f"cannot read the offsets of '{self.topic}' [{p}] on {self.bootstrap}: {exc}"
                ) from None
            out[p] = (int(lo), int(hi))
        return out

    def watermarks(self) -> dict[str, tuple[int, int]]:
        """``{partition: (low, end)}``, partitions as strings (JSON offsets)."""
        from confluent_kafka import TopicPartition

        parts = self.partitions()
        listed = self._listed(parts)
        if self._probe is None or parts != self._parts:
            if self._probe is not None:
                self._probe.close()
            self._probe = _consumer(self.bootstrap, self._errors, **{"fetch.wait.max.ms": 10})
            self._probe.assign(
                [TopicPartition(self.topic, p, max(lo, hi - 1)) for p, (lo, hi) in listed.items()]
            )
            self._parts, self._seen = parts, set()
        deadline = time.monotonic() + META_S
        todo = {p for p, (lo, hi) in listed.items() if hi > lo}
        while True:
            # every poll refreshes the cached watermarks; messages are dropped
            for m in self._probe.consume(10_000, 0.05 if self._seen >= todo else 0.2):
                self._seen.add(m.partition())
            if self._seen >= todo or time.monotonic() > deadline:
                break
        out: dict[str, tuple[int, int]] = {}
        for p, (lo, hi) in listed.items():
            cached = self._probe.get_watermark_offsets(TopicPartition(self.topic, p), cached=True)[1]
            out[str(p)] = (lo, max(hi, int(cached)))
        return out

    def close(self) -> None:
        if self._probe is not None:
            self._probe.close()
        self._c.close()


def read_range(part: KafkaRange, rows: int) -> Iterator[RawBatch]:
    """The records of ``[part.start, part.stop)``, in batches of at most ``rows``."""
    from confluent_kafka import KafkaError, TopicPartition

    from streamlearn.sources.kafka import ClientErrors

    c = _consumer(part.bootstrap, ClientErrors())
    try:
        c.assign([TopicPartition(part.topic, part.partition, part.start)])
        payloads: list[bytes] = []
        keys: list[bytes | None] = []
        offsets: list[int] = []
        last, stalled = part.start - 1, time.monotonic()
        while last < part.stop - 1:
            msgs = c.consume(min(rows, part.stop - 1 - last), 1.0)
            for m in msgs:
                err = m.error()
                if err is not None:
                    if err.code() != KafkaError._PARTITION_EOF:
                        raise SourceError(f"reading {part.topic}[{part.partition}]: {err.str()}")
                    if m.offset() >= part.stop:  # offsets without records (compaction): done
                        last = part.stop - 1
                    continue
                if m.offset() >= part.stop:
                    last = part.stop - 1
                    break
                payloads.append(m.value() or b"")
                keys.append(m.key())
                offsets.append(m.offset())
                last = m.offset()
            if msgs:
                stalled = time.monotonic()
            elif time.monotonic() - stalled > STALL_S:
                raise SourceError(
                    f"{part.topic}[{part.partition}]: no record after offset {last} for {STALL_S:.0f} s"
                )
            if len(payloads) >= rows or (payloads and last >= part.stop - 1):
                yield _batch(part, payloads, keys, offsets)
                payloads, keys, offsets = [], [], []
    finally:
        c.close()


def _batch(part: KafkaRange, payloads: list[bytes], keys: list[bytes | None], offsets: list[int]) -> RawBatch:
    return RawBatch(
        part.topic,
        payloads,
        np.full(len(payloads), part.partition, dtype=np.int32),
        np.asarray(offsets, dtype=np.int64),
        keys if any(k is not None for k in keys) else None,
    )
