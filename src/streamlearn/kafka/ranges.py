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
from streamlearn.kafka.health import BrokerWatch, lost_broker
from streamlearn.kafka.messages import consume_batch
from streamlearn.kafka.offsets import EndProbe, watermarks
from streamlearn.records.batch import RawBatch

try:
    from confluent_kafka import Consumer, TopicPartition
except ImportError as exc:  # pragma: no cover - depends on the install
    raise MissingExtraError("Kafka", "kafka") from exc

__all__ = ["GROUP_ID", "KafkaRange", "KeptRanges", "TopicOffsets", "read_range"]

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
    c = _consumer(part.bootstrap)
    try:
        c.assign([TopicPartition(part.topic, part.partition, part.start)])
        yield from _read_assigned(c, part, rows)
    finally:
        c.close()


def _consumer(bootstrap: str) -> Consumer:
    return Consumer(
        consumer_config(bootstrap, ClientErrors(), GROUP_ID, {"enable.partition.eof": True})
    )


def _read_assigned(c: Consumer, part: KafkaRange, rows: int) -> Iterator[RawBatch]:
    """The range's records from a consumer assigned to its partition at ``part.start``;
    never consumes past the range unless offsets are missing (compaction)."""
    where = TopicPartition(part.topic, part.partition, part.start)
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


class KeptRanges:
    """Reads ranges on the driver with one consumer per partition, kept open between
    micro-batches: a batch's range of a partition starts where the last one ended, so
    the records librdkafka fetched ahead serve it, as they serve the local engine.
    A consumer is sought again only if a range starts elsewhere (a restart). As the
    local engine's, they keep serving what they fetched after a broker dies, so a
    :class:`~streamlearn.kafka.health.BrokerWatch` asks the brokers apart."""

    def __init__(self) -> None:
        self._kept: dict[tuple[str, str, int], tuple[Consumer, int]] = {}
        self._watches: dict[str, BrokerWatch] = {}

    def _watch(self, part: KafkaRange) -> BrokerWatch:
        watch = self._watches.get(part.bootstrap)
        if watch is None:
            errors = ClientErrors()
            asker = Consumer(consumer_config(part.bootstrap, errors, GROUP_ID))
            watch = BrokerWatch(
                lambda t: asker.list_topics(part.topic, timeout=t),
                part.bootstrap,
                part.broker_timeout,
                reason=lambda: errors.last,
                release=asker.close,
            ).start()
            self._watches[part.bootstrap] = watch
        return watch

    def read(self, part: KafkaRange, rows: int) -> Iterator[RawBatch]:
        """The records of ``part``, as :func:`read_range` gives them; raises the one-line
        error once the brokers have not answered for ``part.broker_timeout``."""
        self._watch(part).check()
        key = (part.bootstrap, part.topic, part.partition)
        c, at = self._kept.pop(key, (None, -1))
        if c is None:
            c = _consumer(part.bootstrap)
        if at != part.start:
            c.assign([TopicPartition(part.topic, part.partition, part.start)])
        try:
            yield from _read_assigned(c, part, rows)
            # where offsets are missing (compaction) it may have read past the range's end:
            # then the next range seeks
            here = c.position([TopicPartition(part.topic, part.partition)])[0].offset
        except BaseException:
            c.close()
            raise
        self._kept[key] = (c, here if here == part.stop else -1)

    def close(self) -> None:
        for watch in self._watches.values():
            watch.stop()
        for c, _ in self._kept.values():
            c.close()
        self._kept.clear()
        self._watches.clear()
