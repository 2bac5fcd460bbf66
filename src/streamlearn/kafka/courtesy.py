"""Courtesy commits: the consumer group's offsets, for lag tools only.

A source's true position lives in streamlearn's checkpoints; committing it to
the group lets ``kafka-consumer-groups`` and friends show the lag. Commits are
asynchronous, at most every few seconds, and failures are ignored.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from streamlearn.errors import MissingExtraError
from streamlearn.kafka.health import CHECK_EVERY_S, BrokerWatch

try:
    from confluent_kafka import KafkaError, KafkaException, TopicPartition
except ImportError as exc:  # pragma: no cover - depends on the install
    raise MissingExtraError("Kafka", "kafka") from exc

__all__ = ["CourtesyCommits", "ignore_commit"]

log = logging.getLogger("streamlearn.kafka")

#: seconds between commits
EVERY_S = 5.0


class CourtesyCommits:
    """Commits a source's next offsets now and then, only while the brokers answer."""

    def __init__(
        self, consumer: Any, topic: str, start: dict[int, int], watch: BrokerWatch | None
    ) -> None:
        self.consumer = consumer
        self.topic = topic
        self.watch = watch
        self.committed = dict(start)
        self.last = time.monotonic()

    def maybe(self, next_offsets: dict[int, int], force: bool = False) -> None:
        """Commit ``next_offsets`` if they changed and the last commit is old enough."""
        now = time.monotonic()
        if not force and now - self.last < EVERY_S:
            return
        # a commit sent to a dead broker holds close() for ~45 s (measured):
        # commit only just after the brokers answered
        if self.watch is not None and not self.watch.answered_within(CHECK_EVERY_S + 0.5):
            return
        self.last = now
        changed = [
            TopicPartition(self.topic, p, o)
            for p, o in next_offsets.items()
            if self.committed.get(p) != o
        ]
        if not changed:
            return
        try:
            self.consumer.commit(offsets=changed, asynchronous=True)
            self.committed.update((tp.partition, tp.offset) for tp in changed)
        except (KafkaException, RuntimeError) as exc:  # a courtesy only
            log.debug("courtesy commit failed: %s", exc)


def ignore_commit(err: KafkaError | None, partitions: list[Any]) -> None:
    """librdkafka's commit callback: brokers without group support refuse commits."""
    if err is not None:
        log.debug("courtesy commit refused: %s", err)
