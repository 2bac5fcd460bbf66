"""librdkafka messages to :class:`RawBatch` runs, for :mod:`streamlearn.kafka.consumer`.

``consume()`` results become one batch with no Python bytecode per message
where it can be helped; batches are cut into runs of one partition each and
joined again with slices, not gathers.
"""

from __future__ import annotations

import gc
import itertools
import time
from typing import Any

import numpy as np

from streamlearn.errors import MissingExtraError, SourceError
from streamlearn.records.batch import RawBatch

try:
    from confluent_kafka import KafkaError, KafkaException, Message
except ImportError as exc:  # pragma: no cover - depends on the install
    raise MissingExtraError("Kafka", "kafka") from exc

__all__ = ["consume_batch", "peek_messages", "split_runs"]

# unbound C methods: ``map(_VALUE, msgs)`` costs no Python bytecode per message
_VALUE = Message.value
_OFFSET = Message.offset
_PARTITION = Message.partition
_KEY = Message.key
_ERROR = Message.error
_TIMESTAMP = Message.timestamp


def consume_batch(
    consumer: Any,
    n: int,
    timeout_s: float,
    topic: str,
    bootstrap: str,
    single: int | None,
    timestamps: bool = False,
) -> RawBatch | None:
    """Up to ``n`` messages as a batch, or None when none came in time.

    ``single`` is the partition when the topic has only one: no per-message
    partition look-up then. With ``timestamps`` the batch carries each
    message's timestamp (milliseconds).
    """
    # consume() allocates one GC-tracked Message per record; collections
    # triggered by them would cost more than the whole read, so the
    # collector rests until the messages are freed again
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        msgs = consumer.consume(n, timeout_s)
        if msgs and any(map(_ERROR, msgs)):
            msgs = _without_eof(msgs, topic, bootstrap)
        if not msgs:
            return None
        count = len(msgs)
        payloads: list[Any] = list(map(_VALUE, msgs))
        if payloads.count(None):  # tombstones: empty payloads, dead-lettered downstream
            payloads = [b"" if v is None else v for v in payloads]
        offsets = np.fromiter(map(_OFFSET, msgs), dtype=np.int64, count=count)
        if single is not None:
            partitions = np.full(count, single, dtype=np.int32)
        else:
            partitions = np.fromiter(map(_PARTITION, msgs), dtype=np.int32, count=count)
        keys: list[bytes | None] | None = list(map(_KEY, msgs))
        if keys is not None and keys.count(None) == count:
            keys = None
        stamps = None
        if timestamps:  # (type, milliseconds) pairs
            stamps = np.fromiter((t[1] for t in map(_TIMESTAMP, msgs)), np.int64, count=count)
        del msgs
    except KafkaException as exc:
        raise SourceError(f"reading '{topic}' on {bootstrap}: {exc.args[0].str()}") from None
    finally:
        if was_enabled:
            gc.enable()
    return RawBatch(topic, payloads, partitions, offsets, keys, timestamps=stamps)


def _without_eof(msgs: list[Any], topic: str, bootstrap: str) -> list[Any]:
    out = []
    for m in msgs:
        err = m.error()
        if err is None:
            out.append(m)
        elif err.code() != KafkaError._PARTITION_EOF:
            where = f"'{m.topic()}' [{m.partition()}]" if m.topic() else f"'{topic}'"
            raise SourceError(f"reading {where} on {bootstrap}: {err.str()}")
    return out


def split_runs(batch: RawBatch, single: int | None) -> list[tuple[int, RawBatch]]:
    """The batch as runs of one partition each, order kept.

    librdkafka hands out whole message sets, so runs are long and cutting
    them is a few slices, not a gather per record.
    """
    if not len(batch):
        return []
    if single is not None:
        return [(single, batch)]
    parts = batch.partitions
    edges = [0, *(np.flatnonzero(parts[1:] != parts[:-1]) + 1).tolist(), len(parts)]
    return [(int(parts[a]), batch.slice(a, b)) for a, b in itertools.pairwise(edges)]


def peek_messages(
    conf: dict[str, Any],
    topic: str,
    start: dict[int, int],
    ends: dict[int, int],
    n: int,
    timeout_s: float,
) -> list[bytes]:
    """Up to ``n`` payloads from ``start``, shared among the partitions, by a consumer of their own.

    Stops at ``ends`` and waits at most ``timeout_s``; nobody's position moves.
    """
    from confluent_kafka import Consumer, TopicPartition

    todo = {p: min(ends.get(p, s), s + n) for p, s in start.items() if ends.get(p, s) > s}
    if not todo:
        return []
    share = max(1, n // len(todo))
    probe = Consumer(conf)
    out: dict[int, list[bytes]] = {p: [] for p in todo}
    try:
        probe.assign([TopicPartition(topic, p, start[p]) for p in sorted(todo)])
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and any(
            len(out[p]) < min(share, todo[p] - start[p]) for p in todo
        ):
            for m in probe.consume(1000, 0.1):
                p = m.partition()
                if m.error() is None and p in out and len(out[p]) < share:
                    out[p].append(m.value() or b"")
    finally:
        probe.close()
    return [v for p in sorted(out) for v in out[p]][:n]
