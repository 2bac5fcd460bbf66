"""Offset ranges of a topic: what they are, how far a topic goes, and reading one.

The Spark data source plans micro-batches as :class:`KafkaRange` s, one or
more per partition: the planner asks :class:`TopicOffsets` where each
partition ends, and each executor task reads its range with a consumer of
its own, assigned at the range's first offset (:func:`read_range`). Nothing
is committed to a consumer group: the offsets live in Spark's checkpoint.
Consumers are configured and end offsets found exactly as the local
engine's :class:`~streamlearn.kafka.consumer.KafkaSource` does.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from streamlearn.errors import MissingExtraError
from streamlearn.kafka.client import ClientErrors, consumer_config, fetch_metadata, topic_partitions
from streamlearn.kafka.health import lost_broker
from streamlearn.kafka.messages import consume_batch
from streamlearn.kafka.offsets import EndProbe, watermarks
from streamlearn.records.batch import RawBatch

try:
    from confluent_kafka import Consumer, TopicPartition
except ImportError as exc:  # pragma: no cover - depends on the install
    raise MissingExtraError("Kafka", "kafka") from exc

__all__ = ["GROUP_ID", "KafkaRange", "TopicOffsets", "read_range"]

#: seconds to wait for the broker
META_S = 10.0
#: the consumer group of range readers (used for nothing but the client id)
GROUP_ID = "streamlearn-spark"


@dataclass(frozen=True)
class KafkaRange:
    """Offsets ``start`` to ``stop - 1`` of one partition of a topic."""

    bootstrap: str
    topic: str
    partition: int
    start: int
    stop: int
    #: seconds without a record the range knows exists before the read fails
    broker_timeout: float = 30.0


class TopicOffsets:
    """Partitions and offsets of one topic, kept open by a planner for a whole query."""

    def __init__(self, bootstrap: str, topic: str, broker_timeout: float = META_S) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.timeout = broker_timeout
        self._errors = ClientErrors()
        conf = consumer_config(bootstrap, self._errors, GROUP_ID)
        self._c = Consumer(conf)
        self._probe = EndProbe(topic, bootstrap, conf)

    @property
    def last_error(self) -> str | None:
        """The last connection error the client saw."""
        return self._errors.last

    def partitions(self) -> list[int]:
        md = fetch_metadata(self._c, self.bootstrap, self._errors, self.timeout)
        return topic_partitions(md, self.topic, self.bootstrap)

    def watermarks(self) -> dict[str, tuple[int, int]]:
        """``{partition: (low, end)}``, partitions as strings (JSON offsets)."""
        deadline = time.monotonic() + self.timeout
        low, high = watermarks(self._c, self.topic, self.bootstrap, self.partitions(), deadline)
        ends = self._probe.ends(low, high, deadline)
        return {str(p): (low[p], ends[p]) for p in sorted(ends)}

    def close(self) -> None:
        self._probe.close()
        self._c.close()


def read_range(part: KafkaRange, rows: int) -> Iterator[RawBatch]:
    """The records of ``[part.start, part.stop)``, in batches of at most ``rows``.

    Messages become batches as the local engine's consumer makes them
    (:func:`~streamlearn.kafka.messages.consume_batch`, no Python bytecode per
    message): 50,000 records read in 0.06 s instead of 0.15 s per task.
    """
    conf = consumer_config(part.bootstrap, ClientErrors(), GROUP_ID, {"enable.partition.eof": True})
    c = Consumer(conf)
    where = TopicPartition(part.topic, part.partition, part.start)
    try:
        c.assign([where])
        at, stalled = part.start, time.monotonic()
        held: list[RawBatch] = []
        while at < part.stop:
            got = consume_batch(
                c, min(rows, part.stop - at), 1.0, part.topic, part.bootstrap, part.partition
            )
            if got is None:
                if c.position([where])[0].offset >= part.stop:
                    break  # the range's last offsets hold no record (compaction)
                if time.monotonic() - stalled > part.broker_timeout:
                    reason = f"{part.topic}[{part.partition}] gave no record after offset {at - 1}"
                    raise lost_broker(part.bootstrap, reason, part.broker_timeout)
                continue
            stalled = time.monotonic()
            inside = int(np.searchsorted(got.offsets, part.stop))
            at = part.stop if inside < len(got) else int(got.offsets[-1]) + 1
            held.append(got.slice(0, inside) if inside < len(got) else got)
            if sum(map(len, held)) >= rows:
                yield RawBatch.concat(held)
                held = []
        if any(map(len, held)):
            yield RawBatch.concat(held)
    finally:
        c.close()
