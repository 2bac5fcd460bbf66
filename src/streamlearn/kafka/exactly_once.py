"""Exactly-once writes to Kafka topics across restarts from a checkpoint.

Each batch's messages are written in one transaction and carry three
headers: the run, the batch number and the batch's message count. A
checkpoint remembers the run and how far each partition of the topic had
grown. After a crash the run resumes from the checkpoint and replays batches
the topic may already hold: :func:`committed_batches` reads what was written
since the checkpoint, as consumers that read committed data see it, and the
sink skips the batches found there complete.

This needs a broker that hides aborted transactions from ``read_committed``
consumers. Tansu 0.6 (the embedded broker) takes transactions and holds back
open ones, but delivers the records of aborted ones: there a crash in the
middle of a batch's transaction can still duplicate part of that batch.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from streamlearn.kafka.client import ClientErrors, consumer_config
from streamlearn.kafka.offsets import watermarks

try:
    from confluent_kafka import Consumer, TopicPartition
except ImportError as exc:  # pragma: no cover - depends on the install
    from streamlearn.errors import MissingExtraError

    raise MissingExtraError("Kafka", "kafka") from exc

__all__ = ["BATCH", "COUNT", "RUN", "TopicMarks", "batch_headers", "committed_batches"]

RUN, BATCH, COUNT = "streamlearn-run", "streamlearn-batch", "streamlearn-count"
#: a topic read to its end is quiet this long after its last record
_QUIET_S = 0.5


def batch_headers(run: str, batch: int, count: int) -> list[tuple[str, bytes]]:
    """The headers of every message of one batch."""
    return [(RUN, run.encode()), (BATCH, str(batch).encode()), (COUNT, str(count).encode())]


class TopicMarks:
    """How far each partition of a topic has grown (for checkpoints), asked cheaply."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.bootstrap, self.topic = bootstrap, topic
        self._errors = ClientErrors()
        self._consumer = Consumer(consumer_config(bootstrap, self._errors, "streamlearn-sinks"))

    def ends(self, partitions: int, timeout_s: float = 10.0) -> dict[str, int]:
        _, high = watermarks(
            self._consumer,
            self.topic,
            self.bootstrap,
            list(range(partitions)),
            time.monotonic() + timeout_s,
        )
        return {str(p): o for p, o in high.items()}

    def close(self) -> None:
        self._consumer.close()


def committed_batches(
    bootstrap: str, topic: str, run: str, since: dict[str, int], timeout_s: float = 10.0
) -> set[int]:
    """Batches of ``run`` found complete in ``topic`` after the offsets ``since``."""
    errors = ClientErrors()
    conf = consumer_config(
        bootstrap, errors, "streamlearn-sinks", {"isolation.level": "read_committed"}
    )
    consumer: Any = Consumer(conf)
    seen: Counter[int] = Counter()
    expected: dict[int, int] = {}
    try:
        consumer.assign([TopicPartition(topic, int(p), int(o)) for p, o in since.items()])
        deadline = time.monotonic() + timeout_s
        quiet_since = time.monotonic()
        while time.monotonic() < deadline and time.monotonic() - quiet_since < _QUIET_S:
            msgs = consumer.consume(10_000, 0.1)
            for msg in msgs:
                if msg.error() is not None:
                    continue
                found = dict(msg.headers() or ())
                if found.get(RUN, b"").decode() != run:
                    continue
                batch = int(found[BATCH])
                seen[batch] += 1
                expected[batch] = int(found[COUNT])
            if msgs:
                quiet_since = time.monotonic()
    finally:
        consumer.close()
    return {b for b, n in seen.items() if n >= expected[b]}
