"""Read a Kafka topic with explicit offsets, fast, for the local engine.

Offsets live in our checkpoints, not in the broker: the source uses
``assign()`` with explicit start offsets (from ``open(resume=position)`` or
from ``start``), and commits to the consumer group only as a courtesy for lag
tools, asynchronously, ignoring failures.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import time
from typing import Any

import numpy as np

from streamlearn.broker import ClientErrors, client_config, fetch_metadata, topic_partitions
from streamlearn.errors import ConfigError, MissingExtraError, SourceError
from streamlearn.records.batch import RawBatch
from streamlearn.sources.base import Progress, Source

try:
    from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition
except ImportError as exc:  # pragma: no cover - depends on the install
    raise MissingExtraError("Kafka", "kafka") from exc

__all__ = ["CONSUMER_TUNING", "KafkaSource"]

log = logging.getLogger(__name__)

#: ``Consumer.consume`` refuses more per call
_MAX_CONSUME = 1_000_000
_COMMIT_EVERY_S = 5.0
_LAG_EVERY_S = 1.0
# unbound C methods: ``map(_VALUE, msgs)`` costs no Python bytecode per message
_VALUE = Message.value
_OFFSET = Message.offset
_PARTITION = Message.partition
_KEY = Message.key
_ERROR = Message.error

#: consumer settings measured on the embedded broker (benchmarks/kafka_io.py)
CONSUMER_TUNING: dict[str, Any] = {
    # librdkafka waits this long to fetch again once its queue is full (default
    # 1000 ms): with a fast broker that stalls the stream for a second at a time
    "fetch.queue.backoff.ms": 10,
    "queued.max.messages.kbytes": 131072,
    "max.partition.fetch.bytes": 4 * 1024 * 1024,
}


class KafkaSource(Source):
    """A Kafka topic, read partition by partition in offset order.

    Parameters
    ----------
    topic
        The topic to read; it must exist.
    bootstrap
        ``HOST:PORT[,HOST:PORT...]`` of the brokers.
    group_id
        Consumer group used only for courtesy commits; default
        ``streamlearn-<topic>``.
    start
        ``"earliest"`` or ``"latest"``: where to begin without a resume position.
    until_end
        Stop at the end offsets seen at ``open()``: later messages are never
        returned and ``exhausted`` turns True once every partition got there.
    default_format
        The codec the payloads are in unless the user says otherwise.
    config
        Extra librdkafka settings (security, tuning); they win over ours.
    timeout_s
        Bound on ``open()``: an unreachable broker fails within it.

    Examples
    --------
    >>> src = KafkaSource("dataLinearModel", bootstrap="127.0.0.1:9092", until_end=True)
    >>> src.open()  # doctest: +SKIP
    >>> batch = src.read(100_000)  # doctest: +SKIP
    """

    kind = "kafka"
    position_kind = "offset"

    def __init__(
        self,
        topic: str,
        bootstrap: str = "127.0.0.1:9092",
        group_id: str | None = None,
        start: str = "earliest",
        until_end: bool = False,
        default_format: str = "literal",
        config: dict[str, Any] | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        if start not in ("earliest", "latest"):
            raise ConfigError(f"start must be 'earliest' or 'latest', not {start!r}")
        self.topic = topic
        self.bootstrap = bootstrap
        self.group_id = group_id or f"streamlearn-{topic}"
        self.start = start
        self.until_end = until_end
        self.default_format = default_format
        self.config = dict(config or {})
        self.timeout_s = timeout_s
        self._consumer: Any = None
        self._errors = ClientErrors()
        self._start: dict[int, int] = {}
        self._next: dict[int, int] = {}
        self._end: dict[int, int] = {}  # stop offsets when until_end
        self._high: dict[int, int] = {}  # last known high watermarks
        self._active: set[int] = set()
        self._single: int | None = None
        self._end_lookup = np.zeros(0, dtype=np.int64)
        self._consumed = 0
        self._committed: dict[int, int] = {}
        self._last_commit = 0.0
        self._last_lag = 0.0

    # -- opening ------------------------------------------------------------
    def _conf(self, **over: Any) -> dict[str, Any]:
        # offsets are ours: no auto commit or store; never create a topic by asking for it
        return {
            **client_config(self.bootstrap, self._errors),
            "group.id": self.group_id, "enable.auto.commit": False, "enable.auto.offset.store": False,
            "enable.partition.eof": False, "allow.auto.create.topics": False,
            "auto.offset.reset": "earliest", "on_commit": _ignore_commit,
            **CONSUMER_TUNING, **self.config, **over,
        }

    def open(self, resume: dict[str, Any] | None = None) -> None:
        """Check the topic, fix start and end offsets and assign the partitions."""
        self.close()
        deadline = time.monotonic() + self.timeout_s
        self._errors = ClientErrors()
        consumer = Consumer(self._conf())
        try:
            md = fetch_metadata(consumer, self.bootstrap, self._errors, self.timeout_s)
            parts = topic_partitions(md, self.topic, self.bootstrap)
            low, high = self._watermarks(consumer, parts, deadline)
            if self.until_end or (self.start == "latest" and resume is None):
                high = self._true_ends(low, high, deadline)
            self._high = dict(high)
            self._start = self._start_offsets(parts, low, high, resume)
            self._next = dict(self._start)
            self._end = dict(high) if self.until_end else {}
            self._active = {p for p in parts if not self.until_end or self._next[p] < self._end[p]}
            self._single = parts[0] if len(parts) == 1 else None
            lookup = np.full(max(parts) + 1, np.iinfo(np.int64).max, dtype=np.int64)
            for p, e in self._end.items():
                lookup[p] = e
            self._end_lookup = lookup
            assignment = [TopicPartition(self.topic, p, self._next[p]) for p in sorted(self._active)]
            if assignment:
                consumer.assign(assignment)
        except BaseException:
            consumer.close()
            raise
        self._consumer = consumer
        self._consumed = 0
        self._committed = dict(self._start)
        self._last_commit = self._last_lag = time.monotonic()

    def _watermarks(
        self, consumer: Any, parts: list[int], deadline: float
    ) -> tuple[dict[int, int], dict[int, int]]:
        low: dict[int, int] = {}
        high: dict[int, int] = {}
        for p in parts:
            try:
                lo, hi = consumer.get_watermark_offsets(
                    TopicPartition(self.topic, p), timeout=max(0.5, deadline - time.monotonic()), cached=False
                )
            except KafkaException as exc:
                raise SourceError(
                    f"cannot read the offsets of '{self.topic}' [{p}] on {self.bootstrap}: {exc.args[0].str()}"
                ) from None
            low[p], high[p] = int(lo), int(hi)
        return low, high

    def _true_ends(self, low: dict[int, int], high: dict[int, int], deadline: float) -> dict[int, int]:
        """End offsets from a fetch of each partition's last record.

        Tansu's ListOffsets answers the last *batch's* base offset + 1; the high
        watermark in a Fetch response is right on every broker, so fetch from
        one before the listed end and take the watermark the fetch brought.
        """
        ends = dict(high)
        todo = {p for p in high if high[p] > low[p]}
        if not todo:
            return ends
        probe = Consumer(self._conf(**{"enable.partition.eof": True}))
        try:
            probe.assign([TopicPartition(self.topic, p, high[p] - 1) for p in sorted(todo)])
            seen: set[int] = set()
            while seen != todo and time.monotonic() < deadline:
                for m in probe.consume(1000, 0.1):
                    p, off, err = m.partition(), m.offset(), m.error()
                    if err is not None and err.code() != KafkaError._PARTITION_EOF:
                        raise SourceError(f"cannot read '{self.topic}' [{p}] on {self.bootstrap}: {err.str()}")
                    if p is not None and off is not None:
                        # a record's offset + 1, or the offset an EOF event reports
                        ends[p] = max(ends[p], off + 1 if err is None else off)
                        seen.add(p)
            for p in seen:
                hi = probe.get_watermark_offsets(TopicPartition(self.topic, p), cached=True)[1]
                ends[p] = max(ends[p], int(hi))
            if seen != todo:
                log.warning("end of %s partitions %s not confirmed by a fetch", self.topic, sorted(todo - seen))
        finally:
            probe.close()
        return ends

    def _start_offsets(
        self,
        parts: list[int],
        low: dict[int, int],
        high: dict[int, int],
        resume: dict[str, Any] | None,
    ) -> dict[int, int]:
        if resume is None:
            return {p: (low[p] if self.start == "earliest" else high[p]) for p in parts}
        if resume.get("topic", self.topic) != self.topic:
            raise ConfigError(f"the checkpoint is for topic {resume.get('topic')!r}, not {self.topic!r}")
        saved = {int(p): int(o) for p, o in dict(resume.get("offsets", {})).items()}
        out: dict[int, int] = {}
        for p in parts:
            # a partition added since the checkpoint starts at its beginning
            off = saved.get(p, low[p])
            if off < low[p]:
                log.warning("%s [%d]: offsets %d..%d were deleted by retention", self.topic, p, off, low[p])
                off = low[p]
            out[p] = off
        return out

    # -- reading ------------------------------------------------------------
    def read(self, max_records: int, timeout_s: float = 1.0) -> RawBatch:
        if self._consumer is None:
            raise SourceError(f"Kafka source '{self.topic}' is not open")
        n = min(max_records, _MAX_CONSUME)
        if self.until_end:
            n = min(n, sum(self._end[p] - self._next[p] for p in self._active))
        if n <= 0 or not self._active:
            return RawBatch.empty(self.topic)
        # consume() allocates one GC-tracked Message per record; collections
        # triggered by them would cost more than the whole read, so the
        # collector rests until the messages are freed again
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            fields = self._consume(n, timeout_s)
        finally:
            if was_enabled:
                gc.enable()
        if fields is None:
            self._check_positions()
            self._maybe_commit()
            return RawBatch.empty(self.topic)
        payloads, offsets, partitions, keys = fields
        if self.until_end:
            keep = offsets < self._end_lookup[partitions]
            if not keep.all():
                idx = np.flatnonzero(keep)
                payloads = [payloads[i] for i in idx]
                keys = None if keys is None else [keys[i] for i in idx]
                offsets, partitions = offsets[idx], partitions[idx]
        if len(offsets):
            self._advance(partitions, offsets)
        self._consumed += len(offsets)
        self._maybe_commit()
        return RawBatch(self.topic, payloads, partitions, offsets, keys)

    def _consume(
        self, n: int, timeout_s: float
    ) -> tuple[list[bytes], np.ndarray, np.ndarray, list[bytes | None] | None] | None:
        """Payloads, offsets, partitions and keys of up to ``n`` messages."""
        try:
            msgs = self._consumer.consume(n, timeout_s)
        except KafkaException as exc:
            raise SourceError(f"reading '{self.topic}' on {self.bootstrap}: {exc.args[0].str()}") from None
        if msgs and any(map(_ERROR, msgs)):
            msgs = self._without_eof(msgs)
        if not msgs:
            return None
        count = len(msgs)
        payloads: list[Any] = list(map(_VALUE, msgs))
        if payloads.count(None):  # tombstones: an empty payload, dead-lettered downstream
            payloads = [b"" if v is None else v for v in payloads]
        offsets = np.fromiter(map(_OFFSET, msgs), dtype=np.int64, count=count)
        if self._single is not None:
            partitions = np.full(count, self._single, dtype=np.int32)
        else:
            partitions = np.fromiter(map(_PARTITION, msgs), dtype=np.int32, count=count)
        keys: list[bytes | None] | None = list(map(_KEY, msgs))
        if keys is not None and keys.count(None) == count:
            keys = None
        return payloads, offsets, partitions, keys

    def _without_eof(self, msgs: list[Any]) -> list[Any]:
        out = []
        for m in msgs:
            err = m.error()
            if err is None:
                out.append(m)
            elif err.code() != KafkaError._PARTITION_EOF:
                where = f"'{m.topic()}' [{m.partition()}]" if m.topic() else f"'{self.topic}'"
                raise SourceError(f"reading {where} on {self.bootstrap}: {err.str()}")
        return out

    def _advance(self, partitions: np.ndarray, offsets: np.ndarray) -> None:
        """Next offsets after the batch: one past each partition's last record."""
        if self._single is not None:
            self._next[self._single] = int(offsets[-1]) + 1
        else:
            # offsets rise within a partition: its last occurrence is its maximum
            rev_parts = partitions[::-1]
            uniq, first = np.unique(rev_parts, return_index=True)
            for p, off in zip(uniq.tolist(), offsets[::-1][first].tolist(), strict=True):
                self._next[p] = off + 1
        if self.until_end:
            self._finish([p for p in self._active if self._next[p] >= self._end[p]])

    def _finish(self, done: list[int]) -> None:
        if not done:
            return
        self._active.difference_update(done)
        for p in done:
            self._next[p] = max(self._next[p], self._end[p])
        with contextlib.suppress(KafkaException):  # batches are truncated anyway
            self._consumer.pause([TopicPartition(self.topic, p) for p in done])

    def _check_positions(self) -> None:
        """Skip over offsets that hold no message (transaction markers, compaction)."""
        if not self.until_end or not self._active:
            return
        try:
            pos = self._consumer.position([TopicPartition(self.topic, p) for p in self._active])
        except KafkaException:
            return
        self._finish([tp.partition for tp in pos if tp.offset >= self._end[tp.partition]])

    def _maybe_commit(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_commit < _COMMIT_EVERY_S:
            return
        self._last_commit = now
        changed = [TopicPartition(self.topic, p, o) for p, o in self._next.items() if self._committed.get(p) != o]
        if not changed:
            return
        try:
            self._consumer.commit(offsets=changed, asynchronous=True)
            self._committed.update((tp.partition, tp.offset) for tp in changed)
        except (KafkaException, RuntimeError) as exc:  # a courtesy only
            log.debug("courtesy commit failed: %s", exc)

    # -- state --------------------------------------------------------------
    @property
    def exhausted(self) -> bool:
        return self.until_end and self._consumer is not None and not self._active

    def position(self) -> dict[str, Any]:
        return {"topic": self.topic, "offsets": {str(p): o for p, o in sorted(self._next.items())}}

    def progress(self) -> Progress:
        if self.until_end:
            total = sum(self._end[p] - self._start[p] for p in self._end)
            lag = sum(self._end[p] - self._next[p] for p in self._end)
            return Progress(self._consumed, total=total, lag=lag)
        now = time.monotonic()
        if self._consumer is not None and now - self._last_lag >= _LAG_EVERY_S:
            self._last_lag = now
            for p in self._next:
                # cached: the watermark the last fetch brought, no broker round trip
                hi = self._consumer.get_watermark_offsets(TopicPartition(self.topic, p), cached=True)[1]
                if hi >= 0:
                    self._high[p] = max(self._high.get(p, 0), int(hi))
        lag = sum(max(0, self._high.get(p, o) - o) for p, o in self._next.items())
        return Progress(self._consumed, total=None, lag=lag)

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "topic": self.topic,
            "bootstrap": self.bootstrap,
            "group_id": self.group_id,
            "start_offsets": {str(p): o for p, o in sorted(self._start.items())},
            "end_offsets": {str(p): o for p, o in sorted(self._next.items())},
        }

    def close(self) -> None:
        if self._consumer is None:
            return
        try:
            self._maybe_commit(force=True)
        finally:
            consumer, self._consumer = self._consumer, None
            consumer.close()


def _ignore_commit(err: KafkaError | None, partitions: list[Any]) -> None:
    # brokers without group support refuse commits; correctness never needs them
    if err is not None:
        log.debug("courtesy commit refused: %s", err)
