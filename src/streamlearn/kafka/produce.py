"""Copying a source into a topic: what ``streamlearn produce``, the demo, examples and benchmarks do.

:func:`produce_from_source` copies any open :class:`~streamlearn.sources.base.Source`
into a :class:`~streamlearn.kafka.producer.KafkaWriter`, optionally at a fixed
rate and keyed by a field; :func:`produce` does it all from a ``--source``
value.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from streamlearn.codecs.settle import Choices, settle
from streamlearn.kafka.producer import KafkaWriter
from streamlearn.records.batch import RawBatch
from streamlearn.sources.base import Source
from streamlearn.sources.pacing import Pacer
from streamlearn.sources.registry import SourceSpec, is_endless, parse_source

__all__ = ["Produced", "Writer", "produce", "produce_from_source"]


class Writer(Protocol):
    """Where :func:`produce_from_source` puts payloads: a Kafka topic, or a line server."""

    def write(self, payloads: list[bytes], keys: list[bytes | None] | None = None) -> Any: ...

    def flush(self) -> Any: ...


class _Keyer:
    """Keys from a decoded field of the source's records (its codec settled on the first batch)."""

    def __init__(self, field: str, source: Source) -> None:
        self.field = field
        self.source = source
        self.codec: Any = None

    def __call__(self, batch: RawBatch) -> list[bytes | None]:
        if self.codec is None:
            src = self.source
            choices = Choices(keep=(self.field,), needs_target=False)
            found = settle(
                src.format,
                batch.payloads,
                choices,
                src.schema,
                getattr(src, "layout", None),
                src.origin,
            )
            if found is None:
                return [None] * len(batch)
            self.codec = found.codec
        records, _dead = self.codec.decode(batch)
        values = records.column(self.field)
        where = {
            (int(p), int(o)): i
            for i, (p, o) in enumerate(zip(batch.partitions, batch.offsets, strict=True))
        }
        keys: list[bytes | None] = [None] * len(batch)  # dead letters keep no key
        for p, o, v in zip(
            records.partitions.tolist(), records.offsets.tolist(), values.tolist(), strict=True
        ):
            if isinstance(v, float) and v.is_integer():
                v = int(v)
            keys[where[(p, o)]] = str(v).encode()
        return keys


def produce_from_source(
    source: Source,
    writer: Writer,
    count: int | None = None,
    rate: float | None = None,
    key_field: str | None = None,
    progress: Callable[[int], None] | None = None,
    *,
    max_batch: int = 10_000,
    format: str | None = None,
) -> int:
    """Copy an open source's payloads into Kafka; returns how many were written.

    Parameters
    ----------
    source
        Any open :class:`Source` (a generator, a file, another topic).
    writer
        Where the payloads go (a :class:`KafkaWriter`, a line server); flushed before returning.
    count
        Stop after this many records; ``None`` reads until the source is
        exhausted (forever for an unbounded one).
    rate
        Records per second. Record ``i`` is sent no earlier than ``i / rate``
        seconds after the start, on the monotonic clock, so sleeps never add
        up to drift; after a stall it catches up.
    key_field
        Key each message by this field of the decoded record (in the source's
        ``format`` or the given ``format``); otherwise the source's own keys, if any.
    progress
        Called with the running total after every write.
    max_batch
        Most records read and written at a time.
    """
    pacer = Pacer(rate)
    keyer = _Keyer(key_field, source) if key_field else None
    # at high rates write ~500 times a second, not once per record
    tick = 1 if rate is None else max(1, int(rate / 500))
    sent = 0
    while (count is None or sent < count) and not source.exhausted:
        want = max_batch if count is None else min(max_batch, count - sent)
        want = pacer.allow(want, timeout_s=1.0, at_least=tick)
        if not want:
            continue
        batch = source.read(want, timeout_s=0.5)
        pacer.took(len(batch))
        if not len(batch):
            if source.exhausted:
                break
            continue
        keys = keyer(batch) if keyer is not None else batch.keys
        writer.write(batch.payloads, keys)
        sent += len(batch)
        if progress is not None:
            progress(sent)
    writer.flush()
    return sent


@dataclass(frozen=True)
class Produced:
    """What :func:`produce` wrote."""

    records: int
    seconds: float
    topic: str

    @property
    def records_per_s(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0


def produce(
    source: Source | SourceSpec | str,
    bootstrap: str,
    topic: str,
    count: int | None = None,
    rate: float | None = None,
    partitions: int = 1,
    key_field: str | None = None,
    format: str | None = None,
    seed: int | None = None,
) -> Produced:
    """Copy a source into ``topic`` (created with ``partitions`` if missing), then flush.

    Parameters
    ----------
    source
        A ``--source`` value (``"linear"``, ``"csv:rows.csv"``), a spec, or a source.
    count
        Records to write; a generator given by name makes exactly this many.
    format
        Write the records in this payload format instead of the source's own.
    seed
        The generator's seed, for a source given by name.
    """
    if isinstance(source, str):
        source = parse_source(source, seed=seed)
    if isinstance(source, SourceSpec):
        source = (replace(source, count=count) if is_endless(source.kind) else source).build()
    if format is not None and format != source.format:
        from streamlearn.sources.transcode import Transcoder

        source = Transcoder(source, format)
    started = time.perf_counter()
    with KafkaWriter(bootstrap, topic, partitions=partitions) as writer:
        source.open()
        try:
            n = produce_from_source(
                source, writer, count=count, rate=rate, key_field=key_field, format=source.format
            )
        finally:
            source.close()
    return Produced(n, time.perf_counter() - started, topic)
