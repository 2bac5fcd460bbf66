"""Where a topic is read from and to: start offsets, end offsets, batch bounds.

Start offsets come from a resume position or from ``earliest``/``latest``; end
offsets from the watermarks, confirmed by a fetch because Tansu's ListOffsets
answers the last *batch's* base offset + 1 (see :mod:`streamlearn.kafka.broker`).
A bounded batch shares its offsets evenly among the unfinished partitions, so
it depends on the position only, never on fetch timing.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from streamlearn.errors import ConfigError, MissingExtraError, SourceError

try:
    from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
except ImportError as exc:  # pragma: no cover - depends on the install
    raise MissingExtraError("Kafka", "kafka") from exc

__all__ = ["EndProbe", "read_to_end", "share_bounds", "start_offsets", "watermarks"]

log = logging.getLogger("streamlearn.kafka")


def watermarks(
    consumer: Any, topic: str, bootstrap: str, parts: list[int], deadline: float
) -> tuple[dict[int, int], dict[int, int]]:
    """Low and high watermarks of ``parts`` as the broker lists them."""
    low: dict[int, int] = {}
    high: dict[int, int] = {}
    for p in parts:
        try:
            lo, hi = consumer.get_watermark_offsets(
                TopicPartition(topic, p),
                timeout=max(0.5, deadline - time.monotonic()),
                cached=False,
            )
        except KafkaException as exc:
            raise SourceError(
                f"cannot read the offsets of '{topic}' [{p}] on {bootstrap}: {exc.args[0].str()}"
            ) from None
        low[p], high[p] = int(lo), int(hi)
    return low, high


class EndProbe:
    """End offsets of a topic's partitions, from fetches rather than ListOffsets.

    Tansu's ListOffsets answers the last *batch's* base offset + 1; the high
    watermark in a Fetch response is right on every broker, so the probe
    fetches from one before each listed end and takes the watermark the fetch
    brought. Kept open, it stays at the end of every partition, so asking
    again costs one short poll: the Spark planner asks once per micro-batch.

    Parameters
    ----------
    topic, bootstrap
        The topic and the brokers.
    conf
        Consumer settings (:func:`~streamlearn.kafka.client.consumer_config`);
        partition EOF events are turned on here.
    """

    def __init__(self, topic: str, bootstrap: str, conf: dict[str, Any]) -> None:
        self.topic = topic
        self.bootstrap = bootstrap
        self.conf = {**conf, "enable.partition.eof": True, "fetch.wait.max.ms": 10}
        self._probe: Any = None
        self._parts: list[int] = []
        self._seen: set[int] = set()
        self._ends: dict[int, int] = {}

    def ends(self, low: dict[int, int], high: dict[int, int], deadline: float) -> dict[int, int]:
        """``{partition: end offset}`` given the listed watermarks, within ``deadline``."""
        parts = sorted(high)
        if self._probe is None or parts != self._parts:
            self.close()
            self._probe = Consumer(self.conf)
            self._probe.assign(
                [TopicPartition(self.topic, p, max(low[p], high[p] - 1)) for p in parts]
            )
            self._parts, self._seen, self._ends = parts, set(), {}
        ends = {p: max(high[p], self._ends.get(p, 0)) for p in parts}
        todo = {p for p in parts if high[p] > low[p]}
        while True:
            # every poll refreshes the cached watermarks; the records themselves are dropped
            for m in self._probe.consume(10_000, 0.05 if self._seen >= todo else 0.1):
                p, off, err = m.partition(), m.offset(), m.error()
                if err is not None and err.code() != KafkaError._PARTITION_EOF:
                    raise SourceError(
                        f"cannot read '{self.topic}' [{p}] on {self.bootstrap}: {err.str()}"
                    )
                if p is not None and off is not None and p in ends:
                    # a record's offset + 1, or the offset an EOF event reports
                    ends[p] = max(ends[p], off + 1 if err is None else off)
                    self._seen.add(p)
            if self._seen >= todo or time.monotonic() >= deadline:
                break
        for p in self._seen:
            hi = self._probe.get_watermark_offsets(TopicPartition(self.topic, p), cached=True)[1]
            ends[p] = max(ends[p], int(hi))
        if not self._seen >= todo:
            log.warning(
                "end of %s partitions %s not confirmed by a fetch",
                self.topic,
                sorted(todo - self._seen),
            )
        self._ends = dict(ends)
        return ends

    def close(self) -> None:
        if self._probe is not None:
            probe, self._probe = self._probe, None
            probe.close()


def start_offsets(
    topic: str,
    start: str,
    parts: list[int],
    low: dict[int, int],
    high: dict[int, int],
    resume: dict[str, Any] | None,
) -> dict[int, int]:
    """First offset to read per partition: from ``resume``, else ``start``."""
    if resume is None:
        return {p: (low[p] if start == "earliest" else high[p]) for p in parts}
    if resume.get("topic", topic) != topic:
        raise ConfigError(f"the checkpoint is for topic {resume.get('topic')!r}, not {topic!r}")
    saved = {int(p): int(o) for p, o in dict(resume.get("offsets", {})).items()}
    out: dict[int, int] = {}
    for p in parts:
        # a partition added since the checkpoint starts at its beginning
        off = saved.get(p, low[p])
        if off < low[p]:
            log.warning("%s [%d]: offsets %d..%d were deleted by retention", topic, p, off, low[p])
            off = low[p]
        out[p] = off
    return out


def share_bounds(
    active: set[int], end: dict[int, int], next_: dict[int, int], n: int
) -> dict[int, int]:
    """Stop offsets of the next batch: ``n`` offsets shared evenly (water-filling)."""
    room = {p: end[p] - next_[p] for p in sorted(active)}
    give = dict.fromkeys(room, 0)
    left = min(n, sum(room.values()))
    while left > 0:
        fill = [p for p in room if room[p] > give[p]]
        share, extra = divmod(left, len(fill))
        for i, p in enumerate(fill):
            g = min(room[p] - give[p], share + (i < extra))
            give[p] += g
            left -= g
    return {p: next_[p] + g for p, g in give.items() if g > 0}


def read_to_end(
    consumer: Any, topic: str, bootstrap: str, next_offsets: dict[int, int], timeout_s: float
) -> bool:
    """Whether ``consumer`` has read every message written so far (asks the brokers now).

    A broker that does not answer makes it ``False`` (not known): the source's
    watch, not this question, decides when a lost broker stops the run.
    """
    for p, at in next_offsets.items():
        try:
            _low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout_s)
            if at < high:  # unless what is left holds no message (transaction markers)
                (tp,) = consumer.position([TopicPartition(topic, p)])
                if tp.offset < high:
                    return False
        except KafkaException as exc:
            log.debug("%s on %s: end offsets unknown: %s", topic, bootstrap, exc)
            return False
    return True
