"""Offsets of a micro-batch, for each kind of source the Spark data source reads.

Spark keeps these offsets (plain JSON dicts) in its checkpoint and hands
them back after a restart. Every offset holds ``n``, the records admitted
since the query's first offset, so a run capped by ``--until count:N`` ends at
exactly N. Planners run in Spark's Python planner process (and on the driver
to peek at the first records); :mod:`~streamlearn.engines.spark.partitions`
reads what they plan, on the executors.
"""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from streamlearn.engines.spark.partitions import (
    IndexRange,
    Payloads,
    SourceRef,
    as_payloads,
    fresh_source,
    unpaced,
)
from streamlearn.errors import SourceError
from streamlearn.records.batch import RawBatch
from streamlearn.sources.base import Source
from streamlearn.sources.pacing import Pacer

__all__ = [
    "GenericPlanner",
    "IndexPlanner",
    "KafkaPlanner",
    "Planner",
    "ReaderConfig",
    "make_planner",
    "split_lag",
]

#: the smallest range worth a Spark task of its own
MIN_CHUNK = 20_000
#: seconds a bounded generic source is polled for records it has not delivered yet
POLL_S = 0.2


@dataclass(frozen=True)
class ReaderConfig:
    """What the data source reads, as the engine configured it.

    ``max_rows`` is the admission limit per micro-batch (the pipeline's batch
    size); ``cap`` the records in all (``--until count:N``), or ``None``. With
    ``driver_reads`` a micro-batch is one row describing what to read, which
    the driver reads itself (see :func:`~.partitions.read_on_driver`); with
    ``described`` too (a directory), the planner also leaves that description
    there, named by the batch (offsets then count batches in ``seq``), and
    the driver reads it without running a Spark job.
    """

    source: SourceRef
    max_rows: int
    cap: int | None = None
    parallelism: int = 2
    driver_reads: bool = False
    described: str | None = None


class Planner(ABC):
    """Plans micro-batches of one source: offsets in, offsets and partitions out."""

    def __init__(self, config: ReaderConfig) -> None:
        self.config = config
        self.available_now = False

    @abstractmethod
    def initial(self) -> dict[str, Any]:
        """The offset before the first record."""

    @abstractmethod
    def latest(self, start: dict[str, Any], max_rows: int | None) -> dict[str, Any]:
        """The end of the next micro-batch from ``start``; ``start`` itself if nothing is new."""

    @abstractmethod
    def partitions(self, start: dict[str, Any], end: dict[str, Any]) -> list[Any]:
        """Picklable descriptions of what to read between two offsets."""

    def prepare_available_now(self) -> None:
        """Fix the end of the stream as of now (Trigger.AvailableNow)."""
        self.available_now = True

    def stop(self) -> None:  # noqa: B027
        """Release connections."""

    def _room(self, start: dict[str, Any], max_rows: int | None) -> int:
        """How many records the next batch may admit, by limit and cap."""
        room = math.inf if max_rows is None else max_rows
        if self.config.cap is not None:
            room = min(room, self.config.cap - int(start["n"]))
        return max(0, int(room)) if room != math.inf else -1


def _chunks(a: int, b: int, parallelism: int) -> list[tuple[int, int]]:
    """Split ``[a, b)`` into at most ``parallelism`` ranges of at least MIN_CHUNK."""
    k = max(1, min(parallelism, (b - a) // MIN_CHUNK))
    bounds = [a + (b - a) * i // k for i in range(k + 1)]
    return [(bounds[i], bounds[i + 1]) for i in range(k) if bounds[i + 1] > bounds[i]]


class IndexPlanner(Planner):
    """Sources whose records are numbered 0, 1, 2...: the generators and memory."""

    def __init__(self, config: ReaderConfig, total: int | None, rate: float | None) -> None:
        super().__init__(config)
        self.total = total
        self.pacer = Pacer(rate) if rate is not None else None
        self._first: int | None = None  # the index the pacing clock started at

    def initial(self) -> dict[str, Any]:
        return {"n": 0, "next": 0}

    def _available(self, start: int) -> float:
        end: float = math.inf if self.total is None else self.total
        if self.pacer is not None:
            if self._first is None:
                self._first = start
                self.pacer.start()
            end = min(end, self._first + self.pacer.due())
        return end

    def latest(self, start: dict[str, Any], max_rows: int | None) -> dict[str, Any]:
        at = int(start["next"])
        room = self._room(start, max_rows)
        end = self._available(at)
        if room >= 0:
            end = min(end, at + room)
        if end == math.inf:
            raise RuntimeError("an endless source needs a read limit")
        k = max(0, int(end) - at)
        return {"n": int(start["n"]) + k, "next": at + k}

    def partitions(self, start: dict[str, Any], end: dict[str, Any]) -> list[Any]:
        a, b = int(start["next"]), int(end["next"])
        source = unpaced(self.config.source)
        return [IndexRange(source, lo, hi) for lo, hi in _chunks(a, b, self.config.parallelism)]


class GenericPlanner(Planner):
    """Any other source (files): read in the planner, payloads shipped with the partition.

    Offsets hold the source's own ``position()``; after a restart the batch
    is read again from its start position, for exactly its number of records.
    """

    def __init__(self, config: ReaderConfig) -> None:
        super().__init__(config)
        self._source: Any = None
        self._at: Any = None  # position of the open source
        self._cache: dict[str, tuple[dict[str, Any], RawBatch]] = {}

    def _open(self, pos: Any) -> Any:
        if self._source is None or self._at != pos:
            if self._source is not None:
                self._source.close()
            self._source = fresh_source(self.config.source)
            self._source.open(snapshot=pos)
            self._at = self._source.snapshot()
        return self._source

    def initial(self) -> dict[str, Any]:
        return {"n": 0, "pos": self._open(None).snapshot()}

    def _read(self, start: dict[str, Any], want: int) -> RawBatch:
        source = self._open(start["pos"])
        parts: list[RawBatch] = []
        got = 0
        while (want < 0 or got < want) and not source.exhausted:
            # AvailableNow ends at the first empty answer: a bounded source is
            # polled until it is exhausted, as the local engine's bounded runs do
            raw = source.read(
                65_536 if want < 0 else want - got, POLL_S if self.available_now else 0.0
            )
            if not len(raw):
                if self.available_now:
                    continue
                break
            parts.append(raw)
            got += len(raw)
        self._at = source.snapshot()
        if not parts:
            return RawBatch.empty(source.origin, source.position_kind)
        return RawBatch.concat(parts)

    def latest(self, start: dict[str, Any], max_rows: int | None) -> dict[str, Any]:
        key = repr(sorted(start.items()))
        if key in self._cache:
            return self._cache[key][0]
        room = self._room(start, max_rows)
        if room == 0:
            return start
        raw = self._read(start, room)
        if not len(raw):
            return start
        end = {"n": int(start["n"]) + len(raw), "pos": self._at}
        self._cache = {key: (end, raw)}  # one batch ahead is all Spark ever asks for
        return end

    def partitions(self, start: dict[str, Any], end: dict[str, Any]) -> list[Any]:
        want = int(end["n"]) - int(start["n"])
        if want <= 0:
            return []
        cached = self._cache.get(repr(sorted(start.items())))
        raw = cached[1] if cached is not None and cached[0] == end else self._read(start, want)
        return [Payloads(as_payloads(raw))]

    def stop(self) -> None:
        if self._source is not None:
            self._source.close()


def split_lag(lags: dict[str, int], room: int) -> dict[str, int]:
    """Share ``room`` records among partitions in proportion to their lag.

    Deterministic: floors first, then the remainder one by one in partition order.

    Examples
    --------
    >>> split_lag({"0": 10, "1": 30}, 8)
    {'0': 2, '1': 6}
    """
    total = sum(lags.values())
    if room < 0 or total <= room:
        return dict(lags)
    share = {p: lag * room // total for p, lag in lags.items()}
    left = room - sum(share.values())
    for p in sorted(lags, key=int):
        if left <= 0:
            break
        if share[p] < lags[p]:
            share[p] += 1
            left -= 1
    return share


class KafkaPlanner(Planner):
    """A Kafka topic: offsets per partition, read by the executors through confluent-kafka."""

    def __init__(
        self,
        config: ReaderConfig,
        bootstrap: str,
        topic: str,
        start: str,
        broker_timeout: float = 30.0,
    ) -> None:
        super().__init__(config)
        self.bootstrap, self.topic, self.start = bootstrap, topic, start
        self.broker_timeout = broker_timeout
        self._down_since: float | None = None  # when the brokers stopped answering
        self._client: Any = None
        self._target: dict[str, tuple[int, int]] | None = None

    @property
    def client(self) -> Any:
        if self._client is None:
            from streamlearn.kafka.ranges import TopicOffsets

            self._client = TopicOffsets(self.bootstrap, self.topic, self.broker_timeout)
        return self._client

    def initial(self) -> dict[str, Any]:
        marks = self.client.watermarks()
        pick = 1 if self.start == "latest" else 0
        return {"n": 0, "kafka": {p: m[pick] for p, m in marks.items()}}

    def prepare_available_now(self) -> None:
        super().prepare_available_now()
        self._target = self.client.watermarks()

    def _highs(self) -> dict[str, tuple[int, int]] | None:
        """End offsets; None while the brokers have been silent for less than ``broker_timeout``."""
        # under AvailableNow the end is fixed: no need to ask the broker again
        if self._target is not None:
            return self._target
        try:
            marks: dict[str, tuple[int, int]] = self.client.watermarks()
        except SourceError as exc:
            now = time.monotonic()
            self._down_since = self._down_since or now
            if now - self._down_since >= self.broker_timeout:
                from streamlearn.kafka.health import lost_broker

                reason = self.client.last_error or str(exc)
                raise lost_broker(self.bootstrap, reason, self.broker_timeout) from None
            return None  # a blip: no new batch until the brokers answer again
        self._down_since = None
        return marks

    def latest(self, start: dict[str, Any], max_rows: int | None) -> dict[str, Any]:
        marks = self._highs()
        if marks is None:
            return start
        offsets = {p: int(o) for p, o in start["kafka"].items()}
        for p, (lo, _) in marks.items():
            offsets.setdefault(p, lo)  # a partition added since: from its beginning
        lags = {p: max(0, marks[p][1] - offsets[p]) if p in marks else 0 for p in offsets}
        share = split_lag(lags, self._room(start, max_rows))
        if not sum(share.values()):
            return start
        end = {p: offsets[p] + share.get(p, 0) for p in offsets}
        return {"n": int(start["n"]) + sum(share.values()), "kafka": end}

    def partitions(self, start: dict[str, Any], end: dict[str, Any]) -> list[Any]:
        from streamlearn.kafka.ranges import KafkaRange

        starts = start["kafka"]
        out: list[Any] = []
        for p in sorted(end["kafka"], key=int):
            a = int(starts.get(p, end["kafka"][p]))
            b = int(end["kafka"][p])
            for lo, hi in _chunks(a, b, self.config.parallelism):
                out.append(
                    KafkaRange(self.bootstrap, self.topic, int(p), lo, hi, self.broker_timeout)
                )
        return out

    def stop(self) -> None:
        if self._client is not None:
            self._client.close()


def make_planner(config: ReaderConfig, source: Source | None = None) -> Planner:
    """The planner for the source's way of being read again (:data:`~streamlearn.sources.base.Replay`).

    ``source`` is the built source, when the caller has one already.
    """
    src = source if source is not None else fresh_source(config.source)
    if src.replay == "log":
        return KafkaPlanner(
            config,
            src.bootstrap,  # type: ignore[attr-defined]
            src.topic,  # type: ignore[attr-defined]
            src.start,  # type: ignore[attr-defined]
            src.broker_timeout,  # type: ignore[attr-defined]
        )
    if src.replay == "index":
        return IndexPlanner(config, src.count, src.rate)
    return GenericPlanner(config)
