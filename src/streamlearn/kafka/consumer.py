"""Read a Kafka topic with explicit offsets, fast, for the local engine.

Offsets live in our checkpoints, not in the broker: the source uses
``assign()`` with explicit start offsets (from ``open(snapshot=...)`` or
from ``start``), and commits to the consumer group only as a courtesy for lag
tools, asynchronously, ignoring failures.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import Any

import numpy as np

from streamlearn.errors import ConfigError, MissingExtraError, SourceError
from streamlearn.kafka.client import ClientErrors, consumer_config, fetch_metadata, topic_partitions
from streamlearn.kafka.courtesy import CourtesyCommits, ignore_commit
from streamlearn.kafka.health import CHECK_EVERY_S, BrokerWatch
from streamlearn.kafka.messages import consume_batch, peek_messages, split_runs
from streamlearn.kafka.offsets import (
    EndProbe,
    read_to_end,
    share_bounds,
    start_offsets,
    watermarks,
)
from streamlearn.records.batch import RawBatch
from streamlearn.sources.base import Progress, Source
from streamlearn.sources.registry import SourceSpec

try:
    from confluent_kafka import Consumer, KafkaException, TopicPartition
except ImportError as exc:  # pragma: no cover - depends on the install
    raise MissingExtraError("Kafka", "kafka") from exc

__all__ = ["KafkaSource", "from_spec"]

log = logging.getLogger(__name__)

#: ``Consumer.consume`` refuses more per call
_MAX_CONSUME = 1_000_000
_CHECK_EVERY_S = CHECK_EVERY_S
_LAG_EVERY_S = 1.0
#: with ``until_end``, give up waiting for a silent partition after this long
_STALL_S = 30.0


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
    format
        The codec the payloads are in unless the user says otherwise.
    config
        Extra librdkafka settings (security, tuning); they win over ours.
    timeout_s
        Bound on ``open()``: an unreachable broker fails within it.
    broker_timeout
        Seconds without an answer from the brokers, once reading, before the
        run stops with a :class:`SourceError` (``--broker-timeout``); a lost
        broker is never taken for a quiet topic.
    timestamps
        Batches carry the messages' timestamps (for joining a label topic).

    Examples
    --------
    >>> src = KafkaSource("dataLinearModel", bootstrap="127.0.0.1:9092", until_end=True)
    >>> src.open()  # doctest: +SKIP
    >>> batch = src.read(100_000)  # doctest: +SKIP
    """

    kind = "kafka"
    replay = "log"

    def __init__(
        self,
        topic: str,
        bootstrap: str = "127.0.0.1:9092",
        group_id: str | None = None,
        start: str = "earliest",
        until_end: bool = False,
        format: str = "literal",
        config: dict[str, Any] | None = None,
        timeout_s: float = 10.0,
        broker_timeout: float = 30.0,
        timestamps: bool = False,
    ) -> None:
        if start not in ("earliest", "latest"):
            raise ConfigError(f"start must be 'earliest' or 'latest', not {start!r}")
        self.topic = topic
        self.bootstrap = bootstrap
        self.group_id = group_id or f"streamlearn-{topic}"
        self.start = start
        self.until_end = until_end
        self.format = format
        self.origin = topic
        self.config = dict(config or {})
        self.timeout_s = timeout_s
        if not broker_timeout > 0:
            raise ConfigError(f"--broker-timeout must be positive, not {broker_timeout}")
        self.broker_timeout = float(broker_timeout)
        self.timestamps = timestamps
        self._watch: BrokerWatch | None = None
        self._consumer: Any = None
        self._errors = ClientErrors()
        self._start: dict[int, int] = {}
        self._next: dict[int, int] = {}
        self._end: dict[int, int] = {}  # stop offsets when until_end
        self._high: dict[int, int] = {}  # last known high watermarks
        self._active: set[int] = set()
        self._single: int | None = None
        self._seen: dict[int, int] = {}  # next offset after the last consumed message
        self._buf: dict[int, list[RawBatch]] = {}  # consumed, not yet returned (until_end)
        self._consumed = 0
        self._courtesy: CourtesyCommits | None = None
        self._last_lag = 0.0

    # -- opening ------------------------------------------------------------
    def _conf(self) -> dict[str, Any]:
        extra = {"on_commit": ignore_commit, **self.config}
        return consumer_config(self.bootstrap, self._errors, self.group_id, extra)

    def open(self, snapshot: dict[str, Any] | None = None) -> None:
        """Check the topic, fix start and end offsets and assign the partitions."""
        self.close()
        deadline = time.monotonic() + self.timeout_s
        self._errors = ClientErrors()
        consumer = Consumer(self._conf())
        try:
            md = fetch_metadata(consumer, self.bootstrap, self._errors, self.timeout_s)
            parts = topic_partitions(md, self.topic, self.bootstrap)
            low, high = watermarks(consumer, self.topic, self.bootstrap, parts, deadline)
            if self.until_end or (self.start == "latest" and snapshot is None):
                probe = EndProbe(self.topic, self.bootstrap, self._conf())
                try:
                    high = probe.ends(low, high, deadline)
                finally:
                    probe.close()
            self._high = dict(high)
            self._start = start_offsets(self.topic, self.start, parts, low, high, snapshot)
            self._next = dict(self._start)
            self._end = dict(high) if self.until_end else {}
            self._active = {p for p in parts if not self.until_end or self._next[p] < self._end[p]}
            self._single = parts[0] if len(parts) == 1 else None
            self._seen, self._buf = dict(self._next), {}
            assignment = [
                TopicPartition(self.topic, p, self._next[p]) for p in sorted(self._active)
            ]
            if assignment:
                consumer.assign(assignment)
        except BaseException:
            consumer.close()
            raise
        self._consumer = consumer
        # records buffered by librdkafka keep coming after a broker dies, and
        # librdkafka retries forever: the watch asks the brokers directly
        # a client of its own: closing the source never waits for a question in flight
        asker = Consumer(self._conf())
        self._watch = BrokerWatch(
            lambda t: asker.list_topics(self.topic, timeout=t),
            self.bootstrap,
            self.broker_timeout,
            reason=lambda: self._errors.last,
            release=asker.close,
        ).start()
        self._consumed = 0
        self._courtesy = CourtesyCommits(consumer, self.topic, self._start, self._watch)
        self._last_lag = time.monotonic()

    # -- reading ------------------------------------------------------------
    def read(self, max_records: int, timeout_s: float = 1.0) -> RawBatch:
        """Up to ``max_records`` records, in offset order within each partition.

        With ``until_end`` a batch is the next ``max_records`` offsets shared
        evenly by the unfinished partitions, partition after partition: it
        depends on the position only, never on fetch timing, so a resumed run
        reads the very same batches. Otherwise it holds what arrived in time.
        """
        if self._consumer is None:
            raise SourceError(f"Kafka source '{self.topic}' is not open")
        if not self._active:
            return RawBatch.empty(self.topic)
        n = min(max_records, _MAX_CONSUME)
        if self.until_end:
            batch = self._read_bounded(n, timeout_s)
        else:
            batch = self._consume(n, timeout_s) or RawBatch.empty(self.topic)
            for p, chunk in split_runs(batch, self._single):
                self._next[p] = int(chunk.offsets[-1]) + 1
        self._check_broker()
        self._consumed += len(batch)
        self._maybe_commit()
        return batch

    def _consume(self, n: int, timeout_s: float) -> RawBatch | None:
        """Up to ``n`` messages as a batch, or None when none came in time."""
        return consume_batch(
            self._consumer, n, timeout_s, self.topic, self.bootstrap, self._single, self.timestamps
        )

    def _check_broker(self) -> bool:
        """Whether the brokers answered the watch's last question.

        Raises
        ------
        SourceError
            When they have not answered for ``broker_timeout`` seconds.
        """
        if self._watch is None:
            return True
        self._watch.check()
        return self._watch.up

    @property
    def open_partitions(self) -> set[int]:
        """Partitions with records still to read (all unless ``until_end``)."""
        return set(self._active)

    def caught_up(self, timeout_s: float = 5.0) -> bool:
        """Whether every message written so far has been read (asks the brokers now)."""
        if self._consumer is None:
            return False
        if self.until_end:
            return not self._active
        return read_to_end(self._consumer, self.topic, self.bootstrap, self._next, timeout_s)

    def reachable(self) -> bool:
        """Whether the brokers answer now (an idle topic and a lost broker are not the same)."""
        if self._watch is None or self._consumer is None:
            return False
        self._watch.check()
        return self._watch.poll_once()  # now, not a second ago: the idle time is up

    def _read_bounded(self, n: int, timeout_s: float) -> RawBatch:
        bounds = share_bounds(self._active, self._end, self._next, n)
        t0 = last = time.monotonic()
        got = False
        while need := sum(b - self._seen[p] for p, b in bounds.items() if self._seen[p] < b):
            wait = 1.0 if got else max(0.01, min(1.0, timeout_s - (time.monotonic() - t0)))
            batch = self._consume(need, wait)
            now = time.monotonic()
            if batch is None:
                self._skip_gaps(bounds)
                # a lost broker stops the run after broker_timeout, never cuts a batch short
                reachable = self._check_broker()
                if not got and now - t0 >= timeout_s:
                    return RawBatch.empty(self.topic)  # what came stays buffered
                if got and reachable and now - last > _STALL_S:
                    log.warning("%s: partitions stalled; returning a partial batch", self.topic)
                    break
                continue
            got, last = True, now
            for p, part in split_runs(batch, self._single):
                self._buf.setdefault(p, []).append(part)
                self._seen[p] = int(part.offsets[-1]) + 1
        pieces = []
        for p, bound in sorted(bounds.items()):
            chunk = self._cut(p, bound)
            if chunk is not None:
                pieces.append(chunk)
            # everything consumed below the bound is returned (a stalled
            # partition may not have reached it)
            self._next[p] = min(bound, self._seen[p])
        self._finish([p for p in self._active if self._next[p] >= self._end[p]])
        return RawBatch.concat(pieces) if pieces else RawBatch.empty(self.topic)

    def _cut(self, p: int, bound: int) -> RawBatch | None:
        """Buffered records of ``p`` below ``bound``; the rest stays buffered."""
        chunks = self._buf.pop(p, [])
        if not chunks:
            return None
        chunk = RawBatch.concat(chunks)
        cut = int(np.searchsorted(chunk.offsets, bound))
        if cut < len(chunk):  # beyond this batch: kept for the next one
            self._buf[p] = [chunk.slice(cut, len(chunk))]
            chunk = chunk.slice(0, cut)
        return chunk if len(chunk) else None

    def _finish(self, done: list[int]) -> None:
        if not done:
            return
        self._active.difference_update(done)
        for p in done:
            self._buf.pop(p, None)  # anything past the end is never returned
        with contextlib.suppress(KafkaException):
            self._consumer.pause([TopicPartition(self.topic, p) for p in done])

    def _skip_gaps(self, bounds: dict[int, int]) -> None:
        """Offsets that hold no message (transaction markers, compaction) count as seen."""
        waiting = [TopicPartition(self.topic, p) for p, b in bounds.items() if self._seen[p] < b]
        with contextlib.suppress(KafkaException):
            for tp in self._consumer.position(waiting):
                self._seen[tp.partition] = max(self._seen[tp.partition], tp.offset)

    def _maybe_commit(self, force: bool = False) -> None:
        if self._courtesy is not None:
            self._courtesy.maybe(self._next, force)

    # -- state --------------------------------------------------------------
    @property
    def exhausted(self) -> bool:
        return self.until_end and self._consumer is not None and not self._active

    def snapshot(self) -> dict[str, Any]:
        return {"topic": self.topic, "offsets": {str(p): o for p, o in sorted(self._next.items())}}

    def peek(self, n: int, timeout_s: float = 5.0) -> list[bytes]:
        """Up to ``n`` messages from the start offsets, shared among the partitions, read apart.

        A consumer of its own reads them, so the source's position does not
        move; it stops at the known ends and waits at most ``timeout_s``.
        """
        if self._consumer is None:
            raise SourceError(f"Kafka source '{self.topic}' is not open")
        ends = self._end if self.until_end else self._high
        return peek_messages(self._conf(), self.topic, self._start, ends, n, timeout_s)

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
                hi = self._consumer.get_watermark_offsets(
                    TopicPartition(self.topic, p), cached=True
                )[1]
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
        watch, self._watch = self._watch, None
        answered = True
        try:
            if watch is not None:
                watch.stop()
                answered = watch.answered_within(_CHECK_EVERY_S + 2.5)
            if answered:  # a commit to a lost broker would hold close()
                self._maybe_commit(force=True)
        finally:
            consumer, self._consumer = self._consumer, None
            # librdkafka may wait on requests to a broker lost just now (a commit
            # holds close() ~45 s, measured): never hold the exit for them
            closer = threading.Thread(target=consumer.close, daemon=True)
            closer.start()
            closer.join(timeout=5.0 if answered else 1.0)


def from_spec(spec: SourceSpec) -> KafkaSource:
    """The ``kafka:TOPIC`` source; the payload format is detected from the topic."""
    return KafkaSource(
        spec.target,
        bootstrap=spec.bootstrap,
        group_id=spec.group,
        start=spec.start,
        until_end=spec.until_end,
        format="auto",
        broker_timeout=spec.broker_timeout,
    )
