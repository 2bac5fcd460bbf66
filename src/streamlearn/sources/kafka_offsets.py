"""Where a :class:`~streamlearn.sources.kafka.KafkaSource` starts and stops reading.

Start offsets come from a resume position or from ``earliest``/``latest``; end
offsets from the watermarks, confirmed by a fetch because Tansu's ListOffsets
answers the last *batch's* base offset + 1 (see :mod:`streamlearn.broker`).
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

__all__ = ["share_bounds", "start_offsets", "true_ends", "watermarks"]

# the source's logger: its warnings keep the name users know
log = logging.getLogger("streamlearn.sources.kafka")


def watermarks(
    consumer: Any, topic: str, bootstrap: str, parts: list[int], deadline: float
) -> tuple[dict[int, int], dict[int, int]]:
    """Low and high watermarks of ``parts`` as the broker lists them."""
    low: dict[int, int] = {}
    high: dict[int, int] = {}
    for p in parts:
        try:
            lo, hi = consumer.get_watermark_offsets(
                TopicPartition(topic, p), timeout=max(0.5, deadline - time.monotonic()), cached=False
            )
        except KafkaException as exc:
            raise SourceError(
                f"cannot read the offsets of '{topic}' [{p}] on {bootstrap}: {exc.args[0].str()}"
            ) from None
        low[p], high[p] = int(lo), int(hi)
    return low, high


def true_ends(
    topic: str,
    bootstrap: str,
    probe_conf: dict[str, Any],
    low: dict[int, int],
    high: dict[int, int],
    deadline: float,
) -> dict[int, int]:
    """End offsets from a fetch of each partition's last record.

    Tansu's ListOffsets answers the last *batch's* base offset + 1; the high
    watermark in a Fetch response is right on every broker, so fetch from
    one before the listed end and take the watermark the fetch brought.
    ``probe_conf`` configures the probe consumer (with partition EOF events).
    """
    ends = dict(high)
    todo = {p for p in high if high[p] > low[p]}
    if not todo:
        return ends
    probe = Consumer(probe_conf)
    try:
        probe.assign([TopicPartition(topic, p, high[p] - 1) for p in sorted(todo)])
        seen: set[int] = set()
        while seen != todo and time.monotonic() < deadline:
            for m in probe.consume(1000, 0.1):
                p, off, err = m.partition(), m.offset(), m.error()
                if err is not None and err.code() != KafkaError._PARTITION_EOF:
                    raise SourceError(f"cannot read '{topic}' [{p}] on {bootstrap}: {err.str()}")
                if p is not None and off is not None:
                    # a record's offset + 1, or the offset an EOF event reports
                    ends[p] = max(ends[p], off + 1 if err is None else off)
                    seen.add(p)
        for p in seen:
            hi = probe.get_watermark_offsets(TopicPartition(topic, p), cached=True)[1]
            ends[p] = max(ends[p], int(hi))
        if seen != todo:
            log.warning("end of %s partitions %s not confirmed by a fetch", topic, sorted(todo - seen))
    finally:
        probe.close()
    return ends


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


def share_bounds(active: set[int], end: dict[int, int], next_: dict[int, int], n: int) -> dict[int, int]:
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
